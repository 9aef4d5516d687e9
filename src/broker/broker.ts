// BrokerController: wires the message store, the managers, the request processors and the
// NameServer registration into one broker process (architecture.md, protocol doc 6.1).

import fs from "node:fs";
import path from "node:path";
import { isErrno, writeFileAtomic } from "../common/atomic-file.ts";
import type { MaybePromise } from "../common/maybe-promise.ts";
import type { BrokerConfig } from "../config/broker-config.ts";
import { formatProperties, parseProperties } from "../config/properties.ts";
import { createLogger } from "../log.ts";
import { RequestCode } from "../remoting/codes.ts";
import { RemotingCommand } from "../remoting/command.ts";
import { RemotingClient } from "../remoting/client.ts";
import type { Connection, Processor } from "../remoting/connection.ts";
import { RemotingServer } from "../remoting/server.ts";
import { StoreLock } from "../store/checkpoint.ts";
import { HAService } from "../store/ha/ha-service.ts";
import { MessageStore } from "../store/message-store.ts";
import { lockFilePath } from "../store/store-config.ts";
import type { PutMessageResult } from "../store/store-types.ts";
import type { ClientChannelInfo } from "./client-channel.ts";
import { ConsumerManager } from "./consumer-manager.ts";
import { ConsumerOffsetManager } from "./consumer-offsets.ts";
import { PullRequestHoldService } from "./long-polling.ts";
import { clampRegisterPeriodMs, NamesrvRegistration, parseNamesrvAddrs } from "./namesrv-registration.ts";
import { AdminProcessor } from "./processors/admin.ts";
import { ClientManageProcessor } from "./processors/client-manage.ts";
import { ConsumerManageProcessor } from "./processors/consumer-manage.ts";
import { PullProcessor } from "./processors/pull.ts";
import { QueryProcessor } from "./processors/query.ts";
import { ReplyProcessor } from "./processors/reply.ts";
import { SendBackProcessor } from "./processors/send-back.ts";
import { SendProcessor } from "./processors/send.ts";
import { ProducerManager } from "./producer-manager.ts";
import { RebalanceLockManager, REBALANCE_LOCK_MAX_LIVE_MS } from "./rebalance-lock.ts";
import { RuntimeStats } from "./runtime-stats.ts";
import { ScheduleMessageService } from "./schedule.ts";
import { SlaveSynchronize } from "./slave-sync.ts";
import { SubscriptionGroupManager } from "./subscription-group.ts";
import { TopicConfigManager } from "./topic-config.ts";
import { TransactionCheckService } from "./transaction/check-service.ts";
import { EndTransactionProcessor } from "./transaction/end-transaction.ts";
import { HalfMessageBridge } from "./transaction/half-message-bridge.ts";
import { resumeCheckHalfMessage } from "./transaction/resume-check.ts";
import { guardedTask } from "../common/guarded-task.ts";

const log = createLogger("broker");

/** Java ClientHousekeepingService: channel expiry scan period. */
const CLIENT_SCAN_INTERVAL_MS = 10_000;
/** The VIP ("fast") port is listenPort minus this (Java NettyServerConfig). */
const VIP_PORT_OFFSET = 2;

export interface BrokerOptions {
  /** Interface the listeners bind; all interfaces by default. */
  host?: string;
  /** Queue-lock expiry; tests shorten it. */
  lockMaxLiveMs?: number;
  /** Long-polling sweep period. */
  holdCheckIntervalMs?: number;
  /** The `-c` properties file: UPDATE_BROKER_CONFIG writes accepted changes back to it, like Java. */
  configFilePath?: string;
  /** Slave: first metadata sync from the master after this long (default SLAVE_SYNC_FIRST_DELAY_MS); tests shorten it. */
  slaveSyncFirstDelayMs?: number;
}

/** A service created in start(): reading it earlier is a bug in the caller. */
function started<T>(service: T | undefined, what: string): T {
  if (!service) throw new Error(`broker ${what} is not started`);
  return service;
}

