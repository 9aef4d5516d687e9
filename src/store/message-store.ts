// The message store facade the broker uses (DefaultMessageStore): load and recovery, the
// per-queue offset table, put (append + dispatch + flush wait), pull reads with RocketMQ's
// statuses (storage doc §12.4), lookups by offset, time and key, cleanup and runtime info.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseDelayLevels } from "../common/delay-levels.ts";
import { andThen, type MaybePromise } from "../common/maybe-promise.ts";
import { Prop, SysFlag, propertiesToString, transactionType, type MessageExt, type MessageInner } from "../common/message.ts";
import { RecordPos, decodeRecord, getInt64, storeTimestampPos, type MessageBatch } from "../common/message-codec.ts";
import { SystemTopic } from "../common/topic.ts";
import { storeSubPath } from "../common/store-path.ts";
import { createLogger } from "../log.ts";
import { StoreCheckpoint, StoreLock, abortFileExists, createAbortFile, removeAbortFile } from "./checkpoint.ts";
import { CleanupService } from "./cleanup.ts";
import { CommitLog } from "./commit-log.ts";
import { CQ_STORE_UNIT_SIZE_BYTES, ConsumeQueue } from "./consume-queue.ts";
import { ReputService } from "./dispatch.ts";
import { indexFileSizeBytes } from "./index-file.ts";
import { IndexService } from "./index-service.ts";
import { abortFilePath, checkpointPath, commitLogDir, lockFilePath, type StoreConfig } from "./store-config.ts";
import type {
  GetMessageResult,
  GetMessageStatus,
  MessageArrivingListener,
  MessageFilter,
  PutMessageResult,
  PutMessageStatus,
} from "./store-types.ts";

const log = createLogger("store");

/** Pull batch limits for data no longer in memory (maxTransfer*OnMessageInDisk defaults). */
export const MAX_TRANSFER_COUNT_ON_MESSAGE_IN_DISK = 8;
export const MAX_TRANSFER_BYTES_ON_MESSAGE_IN_DISK = 65_536;

/** StoreConfig plus broker.conf keys only the facade reads; absent ones take RocketMQ's defaults. */
export type MessageStoreConfig = StoreConfig &
  Partial<{
    maxTransferCountOnMessageInDisk: number;
    maxTransferBytesOnMessageInDisk: number;
  }>;
/** A pull scans at least this many consume-queue bytes for matching entries (Java 16000). */
const MIN_FILTER_SCAN_BYTES = 16_000;
/** queryMessage narrows its time window and retries at most this often (Java: 3). */
const QUERY_MESSAGE_ATTEMPTS = 3;

export interface MessageStoreOptions {
  /** Host written into records when a message has none ("ip:port"). */
  storeHost?: string;
  /** Clock for retention and store times visible via now() (tests). */
  now?: () => number;
  /** Disk usage probe (tests simulate a full disk). */
  diskUsedRatio?: (dir: string) => number;
  /**
   * The store lock, already taken by the caller (the broker, before it reads its config files
   * under the store) who also releases it. Without it load() takes the lock itself.
   */
  heldLock?: StoreLock;
}

export interface QueryMessageResult {
  messages: Uint8Array[];
  indexLastUpdateTimestamp: number;
  indexLastUpdatePhyoffset: number;
}

function putFailure(status: PutMessageStatus, remark: string): PutMessageResult {
  return { status, remark, wroteOffset: -1, wroteBytes: 0, msgId: "", queueOffset: -1, msgNum: 0, storeTimestamp: 0 };
}

/**
 * Disk space kept free beside each new commit-log segment: two consume-queue segments and, with
 * the index on, one index file, so dispatch can always allocate what the segment's records need.
 */
function segmentReserveBytes(config: StoreConfig): number {
  const indexBytes = config.messageIndexEnable ? indexFileSizeBytes(config.maxHashSlotNum, config.maxIndexNum) : 0;
  return 2 * config.mappedFileSizeConsumeQueue + indexBytes;
}

function queueKey(topic: string, queueId: number): string {
  return `${topic}-${queueId}`;
}

/** Java MixAll.humanReadableByteCount(bytes, false): "512 B", "2.1 KiB", "252.0 GiB". */
export function humanReadableBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const exp = Math.floor(Math.log(bytes) / Math.log(1024));
  return `${(bytes / 1024 ** exp).toFixed(1)} ${"KMGTPE"[exp - 1]}iB`;
}

/** Java's remainTransientStoreBufferNumbs without a transient store pool: Integer.MAX_VALUE. */
const NO_TRANSIENT_POOL_BUFFERS = 2_147_483_647;

