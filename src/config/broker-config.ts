// Broker configuration: the broker.conf keys of Apache RocketMQ 4.9 (BrokerConfig,
// NettyServerConfig, MessageStoreConfig) with their Java types and defaults (storage doc §12.10).
// Keys keep RocketMQ's names, units included (`...Mills` = ms, `...Interval` = ms unless noted).

import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { BROKER_DEFAULT_PORT } from "../common/limits.ts";
import { type Properties } from "./properties.ts";
import { localHostName, localIPv4Address } from "./host.ts";
import {
  buildConfig,
  javaBoolean,
  javaEnum,
  javaInt,
  javaLong,
  javaString,
  readPropertiesFile,
  type ConfigInput,
  type ConfigLoadResult,
} from "./java-types.ts";

export const BROKER_ROLES = ["ASYNC_MASTER", "SYNC_MASTER", "SLAVE"] as const;
export const FLUSH_DISK_TYPES = ["ASYNC_FLUSH", "SYNC_FLUSH"] as const;

/** Defaults that depend on the machine are computed when the schema is built. */
function brokerConfigSchema() {
  const localIp = localIPv4Address();
  return z.object({
    rocketmqHome: javaString(process.env.ROCKETMQ_HOME ?? ""),

    // Identity and network.
    brokerClusterName: javaString("DefaultCluster"),
    brokerName: javaString(localHostName()),
    brokerId: javaLong(0),
    brokerIP1: javaString(localIp),
    /** HA address advertised to slaves; empty = brokerIP1. */
    brokerIP2: javaString(""),
    listenPort: javaInt(BROKER_DEFAULT_PORT),
    namesrvAddr: javaString(process.env.NAMESRV_ADDR ?? ""),
    fetchNamesrvAddrByAddressServer: javaBoolean(false),
    registerNameServerPeriod: javaInt(30_000),
    registerBrokerTimeoutMills: javaInt(6_000),
    forceRegister: javaBoolean(true),
    compressedRegister: javaBoolean(false),
    brokerPermission: javaInt(6),
    serverChannelMaxIdleTimeSeconds: javaInt(120),
    serverWorkerThreads: javaInt(8),
    serverSelectorThreads: javaInt(3),
    aclEnable: javaBoolean(false),

    // Topics, groups, consumption.
    autoCreateTopicEnable: javaBoolean(true),
    defaultTopicQueueNums: javaInt(8),
    clusterTopicEnable: javaBoolean(true),
    brokerTopicEnable: javaBoolean(true),
    autoCreateSubscriptionGroup: javaBoolean(true),
    traceTopicEnable: javaBoolean(false),
    msgTraceTopicName: javaString("RMQ_SYS_TRACE_TOPIC"),
    longPollingEnable: javaBoolean(true),
    shortPollingTimeMills: javaLong(1_000),
    notifyConsumerIdsChangedEnable: javaBoolean(true),
    slaveReadEnable: javaBoolean(false),
    flushConsumerOffsetInterval: javaInt(5_000),
    enablePropertyFilter: javaBoolean(false),
    enableCalcFilterBitMap: javaBoolean(false),
    filterSupportRetry: javaBoolean(false),
    transferMsgByHeap: javaBoolean(true),
    rejectTransactionMessage: javaBoolean(false),
    transactionTimeOut: javaLong(6_000),
    transactionCheckMax: javaInt(15),
    transactionCheckInterval: javaLong(60_000),
    regionId: javaString("DefaultRegion"),
    traceOn: javaBoolean(true),
    startAcceptSendRequestTimeStamp: javaLong(0),
    /** Replies (SEND_REPLY_MESSAGE) are also stored in <cluster>_REPLY_TOPIC, not only pushed. */
    storeReplyMessageEnable: javaBoolean(true),
    brokerFastFailureEnable: javaBoolean(true),
    waitTimeMillsInSendQueue: javaLong(200),
    waitTimeMillsInPullQueue: javaLong(5_000),
    waitTimeMillsInHeartbeatQueue: javaLong(31_000),
    waitTimeMillsInTransactionQueue: javaLong(3_000),
    sendMessageThreadPoolNums: javaInt(Math.min(os.availableParallelism(), 4)),
    pullMessageThreadPoolNums: javaInt(16 + os.availableParallelism() * 2),
    adminBrokerThreadPoolNums: javaInt(16),
    clientManageThreadPoolNums: javaInt(32),
    consumerManageThreadPoolNums: javaInt(32),

    // Store.
    storePathRootDir: javaString(path.join(os.homedir(), "store")),
    /** Empty = `<storePathRootDir>/commitlog` (filled in by parseBrokerConfig). */
    storePathCommitLog: javaString(""),
    mappedFileSizeCommitLog: javaInt(1_073_741_824),
    mappedFileSizeConsumeQueue: javaInt(6_000_000),
    maxMessageSize: javaInt(4_194_304),
    flushDiskType: javaEnum(FLUSH_DISK_TYPES, "ASYNC_FLUSH"),
    syncFlushTimeout: javaLong(5_000),
    flushIntervalCommitLog: javaInt(500),
    flushCommitLogLeastPages: javaInt(4),
    flushCommitLogThoroughInterval: javaInt(10_000),
    flushCommitLogTimed: javaBoolean(true),
    flushIntervalConsumeQueue: javaInt(1_000),
    flushConsumeQueueLeastPages: javaInt(2),
    flushConsumeQueueThoroughInterval: javaInt(60_000),
    transientStorePoolEnable: javaBoolean(false),
    transientStorePoolSize: javaInt(5),
    commitIntervalCommitLog: javaInt(200),
    commitCommitLogLeastPages: javaInt(4),
    commitCommitLogThoroughInterval: javaInt(200),
    /** Hours of the day (`;`-separated) when expired files are deleted. */
    deleteWhen: javaString("04"),
    /** Hours a commit log file is kept. */
    fileReservedTime: javaInt(72),
    /** Percent. */
    diskMaxUsedSpaceRatio: javaInt(75),
    cleanFileForciblyEnable: javaBoolean(true),
    cleanResourceInterval: javaInt(10_000),
    deleteCommitLogFilesInterval: javaInt(100),
    deleteConsumeQueueFilesInterval: javaInt(100),
    destroyMapedFileIntervalForcibly: javaInt(120_000),
    redeleteHangedFileInterval: javaInt(120_000),
    checkCRCOnRecover: javaBoolean(true),
    messageIndexEnable: javaBoolean(true),
    messageIndexSafe: javaBoolean(false),
    maxHashSlotNum: javaInt(5_000_000),
    maxIndexNum: javaInt(20_000_000),
    maxMsgsNumBatch: javaInt(64),
    defaultQueryMaxNum: javaInt(32),
    maxTransferCountOnMessageInMemory: javaInt(32),
    maxTransferBytesOnMessageInMemory: javaInt(262_144),
    maxTransferCountOnMessageInDisk: javaInt(8),
    maxTransferBytesOnMessageInDisk: javaInt(65_536),
    /** Percent of RAM. */
    accessMessageInMemoryMaxRatio: javaInt(40),
    messageDelayLevel: javaString("1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h"),
    flushDelayOffsetInterval: javaLong(10_000),
    enableScheduleAsyncDeliver: javaBoolean(false),
    brokerRole: javaEnum(BROKER_ROLES, "ASYNC_MASTER"),
    /** 0 = listenPort + 1 (Java always forces that; tsmq lets an explicit value stand); stays 0 (any free port) when listenPort is 0. */
    haListenPort: javaInt(0),
    /** Explicit master HA address for a slave; empty = learnt from the namesrv. */
    haMasterAddress: javaString(""),
    haSendHeartbeatInterval: javaInt(5_000),
    haHousekeepingInterval: javaInt(20_000),
    haTransferBatchSize: javaInt(32_768),
    /** Bytes. */
    haSlaveFallbehindMax: javaInt(268_435_456),
    slaveTimeout: javaInt(3_000),
    /** tsmq-only, ms: how often a slave copies topics, offsets, delay offsets and groups from its master (Java fixes 10 s, first after 3 s). */
    slaveSynchronizeInterval: javaLong(10_000),
    offsetCheckInSlave: javaBoolean(false),
    osPageCacheBusyTimeOutMills: javaLong(1_000),
    warmMapedFileEnable: javaBoolean(false),
    enableConsumeQueueExt: javaBoolean(false),
    enableDLegerCommitLog: javaBoolean(false),
  });
}