export class BrokerController {
  readonly topics: TopicConfigManager;
  readonly groups: SubscriptionGroupManager;
  readonly offsets: ConsumerOffsetManager;
  readonly consumers: ConsumerManager;
  readonly producers: ProducerManager;
  readonly locks: RebalanceLockManager;
  readonly namesrvClient: RemotingClient;
  readonly namesrvAddrs: string[];
  /** putTps / getTransferedTps and the daily totals of the runtime info. */
  readonly stats = new RuntimeStats({ putTimesTotal: () => this.storeInstance?.putMessageTimesTotal ?? 0, now: () => Date.now() });
  private readonly server: RemotingServer;
  private readonly vipServer: RemotingServer;
  private storeInstance: MessageStore | undefined;
  /** Taken first in start(): nothing under the store root is read before it is held. */
  private storeLock: StoreLock | undefined;
  private scheduleInstance: ScheduleMessageService | undefined;
  private longPollingInstance: PullRequestHoldService | undefined;
  private transactionBridgeInstance: HalfMessageBridge | undefined;
  private transactionCheckInstance: TransactionCheckService | undefined;
  private haInstance: HAService | undefined;
  private haPortValue = 0;
  /** Slaves only: metadata copies from the master (protocol doc 3.3.6). */
  readonly slaveSync: SlaveSynchronize | undefined;
  private registration: NamesrvRegistration | undefined;
  private readonly timers: Array<ReturnType<typeof setInterval>> = [];
  private started = false;
  private stopping = false;
  private onewayRegistrationPending = false;

  constructor(
    readonly config: BrokerConfig,
    private readonly opts: BrokerOptions = {},
  ) {
    this.topics = new TopicConfigManager(config, config.storePathRootDir);
    this.groups = new SubscriptionGroupManager(() => this.config.autoCreateSubscriptionGroup, config.storePathRootDir);
    this.offsets = new ConsumerOffsetManager(config.storePathRootDir);
    this.consumers = new ConsumerManager((group, channels) => this.notifyConsumerIdsChanged(group, channels));
    this.producers = new ProducerManager();
    this.locks = new RebalanceLockManager(opts.lockMaxLiveMs ?? REBALANCE_LOCK_MAX_LIVE_MS);
    this.namesrvClient = new RemotingClient();
    this.namesrvAddrs = parseNamesrvAddrs(config.namesrvAddr);
    const idleTimeoutMs = config.serverChannelMaxIdleTimeSeconds * 1000;
    this.server = new RemotingServer({ port: config.listenPort, host: opts.host, name: "broker", idleTimeoutMs });
    const vipPort = config.listenPort > VIP_PORT_OFFSET ? config.listenPort - VIP_PORT_OFFSET : 0;
    this.vipServer = new RemotingServer({ port: vipPort, host: opts.host, name: "broker-vip", idleTimeoutMs });
    if (config.brokerRole === "SLAVE") {
      this.slaveSync = new SlaveSynchronize({
        topics: this.topics,
        offsets: this.offsets,
        groups: this.groups,
        schedule: () => this.schedule,
        selfAddr: () => this.brokerAddr,
      });
    }
  }

  get store(): MessageStore {
    return started(this.storeInstance, "store");
  }
  get schedule(): ScheduleMessageService {
    return started(this.scheduleInstance, "schedule service");
  }
  /** Half / op topic access for transactional messages (storage doc §12.8). */
  get transactionBridge(): HalfMessageBridge {
    return started(this.transactionBridgeInstance, "transaction bridge");
  }
  get transactionCheck(): TransactionCheckService {
    return started(this.transactionCheckInstance, "transaction check service");
  }
  /** Replication (storage doc §12.9): HA server on a master, HA client on a slave. */
  get ha(): HAService {
    return started(this.haInstance, "HA service");
  }
  get longPolling(): PullRequestHoldService {
    return started(this.longPollingInstance, "long polling");
  }

  /** The bound main port. */
  get port(): number {
    return this.server.port;
  }
  /** Master: the bound HA port (haListenPort, or the ephemeral one when it is 0). Slave: haListenPort. */
  get haPort(): number {
    return this.haPortValue;
  }
  get vipPort(): number {
    return this.vipServer.port;
  }
  /** `brokerIP1:port`: what the broker registers and stamps as store host. */
  get brokerAddr(): string {
    return `${this.config.brokerIP1}:${this.server.port}`;
  }
  get storeHost(): string {
    return this.brokerAddr;
  }