/** "Total : x, Free : y." of the store's file system (Java commitLogDirCapacity), or undefined. */
function dirCapacity(dir: string): string | undefined {
  try {
    const s = fs.statfsSync(dir);
    return `Total : ${humanReadableBytes(s.blocks * s.bsize)}, Free : ${humanReadableBytes(s.bavail * s.bsize)}.`;
  } catch {
    return undefined; // Java leaves the key out when the directory does not exist
  }
}

function formatRuntime(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `[ ${Math.floor(s / 86_400)} days, ${Math.floor((s % 86_400) / 3600)} hours, ${Math.floor((s % 3600) / 60)} minutes, ${s % 60} seconds ]`;
}

export class MessageStore {
  readonly config: StoreConfig;
  private readonly maxTransferCountInDisk: number;
  private readonly maxTransferBytesInDisk: number;
  readonly storeHost: string | undefined;
  readonly commitLog: CommitLog;
  private readonly consumeQueueDir: string;
  private readonly queues = new Map<string, Map<number, ConsumeQueue>>();
  /** "topic-queueId" → next queue offset to assign. */
  private readonly topicQueueTable = new Map<string, number>();
  private readonly index: IndexService | undefined;
  private readonly reput: ReputService;
  private readonly cleanup: CleanupService;
  private readonly delayLevelsMs: number[];
  private readonly clock: () => number;
  private checkpoint: StoreCheckpoint | undefined;
  /** The lock this store took itself (none when the caller holds it: heldLock). */
  private lock: StoreLock | undefined;
  private readonly heldLock: StoreLock | undefined;
  private lastExitOK = true;
  /** Offset abnormal recovery started scanning from: dispatch must start at or before it. */
  private recoveryDispatchFrom = Number.POSITIVE_INFINITY;
  private lastDispatchedStoreTimestamp = 0;
  private cqFlushTimer: ReturnType<typeof setInterval> | undefined;
  private cqFlushRunning = false;
  private lastCqThoroughFlushMs = 0;
  private loaded = false;
  private running = false;
  private shutDown = false;
  private bootTimestamp = 0;
  private putTimesTotal = 0;
  private putFailedTimes = 0;
  private putSizeTotalBytes = 0;
  private readonly totalMemoryBytes = os.totalmem();

