// The message store's configuration: a subset of broker.conf keys with Apache RocketMQ 4.9's names
// and defaults (storage doc §12.10). The broker's BrokerConfig is structurally assignable to it.

import os from "node:os";
import path from "node:path";

export type FlushDiskType = "ASYNC_FLUSH" | "SYNC_FLUSH";
export type BrokerRole = "ASYNC_MASTER" | "SYNC_MASTER" | "SLAVE";

export interface StoreConfig {
  storePathRootDir: string;
  /** Commit-log directory; `<storePathRootDir>/commitlog` when absent or empty. */
  storePathCommitLog?: string;
  /** Bytes per commit-log segment. */
  mappedFileSizeCommitLog: number;
  /** Bytes per consume-queue segment (a multiple of the 20-byte entry). */
  mappedFileSizeConsumeQueue: number;
  flushDiskType: FlushDiskType;
  /** ms between async commit-log flushes. */
  flushIntervalCommitLog: number;
  /** Dirty 4 KiB pages needed before an async flush writes. */
  flushCommitLogLeastPages: number;
  /** ms after which an async flush writes everything, however little is dirty. */
  flushCommitLogThoroughInterval: number;
  /** ms a SYNC_FLUSH put waits for its fsync before answering FLUSH_DISK_TIMEOUT. */
  syncFlushTimeout: number;
  /** Largest message body (whole batch body for a batch), bytes. */
  maxMessageSize: number;
  flushIntervalConsumeQueue: number;
  flushConsumeQueueLeastPages: number;
  flushConsumeQueueThoroughInterval: number;
  /** Hours a segment is kept after its last write. */
  fileReservedTime: number;
  /** Hours of the day (`;`-separated) when expired files are deleted. */
  deleteWhen: string;
  /** Percent of the disk the store may fill before it cleans forcibly. */
  diskMaxUsedSpaceRatio: number;
  cleanResourceInterval: number;
  deleteCommitLogFilesInterval: number;
  destroyMapedFileIntervalForcibly: number;
  maxHashSlotNum: number;
  maxIndexNum: number;
  messageIndexEnable: boolean;
  messageIndexSafe: boolean;
  maxTransferCountOnMessageInMemory: number;
  maxTransferBytesOnMessageInMemory: number;
  accessMessageInMemoryMaxRatio: number;
  brokerRole: BrokerRole;
  messageDelayLevel: string;
  /** Verify body CRCs while recovering the commit log (Java `checkCRCOnRecover`). */
  checkCRCOnRecover?: boolean;
}

export const DEFAULT_STORE_CONFIG: StoreConfig = {
  storePathRootDir: path.join(os.homedir(), "store"),
  mappedFileSizeCommitLog: 1_073_741_824,
  mappedFileSizeConsumeQueue: 300_000 * 20,
  flushDiskType: "ASYNC_FLUSH",
  flushIntervalCommitLog: 500,
  flushCommitLogLeastPages: 4,
  flushCommitLogThoroughInterval: 10_000,
  syncFlushTimeout: 5_000,
  maxMessageSize: 4_194_304,
  flushIntervalConsumeQueue: 1_000,
  flushConsumeQueueLeastPages: 2,
  flushConsumeQueueThoroughInterval: 60_000,
  fileReservedTime: 72,
  deleteWhen: "04",
  diskMaxUsedSpaceRatio: 75,
  cleanResourceInterval: 10_000,
  deleteCommitLogFilesInterval: 100,
  destroyMapedFileIntervalForcibly: 120_000,
  maxHashSlotNum: 5_000_000,
  maxIndexNum: 20_000_000,
  messageIndexEnable: true,
  messageIndexSafe: false,
  maxTransferCountOnMessageInMemory: 32,
  maxTransferBytesOnMessageInMemory: 262_144,
  accessMessageInMemoryMaxRatio: 40,
  brokerRole: "ASYNC_MASTER",
  messageDelayLevel: "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h",
  checkCRCOnRecover: true,
};

/** The commit-log directory a config names (storage doc §1). Multi-directory lists are not supported. */
export function commitLogDir(config: StoreConfig): string {
  const configured = config.storePathCommitLog?.trim();
  return configured ? configured : path.join(config.storePathRootDir, "commitlog");
}

/** `<root>/checkpoint`, `<root>/abort`, `<root>/lock` (storage doc §1, §6). */
export function checkpointPath(config: StoreConfig): string {
  return path.join(config.storePathRootDir, "checkpoint");
}
export function abortFilePath(config: StoreConfig): string {
  return path.join(config.storePathRootDir, "abort");
}
export function lockFilePath(config: StoreConfig): string {
  return path.join(config.storePathRootDir, "lock");
}