  /** Loads config files and the store, starts listening and registers with the namesrvs. */
  async start(): Promise<void> {
    if (this.started) throw new Error("broker already started");
    this.started = true;
    const c = this.config;
    // Java BrokerStartup exits on this: a slave with id 0 would register as a second master.
    if (c.brokerRole === "SLAVE" && c.brokerId <= 0) throw new Error(`a SLAVE broker needs brokerId > 0, got ${c.brokerId}`);
    this.storeLock = StoreLock.acquire(lockFilePath(c));
    fs.mkdirSync(path.join(c.storePathRootDir, "config"), { recursive: true });
    this.topics.load();
    this.groups.load();
    this.offsets.load();

    // Bind first: the store host (in every msgId) needs the real port when listenPort is 0.
    await this.server.start();
    await this.vipServer.start();

    const store = new MessageStore(c, { storeHost: this.storeHost, heldLock: this.storeLock });
    if (!(await store.load())) throw new Error(`message store under ${c.storePathRootDir} failed to load`);
    this.storeInstance = store;
    this.scheduleInstance = new ScheduleMessageService(store, c.messageDelayLevel, c.storePathRootDir, c.flushDelayOffsetInterval);
    this.scheduleInstance.load();
    this.transactionBridgeInstance = new HalfMessageBridge(this);
    this.transactionCheckInstance = new TransactionCheckService(this.transactionBridgeInstance, this.producers, () => this.config);

    const pull = new PullProcessor(this);
    this.longPollingInstance = new PullRequestHoldService(
      (topic, queueId) => store.getMaxOffsetInQueue(topic, queueId),
      (p) => pull.executeAgain(p),
      (topic, queueId, offset) => store.getConsumeQueueEntry(topic, queueId, offset)?.tagsCode,
      this.opts.holdCheckIntervalMs,
    );
    // The store reports the queue's new max offset (dispatched offset + 1).
    store.setMessageArrivingListener((topic, queueId, maxOffset, tagsCode) => this.longPolling.notifyMessageArriving(topic, queueId, maxOffset, tagsCode));
    await store.start();
    const ha = new HAService(store, c, c.brokerRole, { listenHostname: this.opts.host });
    this.haInstance = ha;
    // A master registers the bound HA port (haListenPort 0 = any free port); Java registers brokerIP2:haListenPort.
    this.haPortValue = c.brokerRole === "SLAVE" ? c.haListenPort : ha.start();
    const haServerAddr = `${c.brokerIP2}:${this.haPortValue}`;
    if (c.brokerRole === "SLAVE") {
      // An explicit haMasterAddress wins over what the namesrv says (Java: when at least 6 characters).
      if (c.haMasterAddress.length > 0) ha.updateMasterAddress(c.haMasterAddress);
      ha.start();
    }

    this.registerProcessors(pull);
    this.server.onConnectionClose((conn) => this.onClientClose(conn));
    this.vipServer.onConnectionClose((conn) => this.onClientClose(conn));

    this.longPolling.start();
    this.stats.start();
    if (c.brokerRole !== "SLAVE") this.schedule.start();
    if (c.brokerRole !== "SLAVE") this.transactionCheck.start();
    this.timers.push(setInterval(guardedTask("consumer offset persist", () => this.persistOffsets()), c.flushConsumerOffsetInterval));
    this.timers.push(
      setInterval(
        guardedTask("client channel scan", () => {
          this.consumers.scanNotActiveChannels();
          this.producers.scanNotActiveChannels();
        }),
        CLIENT_SCAN_INTERVAL_MS,
      ),
    );

    this.registration = new NamesrvRegistration(
      this.namesrvClient,
      this.namesrvAddrs,
      {
        brokerName: c.brokerName,
        brokerAddr: this.brokerAddr,
        clusterName: c.brokerClusterName,
        haServerAddr,
        brokerId: c.brokerId,
        brokerPermission: () => this.config.brokerPermission,
        compressed: c.compressedRegister,
        timeoutMs: c.registerBrokerTimeoutMills,
      },
      this.topics,
      (result) => this.onRegistered(result.masterAddr, result.haServerAddr),
    );
    this.topics.onChange = () => this.scheduleOnewayRegistration();
    if (this.namesrvAddrs.length > 0) {
      await this.registration.registerAll();
      this.timers.push(setInterval(guardedTask("namesrv registration", () => this.registration?.registerAll()), clampRegisterPeriodMs(c.registerNameServerPeriod)));
    }
    this.slaveSync?.start(c.slaveSynchronizeInterval, this.opts.slaveSyncFirstDelayMs);
    log.info(`broker ${c.brokerName} started as ${c.brokerRole} (id ${c.brokerId}, HA ${haServerAddr}): port ${this.port}, vip port ${this.vipPort}, store ${c.storePathRootDir}, namesrv ${this.namesrvAddrs.join(";") || "(none)"}, listening on ${this.server.host}`);
  }