  constructor(config: MessageStoreConfig, opts: MessageStoreOptions = {}) {
    this.config = config;
    this.maxTransferCountInDisk = config.maxTransferCountOnMessageInDisk ?? MAX_TRANSFER_COUNT_ON_MESSAGE_IN_DISK;
    this.maxTransferBytesInDisk = config.maxTransferBytesOnMessageInDisk ?? MAX_TRANSFER_BYTES_ON_MESSAGE_IN_DISK;
    this.storeHost = opts.storeHost;
    this.clock = opts.now ?? Date.now;
    this.heldLock = opts.heldLock;
    this.consumeQueueDir = path.join(config.storePathRootDir, "consumequeue");
    this.delayLevelsMs = parseDelayLevels(config.messageDelayLevel);
    this.commitLog = new CommitLog(config, commitLogDir(config));
    this.index = config.messageIndexEnable ? new IndexService(config.storePathRootDir, config.maxHashSlotNum, config.maxIndexNum, this.clock) : undefined;
    this.reput = new ReputService({
      commitLog: this.commitLog.queue,
      consumeQueue: (topic, queueId) => this.findOrCreateConsumeQueue(topic, queueId),
      index: this.index,
      delayLevelsMs: this.delayLevelsMs,
      onDispatched: (ts) => {
        this.lastDispatchedStoreTimestamp = ts;
        if (config.brokerRole === "SLAVE") this.commitLog.noteReplicatedTimestamp(ts);
      },
    });
    this.cleanup = new CleanupService({
      config,
      commitLog: this.commitLog.queue,
      commitLogDir: commitLogDir(config),
      consumeQueueDir: this.consumeQueueDir,
      consumeQueues: () => this.allConsumeQueues(),
      index: this.index,
      now: this.clock,
      diskUsedRatio: opts.diskUsedRatio,
      reserveBytes: segmentReserveBytes(config),
    });
    this.commitLog.setSpaceGuard(this.cleanup);
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  /**
   * Takes the store lock, then opens every file and recovers (abnormally when the abort file says
   * the last run crashed). Nothing is read or written before the lock is held: a second process
   * on a live store must not run recovery against it.
   */
  async load(): Promise<boolean> {
    try {
      if (!this.heldLock) this.lock = StoreLock.acquire(lockFilePath(this.config));
      this.lastExitOK = !abortFileExists(abortFilePath(this.config));
      this.commitLog.load();
      this.loadConsumeQueues();
      this.checkpoint = StoreCheckpoint.open(checkpointPath(this.config));
      this.commitLog.setCheckpoint(this.checkpoint);
      if (this.index) {
        const checkpoint = this.checkpoint;
        this.index.load(this.lastExitOK, checkpoint.indexMsgTimestamp);
        this.index.onFullFileFlushed = (ts) => {
          checkpoint.indexMsgTimestamp = ts;
        };
      }
      this.recover();
      this.loaded = true;
      return true;
    } catch (err) {
      log.error("message store load failed", err);
      this.lock?.release();
      this.lock = undefined;
      return false;
    }
  }

  private loadConsumeQueues(): void {
    if (!fs.existsSync(this.consumeQueueDir)) return;
    for (const topic of fs.readdirSync(this.consumeQueueDir)) {
      const topicDir = path.join(this.consumeQueueDir, topic);
      if (!fs.statSync(topicDir).isDirectory()) continue;
      for (const qid of fs.readdirSync(topicDir)) {
        if (!/^\d+$/.test(qid)) continue; // Java skips non-numeric queue directories
        const cq = new ConsumeQueue(this.consumeQueueDir, topic, Number(qid), this.config.mappedFileSizeConsumeQueue);
        cq.load();
        this.putQueue(cq);
      }
    }
  }

  private recover(): void {
    let maxPhyOffsetOfConsumeQueue = -1;
    for (const cq of this.allConsumeQueues()) {
      cq.recover();
      maxPhyOffsetOfConsumeQueue = Math.max(maxPhyOffsetOfConsumeQueue, cq.maxPhysicOffset);
    }
    let stopOffset: number;
    if (this.lastExitOK) {
      stopOffset = this.commitLog.recoverNormally();
    } else {
      const indexSafe = this.config.messageIndexEnable && this.config.messageIndexSafe;
      const minTs = this.checkpoint!.minTimestamp(indexSafe);
      stopOffset = this.commitLog.recoverAbnormally(minTs, (_record, physicalOffset) => {
        if (physicalOffset < this.recoveryDispatchFrom) this.recoveryDispatchFrom = physicalOffset;
      });
      log.warn(`last run did not shut down cleanly; recovered the commit log to ${stopOffset}`);
    }
    if (this.commitLog.queue.files.length === 0) {
      for (const cq of this.allConsumeQueues()) cq.destroy();
      this.queues.clear();
    } else if (maxPhyOffsetOfConsumeQueue >= stopOffset) {
      if (maxPhyOffsetOfConsumeQueue > stopOffset) log.warn(`consume queues point past the commit log end ${stopOffset}; truncating them`);
      for (const cq of this.allConsumeQueues()) cq.truncateDirtyLogicFiles(stopOffset);
    }
    this.recoverTopicQueueTable();
  }

  /** Rebuilds "topic-queueId" → max offset and corrects each queue's minimum to the commit log's. */
  private recoverTopicQueueTable(): void {
    this.topicQueueTable.clear();
    const minPhy = this.commitLog.getMinOffset();
    for (const cq of this.allConsumeQueues()) {
      this.topicQueueTable.set(queueKey(cq.topic, cq.queueId), cq.getMaxOffsetInQueue());
      cq.correctMinOffset(minPhy);
    }
  }

  /** Dispatches what recovery left undispatched, then starts flush, dispatch and cleanup services. */
  async start(): Promise<void> {
    if (!this.loaded) throw new Error("message store: start() before a successful load()");
    if (this.running) return;
    let from = 0;
    for (const cq of this.allConsumeQueues()) from = Math.max(from, cq.maxPhysicOffset);
    from = Math.min(from, this.recoveryDispatchFrom);
    this.reput.reputFromOffset = Math.max(from, this.commitLog.getMinOffset());
    this.reput.dispatchAll();
    this.recoverTopicQueueTable();
    this.commitLog.start();
    this.reput.start();
    this.lastCqThoroughFlushMs = performance.now();
    this.cqFlushTimer = setInterval(() => void this.flushConsumeQueues(false), this.config.flushIntervalConsumeQueue);
    createAbortFile(abortFilePath(this.config));
    this.cleanup.start();
    this.bootTimestamp = this.clock();
    this.running = true;
  }

  /** Flushes everything, writes the checkpoint, removes the abort file (clean exit). */
  async shutdown(): Promise<void> {
    if (this.shutDown) return;
    this.shutDown = true;
    this.cleanup.stop();
    this.reput.stop();
    if (this.cqFlushTimer) clearInterval(this.cqFlushTimer);
    const wasRunning = this.running;
    this.running = false;
    if (this.loaded) {
      if (wasRunning) this.reput.dispatchAll();
      const caughtUp = this.reput.behindBytes() === 0;
      await this.commitLog.shutdown();
      await this.flushConsumeQueues(true);
      // A failed index fsync must not stop the shutdown: the index is rebuilt from the commit log.
      if (this.index) await this.index.flush().catch((err) => log.error("index flush failed at shutdown", err));
      for (const cq of this.allConsumeQueues()) cq.files.close();
      this.index?.close();
      this.checkpoint?.close();
      // A read-only log (failed fsync) leaves the abort file: the next start recovers with CRC checks.
      if (wasRunning && caughtUp && !this.commitLog.readOnlyReason) removeAbortFile(abortFilePath(this.config));
    }
    this.lock?.release();
    this.lock = undefined;
  }

  /** Flushes consume queues; a thorough flush (everything, every 60 s) also writes the checkpoint. */
  private async flushConsumeQueues(forceThorough: boolean): Promise<void> {
    if (this.cqFlushRunning && !forceThorough) return;
    this.cqFlushRunning = true;
    try {
      const now = performance.now();
      const thorough = forceThorough || now - this.lastCqThoroughFlushMs >= this.config.flushConsumeQueueThoroughInterval;
      if (thorough) this.lastCqThoroughFlushMs = now;
      const logicsTs = this.lastDispatchedStoreTimestamp;
      const leastPages = thorough ? 0 : this.config.flushConsumeQueueLeastPages;
      for (const cq of this.allConsumeQueues()) await cq.flush(leastPages);
      if (thorough && this.checkpoint) {
        if (logicsTs > 0) this.checkpoint.logicsMsgTimestamp = logicsTs;
        await this.checkpoint.flush();
      }
    } catch (err) {
      log.error("consume queue flush failed", err);
    } finally {
      this.cqFlushRunning = false;
    }
  }

  // ---- consume queues ------------------------------------------------------------------------

  private putQueue(cq: ConsumeQueue): void {
    let byId = this.queues.get(cq.topic);
    if (!byId) {
      byId = new Map();
      this.queues.set(cq.topic, byId);
    }
    byId.set(cq.queueId, cq);
  }

  /** The consume queue of topic/queueId, if it exists (schedule delivery, admin tools, tests). */
  getConsumeQueue(topic: string, queueId: number): ConsumeQueue | undefined {
    return this.queues.get(topic)?.get(queueId);
  }

  private findOrCreateConsumeQueue(topic: string, queueId: number): ConsumeQueue {
    const existing = this.getConsumeQueue(topic, queueId);
    if (existing) return existing;
    const cq = new ConsumeQueue(this.consumeQueueDir, topic, queueId, this.config.mappedFileSizeConsumeQueue);
    this.putQueue(cq);
    return cq;
  }

  private *allConsumeQueues(): Generator<ConsumeQueue> {
    for (const byId of this.queues.values()) yield* byId.values();
  }

  private assignQueueOffset = (topic: string, queueId: number, count: number): number => {
    const key = queueKey(topic, queueId);
    const current = this.topicQueueTable.get(key) ?? 0;
    this.topicQueueTable.set(key, current + count);
    return current;
  };

  // ---- put -----------------------------------------------------------------------------------

  /** Why puts are refused right now, or undefined when the store accepts them. */
  notWritableReason(): string | undefined {
    if (this.shutDown) return "message store has shut down";
    if (!this.running) return "message store is not started";
    if (this.config.brokerRole === "SLAVE") return "message store is in slave mode: writes go to the master";
    return this.commitLog.readOnlyReason ?? this.cleanup.notWritableReason;
  }

  /**
   * A delayed message (DELAY > 0, not a prepared/rollback record) is stored in SCHEDULE_TOPIC_XXXX
   * queue level-1 with its real topic/queue in REAL_TOPIC/REAL_QID (storage doc §3.4 step 2).
   */
  private applyDelay(msg: MessageInner): MessageInner {
    const tran = transactionType(msg.sysFlag);
    if (tran !== SysFlag.TRANSACTION_NOT_TYPE && tran !== SysFlag.TRANSACTION_COMMIT_TYPE) return msg;
    if (msg.topic === SystemTopic.SCHEDULE) return msg;
    const delay = msg.properties[Prop.DELAY];
    if (delay === undefined) return msg;
    let level = Number.parseInt(delay, 10);
    if (!(level > 0)) return msg;
    if (level > this.delayLevelsMs.length) level = this.delayLevelsMs.length;
    if (level <= 0) return msg;
    const properties = { ...msg.properties, [Prop.DELAY]: String(level), [Prop.REAL_TOPIC]: msg.topic, [Prop.REAL_QID]: String(msg.queueId) };
    return { ...msg, topic: SystemTopic.SCHEDULE, queueId: level - 1, properties, propertiesString: propertiesToString(properties) };
  }

  private withStoreHost(msg: MessageInner): MessageInner {
    return msg.storeHost || !this.storeHost ? msg : { ...msg, storeHost: this.storeHost };
  }

  /**
   * Appends one message, makes it visible to pulls at once, and waits per flushDiskType (the
   * result is ready at once when there is nothing to wait for).
   */
  putMessage(msg: MessageInner): MaybePromise<PutMessageResult> {
    const reason = this.notWritableReason();
    if (reason) return this.countPut(putFailure("SERVICE_NOT_AVAILABLE", reason));
    const stored = this.applyDelay(this.withStoreHost(msg));
    const pending = this.commitLog.putMessage(stored, this.assignQueueOffset);
    // The append happened synchronously inside putMessage: dispatch it now, before the flush wait.
    this.reput.dispatchAvailable();
    return andThen(pending, this.countPut);
  }

  /** Appends a batch (one topic/queue, no transaction bits, no delay) as consecutive records. */
  putMessages(batch: MessageBatch): MaybePromise<PutMessageResult> {
    const reason = this.notWritableReason();
    if (reason) return this.countPut(putFailure("SERVICE_NOT_AVAILABLE", reason));
    const stored = batch.storeHost || !this.storeHost ? batch : { ...batch, storeHost: this.storeHost };
    const pending = this.commitLog.putMessages(stored, this.assignQueueOffset);
    this.reput.dispatchAvailable();
    return andThen(pending, this.countPut);
  }

  private readonly countPut = (result: PutMessageResult): PutMessageResult => {
    this.putTimesTotal += Math.max(1, result.msgNum);
    if (result.status !== "PUT_OK") this.putFailedTimes++;
    else this.putSizeTotalBytes += result.wroteBytes;
    return result;
  };

  // ---- get -----------------------------------------------------------------------------------

  /** True when the record at `offsetPy` is older than the in-memory window (storage doc §12.4). */
  private isInDisk(offsetPy: number, maxOffsetPy: number): boolean {
    return maxOffsetPy - offsetPy > this.totalMemoryBytes * (this.config.accessMessageInMemoryMaxRatio / 100);
  }

  /** QUERY_CONSUMER_OFFSET "hot data" rule: is the message at this queue offset out of memory? */
  checkInDiskByConsumeOffset(topic: string, queueId: number, consumeOffset: number): boolean {
    const entry = this.getConsumeQueue(topic, queueId)?.getEntry(consumeOffset);
    if (!entry) return false;
    return this.isInDisk(entry.commitLogOffset, this.commitLog.getMaxOffset());
  }

  private isTheBatchFull(sizePy: number, maxMsgNums: number, bufferTotal: number, messageTotal: number, inDisk: boolean): boolean {
    if (bufferTotal === 0 || messageTotal === 0) return false;
    if (maxMsgNums <= messageTotal) return true;
    if (inDisk) {
      return bufferTotal + sizePy > this.maxTransferBytesInDisk || messageTotal > this.maxTransferCountInDisk - 1;
    }
    return bufferTotal + sizePy > this.config.maxTransferBytesOnMessageInMemory || messageTotal > this.config.maxTransferCountOnMessageInMemory - 1;
  }

  /** Slaves (offsetCheckInSlave=false) never move a consumer's offset. */
  private nextOffsetCorrection(oldOffset: number, newOffset: number): number {
    return this.config.brokerRole === "SLAVE" ? oldOffset : newOffset;
  }

  /** Reads up to `maxMsgNums` messages from `offset` (storage doc §12.4 statuses and nextBeginOffset). */
  getMessage(_group: string, topic: string, queueId: number, offset: number, maxMsgNums: number, filter?: MessageFilter): GetMessageResult {
    const result: GetMessageResult = {
      status: "NO_MESSAGE_IN_QUEUE",
      nextBeginOffset: offset,
      minOffset: 0,
      maxOffset: 0,
      messages: [],
      bufferTotalSizeBytes: 0,
      suggestPullingFromSlave: false,
    };
    const cq = this.getConsumeQueue(topic, queueId);
    if (!cq) {
      result.status = "NO_MATCHED_LOGIC_QUEUE";
      result.nextBeginOffset = this.nextOffsetCorrection(offset, 0);
      return result;
    }
    const minOffset = cq.getMinOffsetInQueue();
    const maxOffset = cq.getMaxOffsetInQueue();
    result.minOffset = minOffset;
    result.maxOffset = maxOffset;
    if (maxOffset === 0) {
      result.status = "NO_MESSAGE_IN_QUEUE";
      result.nextBeginOffset = this.nextOffsetCorrection(offset, 0);
    } else if (offset < minOffset) {
      result.status = "OFFSET_TOO_SMALL";
      result.nextBeginOffset = this.nextOffsetCorrection(offset, minOffset);
    } else if (offset === maxOffset) {
      result.status = "OFFSET_OVERFLOW_ONE";
      result.nextBeginOffset = this.nextOffsetCorrection(offset, offset);
    } else if (offset > maxOffset) {
      result.status = "OFFSET_OVERFLOW_BADLY";
      result.nextBeginOffset = this.nextOffsetCorrection(offset, maxOffset);
    } else {
      const region = cq.getEntries(offset);
      if (!region) {
        result.status = "OFFSET_FOUND_NULL";
        result.nextBeginOffset = this.nextOffsetCorrection(offset, cq.rollNextFile(offset));
      } else {
        this.scanEntries(result, region.view, region.pos, region.end, offset, maxMsgNums, filter);
      }
    }
    return result;
  }

  private scanEntries(result: GetMessageResult, view: DataView, pos: number, end: number, offset: number, maxMsgNums: number, filter: MessageFilter | undefined): void {
    const maxOffsetPy = this.commitLog.getMaxOffset();
    const scanLimitBytes = Math.max(MIN_FILTER_SCAN_BYTES, maxMsgNums * CQ_STORE_UNIT_SIZE_BYTES);
    let status: GetMessageStatus = "NO_MATCHED_MESSAGE";
    let nextPhyFileStartOffset = Number.NEGATIVE_INFINITY;
    let maxPhyOffsetPulling = 0;
    let i = 0;
    for (; pos + i < end && i < scanLimitBytes; i += CQ_STORE_UNIT_SIZE_BYTES) {
      const at = pos + i;
      const offsetPy = getInt64(view, at);
      const sizePy = view.getInt32(at + 8);
      const tagsCode = getInt64(view, at + 12);
      maxPhyOffsetPulling = offsetPy;
      if (offsetPy < nextPhyFileStartOffset) continue;
      const inDisk = this.isInDisk(offsetPy, maxOffsetPy);
      if (this.isTheBatchFull(sizePy, maxMsgNums, result.bufferTotalSizeBytes, result.messages.length, inDisk)) break;
      if (filter && !filter(tagsCode)) {
        if (result.bufferTotalSizeBytes === 0) status = "NO_MATCHED_MESSAGE";
        continue;
      }
      const record = this.commitLog.readRecord(offsetPy, sizePy);
      if (!record) {
        if (result.bufferTotalSizeBytes === 0) status = "MESSAGE_WAS_REMOVING";
        nextPhyFileStartOffset = this.commitLog.rollNextFile(offsetPy);
        continue;
      }
      result.messages.push(record);
      result.bufferTotalSizeBytes += record.byteLength;
      status = "FOUND";
      nextPhyFileStartOffset = Number.NEGATIVE_INFINITY;
    }
    result.status = status;
    result.nextBeginOffset = offset + i / CQ_STORE_UNIT_SIZE_BYTES;
    result.suggestPullingFromSlave = this.isInDisk(maxPhyOffsetPulling, maxOffsetPy);
  }

  // ---- offsets and lookups -------------------------------------------------------------------

  /** Next offset to be assigned in the queue (0 when the queue does not exist). */
  getMaxOffsetInQueue(topic: string, queueId: number): number {
    return this.getConsumeQueue(topic, queueId)?.getMaxOffsetInQueue() ?? 0;
  }

  /** First readable offset (-1 when the queue does not exist, as Java). */
  getMinOffsetInQueue(topic: string, queueId: number): number {
    return this.getConsumeQueue(topic, queueId)?.getMinOffsetInQueue() ?? -1;
  }

  /** The consume-queue entry at an offset (delayed-message delivery reads tagsCode = delivery time). */
  getConsumeQueueEntry(topic: string, queueId: number, consumeQueueOffset: number): { commitLogOffset: number; sizeBytes: number; tagsCode: number } | undefined {
    return this.getConsumeQueue(topic, queueId)?.getEntry(consumeQueueOffset);
  }

  getCommitLogOffsetInQueue(topic: string, queueId: number, consumeQueueOffset: number): number {
    return this.getConsumeQueueEntry(topic, queueId, consumeQueueOffset)?.commitLogOffset ?? 0;
  }

  /** Store time of the record at a commit-log offset; -1 when unreadable or below the minimum. */
  private pickupStoreTimestamp = (offset: number, sizeBytes: number): number => {
    if (offset < this.commitLog.getMinOffset()) return -1;
    const record = this.commitLog.readRecord(offset, sizeBytes);
    if (!record) return -1;
    const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
    return getInt64(view, storeTimestampPos(view.getInt32(RecordPos.SYSFLAG)));
  };

  getOffsetInQueueByTime(topic: string, queueId: number, timestampMs: number): number {
    const cq = this.getConsumeQueue(topic, queueId);
    if (!cq) return 0;
    return cq.getOffsetInQueueByTime(timestampMs, this.commitLog.getMinOffset(), this.pickupStoreTimestamp);
  }

  getMessageStoreTimeStamp(topic: string, queueId: number, consumeQueueOffset: number): number {
    const entry = this.getConsumeQueueEntry(topic, queueId, consumeQueueOffset);
    return entry ? this.pickupStoreTimestamp(entry.commitLogOffset, entry.sizeBytes) : -1;
  }

  getEarliestMessageTime(topic: string, queueId: number): number {
    const cq = this.getConsumeQueue(topic, queueId);
    if (!cq) return -1;
    return this.getMessageStoreTimeStamp(topic, queueId, cq.getMinOffsetInQueue());
  }

  /** The decoded message at a commit-log offset (body included). */
  lookMessageByOffset(commitLogOffset: number): MessageExt | undefined {
    const record = this.commitLog.readRecord(commitLogOffset);
    if (!record) return undefined;
    try {
      return decodeRecord(record, true);
    } catch {
      return undefined;
    }
  }

  /** The raw stored record at a commit-log offset (a view into the mapping). */
  selectOneMessageByOffset(commitLogOffset: number): Uint8Array | undefined {
    return this.commitLog.readRecord(commitLogOffset);
  }

  /**
   * Messages indexed under `key` (UNIQ_KEY or a KEYS token) stored within [begin, end], sorted by
   * offset. Hash collisions are possible: callers compare keys.
   */
  queryMessage(topic: string, key: string, maxNum: number, beginTimestampMs: number, endTimestampMs: number): QueryMessageResult {
    const out: QueryMessageResult = { messages: [], indexLastUpdateTimestamp: 0, indexLastUpdatePhyoffset: 0 };
    if (!this.index) return out;
    let lastQueryMsgTime = endTimestampMs;
    for (let attempt = 0; attempt < QUERY_MESSAGE_ATTEMPTS; attempt++) {
      const r = this.index.queryOffset(topic, key, maxNum, beginTimestampMs, lastQueryMsgTime);
      if (r.phyOffsets.length === 0) break;
      r.phyOffsets.sort((a, b) => a - b);
      out.indexLastUpdatePhyoffset = r.indexLastUpdatePhyoffset;
      out.indexLastUpdateTimestamp = r.indexLastUpdateTimestamp;
      for (let m = 0; m < r.phyOffsets.length; m++) {
        const record = this.commitLog.readRecord(r.phyOffsets[m]!);
        if (!record) continue;
        if (m === 0) {
          const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
          lastQueryMsgTime = getInt64(view, storeTimestampPos(view.getInt32(RecordPos.SYSFLAG)));
        }
        out.messages.push(record);
      }
      if (out.messages.length > 0 || lastQueryMsgTime < beginTimestampMs) break;
    }
    return out;
  }

  // ---- topics --------------------------------------------------------------------------------

  /** Deletes the consume queues (files) and offset-table entries of these topics. */
  deleteTopics(topics: Set<string>): void {
    for (const topic of topics) {
      const byId = this.queues.get(topic);
      if (!byId) continue;
      for (const cq of byId.values()) {
        cq.destroy();
        this.topicQueueTable.delete(queueKey(topic, cq.queueId));
      }
      this.queues.delete(topic);
      fs.rmSync(storeSubPath(this.consumeQueueDir, topic), { recursive: true, force: true });
    }
  }

  /**
   * CLEAN_EXPIRED_CONSUMEQUEUE (Java cleanExpiredConsumerQueue): destroys every queue whose last
   * entry ends below the commit log's first byte, since all it indexes is gone; the schedule
   * topic's queues are kept (their offsets drive delay delivery). Returns the queues destroyed.
   */
  cleanExpiredConsumeQueues(): number {
    const minPhyOffset = this.commitLog.getMinOffset();
    let destroyed = 0;
    for (const [topic, byId] of this.queues) {
      if (topic === SystemTopic.SCHEDULE) continue;
      for (const [queueId, cq] of byId) {
        // -1: nothing written yet (a queue created just now), not expired.
        if (cq.maxPhysicOffset === -1 || cq.maxPhysicOffset >= minPhyOffset) continue;
        cq.destroy();
        fs.rmSync(cq.dir, { recursive: true, force: true });
        byId.delete(queueId);
        this.topicQueueTable.delete(queueKey(topic, queueId));
        destroyed++;
      }
      if (byId.size === 0) this.queues.delete(topic);
    }
    return destroyed;
  }

  /** Deletes the queues of every topic not in `keep` (system schedule / op-half topics are kept). */
  cleanUnusedTopic(keep: Set<string>): void {
    const unused = new Set<string>();
    for (const topic of this.queues.keys()) {
      if (!keep.has(topic) && topic !== SystemTopic.SCHEDULE && topic !== SystemTopic.TRANS_OP_HALF) unused.add(topic);
    }
    this.deleteTopics(unused);
  }

  // ---- maintenance and info ------------------------------------------------------------------

  /** One retention round now (DELETE_EXPIRED_COMMITLOG, tests). */
  runCleanup(manual = false): { commitLogFilesDeleted: number; consumeQueueFilesDeleted: number; indexFilesDeleted: number } {
    if (manual) this.cleanup.requestManualDelete();
    return this.cleanup.runOnce();
  }

  // ---- HA (added for src/store/ha; Java DefaultMessageStore.getCommitLogData / appendToCommitLog) --

  /** Master replication: a view of the written bytes from `offset` to the end of its segment's data. */
  getCommitLogData(offset: number): Uint8Array | undefined {
    if (this.shutDown) return undefined;
    return this.commitLog.readRegion(offset);
  }

  /** Slave replication: writes the master's bytes at `startOffset`, then dispatches the complete records. */
  appendToCommitLog(startOffset: number, bytes: Uint8Array): boolean {
    if (this.shutDown || !this.running) return false;
    if (!this.commitLog.appendData(startOffset, bytes)) return false;
    this.reput.dispatchAvailable();
    return true;
  }

  /** Dispatches whatever the commit log holds beyond the last dispatched offset. */
  dispatchPending(): void {
    this.reput.dispatchAll();
  }

  setMessageArrivingListener(listener: MessageArrivingListener): void {
    this.reput.setMessageArrivingListener(listener);
  }

  getMaxPhyOffset(): number {
    return this.commitLog.getMaxOffset();
  }

  /** Commit-log offset below which everything is fsynced. */
  getFlushedPhyOffset(): number {
    return this.commitLog.getFlushedWhere();
  }

  getMinPhyOffset(): number {
    return this.commitLog.getMinOffset();
  }

  dispatchBehindBytes(): number {
    return this.reput.behindBytes();
  }

  now(): number {
    return this.clock();
  }

  /** Messages put since start, failed puts included (Java putMessageTimesTotal). */
  get putMessageTimesTotal(): number {
    return this.putTimesTotal;
  }

  /** GET_BROKER_RUNTIME_INFO store keys (Java DefaultMessageStore.getRuntimeInfo). */
  getRuntimeInfo(): Record<string, string> {
    const disk = this.cleanup.checkDisk();
    const now = this.clock();
    const capacity = dirCapacity(this.config.storePathRootDir);
    return {
      bootTimestamp: String(this.bootTimestamp),
      runtime: formatRuntime(this.bootTimestamp > 0 ? now - this.bootTimestamp : 0),
      putMessageTimesTotal: String(this.putTimesTotal),
      putMessageFailedTimes: String(this.putFailedTimes),
      putMessageSizeTotal: String(this.putSizeTotalBytes),
      putMessageAverageSize: String(this.putTimesTotal > 0 ? this.putSizeTotalBytes / this.putTimesTotal : 0),
      dispatchBehindBytes: String(this.reput.behindBytes()),
      // tsmq: records dispatch could not turn into queue entries (logged each; not a Java key).
      dispatchSkippedRecords: String(this.reput.skippedRecords),
      [`commitLogDiskRatio_${commitLogDir(this.config)}`]: String(disk.physicRatio),
      commitLogDiskRatio: String(disk.physicRatio),
      consumeQueueDiskRatio: String(disk.logicsRatio),
      commitLogMinOffset: String(this.getMinPhyOffset()),
      commitLogMaxOffset: String(this.getMaxPhyOffset()),
      // The dispatcher reads records in place: no reput buffer grows (Java's high-water mark of it).
      dispatchMaxBuffer: "0",
      remainTransientStoreBufferNumbs: String(NO_TRANSIENT_POOL_BUFFERS),
      remainHowManyDataToFlush: humanReadableBytes(Math.max(0, this.getMaxPhyOffset() - this.getFlushedPhyOffset())),
      ...(capacity === undefined ? {} : { commitLogDirCapacity: capacity }),
    };
  }
}