export type BrokerConfig = z.infer<ReturnType<typeof brokerConfigSchema>>;

/**
 * The keys UPDATE_BROKER_CONFIG may change on a running broker (an allow-list: a key not named here
 * is refused). Each is read where it is used, so a change takes effect; none names a path, a port,
 * a role or id, a file or memory size, or anything that starts a process (CVE-2023-33246).
 */
export const BROKER_RUNTIME_KEYS: ReadonlySet<keyof BrokerConfig> = new Set<keyof BrokerConfig>([
  "brokerPermission",
  "autoCreateTopicEnable",
  "autoCreateSubscriptionGroup",
  "defaultTopicQueueNums",
  "notifyConsumerIdsChangedEnable",
  "slaveReadEnable",
  "longPollingEnable",
  "shortPollingTimeMills",
  "enablePropertyFilter",
  "rejectTransactionMessage",
  "transactionTimeOut",
  "transactionCheckMax",
  "transactionCheckInterval",
  "regionId",
  "traceOn",
  "startAcceptSendRequestTimeStamp",
  "fileReservedTime",
  "deleteWhen",
  "diskMaxUsedSpaceRatio",
  "cleanFileForciblyEnable",
  "defaultQueryMaxNum",
  "maxMsgsNumBatch",
  "maxTransferCountOnMessageInMemory",
  "maxTransferCountOnMessageInDisk",
  "accessMessageInMemoryMaxRatio",
  "syncFlushTimeout",
  "slaveTimeout",
]);

/** The typed config from parsed properties plus overrides (CLI flags win). */
export function parseBrokerConfig(props: Properties, overrides: ConfigInput = {}): ConfigLoadResult<BrokerConfig> {
  const result = buildConfig(brokerConfigSchema(), "broker", props, overrides);
  const c = result.config;
  if (c.storePathCommitLog === "") c.storePathCommitLog = path.join(c.storePathRootDir, "commitlog");
  if (c.brokerIP2 === "") c.brokerIP2 = c.brokerIP1;
  if (c.haListenPort === 0 && c.listenPort !== 0) c.haListenPort = c.listenPort + 1;
  // Java forces brokerId 0 on masters (BrokerStartup).
  if (c.brokerRole !== "SLAVE") c.brokerId = 0;
  return result;
}

/** Reads `configPath` (if given) and applies `overrides`. Throws ConfigError naming a bad key. */
export async function loadBrokerConfig(configPath: string | undefined, overrides: ConfigInput = {}): Promise<ConfigLoadResult<BrokerConfig>> {
  const props = configPath === undefined ? new Map<string, string>() : await readPropertiesFile(configPath);
  return parseBrokerConfig(props, overrides);
}

/** Every key with its current value, in schema order (GET_BROKER_CONFIG body, `-p` printing). */
export function brokerConfigEntries(config: BrokerConfig): Array<[string, string | number | boolean]> {
  return Object.entries(config);
}