  /** A slave learns its master from every registration (Java doRegisterBrokerAll). */
  private onRegistered(masterAddr: string | undefined, haServerAddr: string | undefined): void {
    if (this.config.brokerRole !== "SLAVE") return;
    if (this.config.haMasterAddress.length === 0 && haServerAddr) this.haInstance?.updateMasterAddress(haServerAddr);
    this.slaveSync?.setMaster(masterAddr);
  }

  /**
   * After every put of a client message: wakes the transfer to the slaves and, on a SYNC_MASTER when
   * the producer waits (`WAIT` != "false"), waits for a slave's ack (FLUSH_SLAVE_TIMEOUT /
   * SLAVE_NOT_AVAILABLE otherwise). Results on a slave or of failed puts pass through.
   */
  replicate(result: PutMessageResult, waitStoreMsgOK: boolean): MaybePromise<PutMessageResult> {
    return this.ha.awaitReplication(result, waitStoreMsgOK);
  }

  /** Re-registers with every namesrv now (admin topic changes, permission changes). */
  async registerBrokerAll(): Promise<void> {
    await this.registration?.registerAll();
  }

  /** Writes accepted UPDATE_BROKER_CONFIG keys into the `-c` file, atomically (other lines' comments are not kept). */
  async persistConfigUpdates(updates: Map<string, string>): Promise<void> {
    const file = this.opts.configFilePath;
    if (!file) return;
    let merged = new Map<string, string>();
    try {
      merged = parseProperties(await fs.promises.readFile(file, "utf8"));
    } catch (err) {
      if (!isErrno(err, "ENOENT")) throw err;
    }
    for (const [k, v] of updates) merged.set(k, v);
    await writeFileAtomic(file, formatProperties(merged));
  }

  /** Unregisters, stops listening, flushes offsets / delay offsets and shuts the store down. */
  async shutdown(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    this.slaveSync?.stop();
    this.stats.stop();
    if (this.registration && this.namesrvAddrs.length > 0) await this.registration.unregisterAll();
    this.namesrvClient.close();
    await this.server.stop();
    await this.vipServer.stop();
    this.longPollingInstance?.shutdown();
    await this.scheduleInstance?.shutdown();
    await this.transactionCheckInstance?.shutdown();
    await this.flushMetadata();
    this.haInstance?.shutdown();
    await this.storeInstance?.shutdown();
    this.storeLock?.release();
    log.info(`broker ${this.config.brokerName} stopped`);
  }

  /** Waits until topics, groups and offsets are durable; a failure is logged (the .bak stays usable). */
  private async flushMetadata(): Promise<void> {
    for (const file of [this.topics, this.groups, this.offsets]) {
      try {
        await file.flush();
      } catch (err) {
        log.error("writing broker metadata at shutdown failed", err);
      }
    }
  }

  /** One oneway registration per event-loop turn, however many topics a request created. */
  private scheduleOnewayRegistration(): void {
    if (this.onewayRegistrationPending) return;
    this.onewayRegistrationPending = true;
    setImmediate(() => {
      this.onewayRegistrationPending = false;
      this.registration?.registerAllOneway();
    });
  }

  private persistOffsets(): void {
    try {
      this.offsets.persist();
    } catch (err) {
      log.error("persisting consumer offsets failed", err);
    }
  }

  private onClientClose(conn: Connection): void {
    this.consumers.onConnectionClose(conn);
    this.producers.onConnectionClose(conn);
  }

  /** NOTIFY_CONSUMER_IDS_CHANGED (oneway) to every channel of the group (Java DefaultConsumerIdsChangeListener). */
  private notifyConsumerIdsChanged(group: string, channels: ClientChannelInfo[]): void {
    if (!this.config.notifyConsumerIdsChangedEnable) return;
    for (const c of channels) {
      if (c.conn.closed) continue;
      c.conn.invokeOneway(RemotingCommand.request(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, { consumerGroup: group }));
    }
  }

  private registerProcessors(pull: PullProcessor): void {
    const send = new SendProcessor(this);
    const sendBack = new SendBackProcessor(this);
    const reply = new ReplyProcessor(this, send);
    const client = new ClientManageProcessor(this);
    const consumer = new ConsumerManageProcessor(this);
    const query = new QueryProcessor(this);
    const admin = new AdminProcessor(this);
    const endTransaction = new EndTransactionProcessor(this.transactionBridge, () => this.config.brokerRole === "SLAVE");
    const table: Array<[number, Processor]> = [
      [RequestCode.SEND_MESSAGE, (r, c) => send.process(r, c)],
      [RequestCode.SEND_MESSAGE_V2, (r, c) => send.process(r, c)],
      [RequestCode.SEND_BATCH_MESSAGE, (r, c) => send.process(r, c)],
      [RequestCode.SEND_REPLY_MESSAGE, (r, c) => reply.process(r, c)],
      [RequestCode.SEND_REPLY_MESSAGE_V2, (r, c) => reply.process(r, c)],
      [RequestCode.CONSUMER_SEND_MSG_BACK, (r) => sendBack.process(r)],
      [RequestCode.END_TRANSACTION, (r, c) => endTransaction.process(r, c)],
      [RequestCode.RESUME_CHECK_HALF_MESSAGE, (r) => resumeCheckHalfMessage(this.transactionBridge, r)],
      [RequestCode.PULL_MESSAGE, (r, c) => pull.process(r, c)],
      [RequestCode.HEART_BEAT, (r, c) => client.heartbeat(r, c)],
      [RequestCode.UNREGISTER_CLIENT, (r, c) => client.unregisterClient(r, c)],
      [RequestCode.CHECK_CLIENT_CONFIG, (r) => client.checkClientConfig(r)],
      [RequestCode.GET_CONSUMER_LIST_BY_GROUP, (r) => consumer.getConsumerList(r)],
      [RequestCode.UPDATE_CONSUMER_OFFSET, (r) => consumer.updateConsumerOffset(r)],
      [RequestCode.QUERY_CONSUMER_OFFSET, (r) => consumer.queryConsumerOffset(r)],
      [RequestCode.LOCK_BATCH_MQ, (r) => consumer.lockBatch(r)],
      [RequestCode.UNLOCK_BATCH_MQ, (r) => consumer.unlockBatch(r)],
      [RequestCode.GET_MAX_OFFSET, (r) => query.getMaxOffset(r)],
      [RequestCode.GET_MIN_OFFSET, (r) => query.getMinOffset(r)],
      [RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, (r) => query.searchOffsetByTimestamp(r)],
      [RequestCode.GET_EARLIEST_MSG_STORETIME, (r) => query.getEarliestMsgStoretime(r)],
      [RequestCode.QUERY_MESSAGE, (r) => query.queryMessage(r)],
      [RequestCode.VIEW_MESSAGE_BY_ID, (r) => query.viewMessageById(r)],
      ...admin.processors(),
    ];
    for (const [code, processor] of table) {
      this.server.registerProcessor(code, processor);
      this.vipServer.registerProcessor(code, processor);
    }
  }
}
