// The push consumer (Java DefaultMQPushConsumer): subscriptions, rebalance, a long-polling pull
// loop per owned queue with flow control, concurrent or orderly consumption, retry through
// CONSUMER_SEND_MSG_BACK, offsets committed to the broker or a local file (protocol doc 6.6-6.14).

import { setTimeout as sleep } from "node:timers/promises";
import { Prop } from "../common/message.ts";
import { isGroupNameIllegal, isRetryTopic, retryTopic, topicNameProblem } from "../common/topic.ts";
import { ResponseCode } from "../remoting/codes.ts";
import type { RemotingCommand } from "../remoting/command.ts";
import { type AllocateStrategy, allocateAveragely } from "./allocate.ts";
import { maxOffset, pullMessage, searchOffset, unlockBatch } from "./broker-api.ts";
import type { ClientConfig } from "./client-config.ts";
import { type ConcurrentListener, ConcurrentConsumeService } from "./consume-concurrently.ts";
import type { ConsumeHost } from "./consume-host.ts";
import { type OrderlyListener, OrderlyConsumeService } from "./consume-orderly.ts";
import { type ConsumedMessage, decodeMessages } from "./consumed-message.ts";
import { MQClientError, errorText } from "./errors.ts";
import { ClientInstance, type ConsumerData, type ConsumerMember, consumerDataOf } from "./instance.ts";
import { type MessageQueue, mqJson, mqKey, mqText } from "./message-queue.ts";
import { type OffsetStore, defaultLocalOffsetDir, openOffsetStore } from "./offset-store.ts";
import type { ProcessQueue } from "./process-queue.ts";
import { type MessageModel, type RebalanceHost, Rebalancer } from "./rebalance.ts";
import type { TopicRouteData } from "./route.ts";
import { RetrySender } from "./retry-sender.ts";
import { type SubscriptionData, buildSubscription, subscriptionMatches } from "./subscription.ts";

export type ConsumeFromWhere = "CONSUME_FROM_LAST_OFFSET" | "CONSUME_FROM_FIRST_OFFSET" | "CONSUME_FROM_TIMESTAMP";
export type { ConcurrentContext, ConcurrentListener, ConsumeConcurrentlyStatus } from "./consume-concurrently.ts";
export type { ConsumeOrderlyStatus, OrderlyContext, OrderlyListener } from "./consume-orderly.ts";

/** Long-polling hold the broker is asked for (Java brokerSuspendMaxTimeMillis). */
export const BROKER_SUSPEND_MAX_MS = 15_000;
/** Pull request timeout while suspended (Java consumerTimeoutMillisWhenSuspend). */
export const PULL_TIMEOUT_WHEN_SUSPEND_MS = 30_000;
/** Pause after a failed pull (Java pullTimeDelayMillsWhenException). */
const PULL_DELAY_ON_ERROR_MS = 3_000;
/** Pause after FLOW_CONTROL from the broker. */
const PULL_DELAY_ON_FLOW_CONTROL_MS = 20;
/** Pause while the process queue is over its thresholds (Java PULL_TIME_DELAY_MILLS_WHEN_FLOW_CONTROL). */
const PULL_DELAY_WHEN_FULL_MS = 50;
/** Pause while an orderly queue is not locked (Java pullTimeDelayMillsWhenException, 3 s). */
const PULL_DELAY_WHEN_UNLOCKED_MS = 3_000;
/** Orderly lock renewal (Java rocketmq.client.rebalance.lockInterval). */
const LOCK_INTERVAL_MS = 20_000;
/** Longest wait for an orderly listener before unlocking a queue taken away (Java 1 s). */
const UNLOCK_WAIT_FOR_CONSUME_MS = 1_000;
/** Longest wait for running listeners at shutdown, so their offsets are committed. */
const SHUTDOWN_CONSUME_WAIT_MS = 10_000;
/** How often those two waits check whether the listeners are done. */
const LISTENER_POLL_INTERVAL_MS = 10;
/** CONSUME_FROM_TIMESTAMP default: half an hour before start (Java consumeTimestamp). */
export const DEFAULT_CONSUME_TIMESTAMP_AGO_MS = 30 * 60_000;
/** Java default retries of a concurrently consumed message before the DLQ. */
const DEFAULT_MAX_RECONSUME_TIMES = 16;

export interface PushConsumerOptions extends ClientConfig {
  groupName: string;
  messageModel?: MessageModel;
  consumeFromWhere?: ConsumeFromWhere;
  /** For CONSUME_FROM_TIMESTAMP: ms epoch, or Java's `yyyyMMddHHmmss` (local time). */
  consumeTimestamp?: number | string;
  allocateStrategy?: AllocateStrategy;
  /** Listener calls running at once (Java consumeThreadMax, 20). */
  consumeConcurrency?: number;
  consumeMessageBatchMaxSize?: number;
  pullBatchSize?: number;
  pullThresholdForQueue?: number;
  pullThresholdSizeForQueueMiB?: number;
  consumeConcurrentlyMaxSpan?: number;
  pullIntervalMs?: number;
  /** -1 = 16 for concurrent consumers, unlimited for orderly ones. */
  maxReconsumeTimes?: number;
  suspendCurrentQueueTimeMs?: number;
  /** Send the tag expression with every pull (Java default false; ali-ons always). Default true. */
  postSubscriptionWhenPull?: boolean;
  /** Root dir of broadcasting offset files; default ~/.rocketmq_offsets. */
  offsetStoreDir?: string;
}

interface ResolvedOptions {
  messageModel: MessageModel;
  consumeFromWhere: ConsumeFromWhere;
  consumeTimestampMs: number;
  allocate: AllocateStrategy;
  consumeConcurrency: number;
  batchSize: number;
  pullBatchSize: number;
  pullThresholdForQueue: number;
  pullThresholdSizeBytes: number;
  maxSpan: number;
  pullIntervalMs: number;
  maxReconsumeTimes: number;
  suspendMs: number;
  postSubscription: boolean;
  offsetStoreDir: string;
}

/** Java UtilAll.parseDate(yyyyMMddHHmmss) in local time; numbers are ms epoch. */
export function parseConsumeTimestamp(value: number | string): number {
  if (typeof value === "number") return value;
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(value);
  if (!m) throw new MQClientError(`consumeTimestamp ${value} is not yyyyMMddHHmmss`);
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  return new Date(y!, mo! - 1, d!, h!, mi!, s!).getTime();
}

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) throw new MQClientError(`${name} must be a positive integer, got ${v}`);
  return v;
}

export class PushConsumer implements ConsumerMember, RebalanceHost {
  readonly group: string;
  readonly messageModel: MessageModel;
  readonly allocate: AllocateStrategy;
  private readonly o: ResolvedOptions;
  private readonly clientConfig: ClientConfig;
  private readonly subscriptions = new Map<string, SubscriptionData>();
  private concurrentListener: ConcurrentListener | undefined;
  private orderlyListener: OrderlyListener | undefined;
  private inst: ClientInstance | undefined;
  private offsetStore: OffsetStore | undefined;
  private rebalancer: Rebalancer | undefined;
  private state: "created" | "running" | "shutdown" = "created";
  private stopSignal: Promise<void>;
  private fireStop: () => void = () => {};
  private retry: RetrySender | undefined;
  private concurrentService: ConcurrentConsumeService | undefined;
  private orderlyService: OrderlyConsumeService | undefined;
  private lockTimer: ReturnType<typeof setInterval> | undefined;
  private readonly startedAt = Date.now();

  constructor(options: PushConsumerOptions) {
    if (!options || typeof options.groupName !== "string" || options.groupName.length === 0) throw new MQClientError("consumer groupName is required");
    if (isGroupNameIllegal(options.groupName)) throw new MQClientError(`consumer group ${options.groupName} contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$`);
    this.group = options.groupName;
    this.clientConfig = options;
    this.messageModel = options.messageModel ?? "CLUSTERING";
    this.allocate = options.allocateStrategy ?? allocateAveragely;
    this.o = {
      messageModel: this.messageModel,
      consumeFromWhere: options.consumeFromWhere ?? "CONSUME_FROM_LAST_OFFSET",
      consumeTimestampMs: options.consumeTimestamp !== undefined ? parseConsumeTimestamp(options.consumeTimestamp) : Date.now() - DEFAULT_CONSUME_TIMESTAMP_AGO_MS,
      allocate: this.allocate,
      consumeConcurrency: positiveInt("consumeConcurrency", options.consumeConcurrency, 20),
      batchSize: positiveInt("consumeMessageBatchMaxSize", options.consumeMessageBatchMaxSize, 1),
      pullBatchSize: positiveInt("pullBatchSize", options.pullBatchSize, 32),
      pullThresholdForQueue: positiveInt("pullThresholdForQueue", options.pullThresholdForQueue, 1000),
      pullThresholdSizeBytes: positiveInt("pullThresholdSizeForQueueMiB", options.pullThresholdSizeForQueueMiB, 100) * 1024 * 1024,
      maxSpan: positiveInt("consumeConcurrentlyMaxSpan", options.consumeConcurrentlyMaxSpan, 2000),
      pullIntervalMs: options.pullIntervalMs ?? 0,
      maxReconsumeTimes: options.maxReconsumeTimes ?? -1,
      suspendMs: options.suspendCurrentQueueTimeMs ?? 1000,
      postSubscription: options.postSubscriptionWhenPull ?? true,
      offsetStoreDir: options.offsetStoreDir ?? defaultLocalOffsetDir(),
    };
    this.stopSignal = new Promise((resolve) => (this.fireStop = resolve));
  }

  get orderly(): boolean {
    return this.orderlyListener !== undefined;
  }

  get clientId(): string {
    if (!this.inst) throw new MQClientError("the consumer is not started");
    return this.inst.clientId;
  }

  /** Subscribes a topic with a tag expression (`*`, `TagA || TagB`). Allowed before and after start. */
  subscribe(topic: string, expression = "*"): this {
    const problem = topicNameProblem(topic);
    if (problem) throw new MQClientError(problem);
    if (isRetryTopic(topic)) throw new MQClientError(`subscribe to ${topic}: retry topics are subscribed automatically`);
    this.subscriptions.set(topic, buildSubscription(topic, expression));
    if (this.state === "running") void this.afterSubscriptionChange();
    return this;
  }

  unsubscribe(topic: string): this {
    this.subscriptions.delete(topic);
    return this;
  }

  registerMessageListener(listener: ConcurrentListener): this {
    this.concurrentListener = listener;
    this.orderlyListener = undefined;
    return this;
  }

  registerOrderlyListener(listener: OrderlyListener): this {
    this.orderlyListener = listener;
    this.concurrentListener = undefined;
    return this;
  }

  async start(): Promise<void> {
    if (this.state !== "created") throw new MQClientError(`the consumer cannot start in state ${this.state}`);
    if (!this.concurrentListener && !this.orderlyListener) throw new MQClientError("register a message listener before start()");
    if (this.subscriptions.size === 0) throw new MQClientError("subscribe to at least one topic before start()");
    if (this.messageModel === "CLUSTERING") this.subscriptions.set(retryTopic(this.group), buildSubscription(retryTopic(this.group), "*"));
    const inst = ClientInstance.acquire(this.clientConfig);
    this.inst = inst;
    this.rebalancer = new Rebalancer(inst, this);
    this.offsetStore = openOffsetStore(inst, this.group, this.messageModel, this.o.offsetStoreDir);
    this.retry = new RetrySender(inst, this.group, this.clientConfig, this.maxReconsumeTimes());
    const host: ConsumeHost = {
      group: this.group,
      messageModel: this.messageModel,
      inst,
      offsetStore: this.offsetStore,
      retry: this.retry,
      isRunning: () => this.running,
      pause: (ms) => this.pause(ms),
    };
    if (this.orderlyListener) {
      this.orderlyService = new OrderlyConsumeService(host, this.orderlyListener, this.o.batchSize, this.o.suspendMs, this.maxReconsumeTimes());
    } else {
      this.concurrentService = new ConcurrentConsumeService(host, this.concurrentListener!, this.o.consumeConcurrency, this.o.batchSize);
    }
    inst.registerConsumer(this);
    this.state = "running";
    if (this.orderlyService && this.messageModel === "CLUSTERING") {
      const service = this.orderlyService;
      this.lockTimer = setInterval(() => {
        if (this.running) void service.lockAll(this.rebalancer!.processQueues.values());
      }, LOCK_INTERVAL_MS);
      this.lockTimer.unref?.();
    }
    await this.afterSubscriptionChange();
  }

  private async afterSubscriptionChange(): Promise<void> {
    const inst = this.inst!;
    await Promise.all(
      [...this.subscriptions.keys()].map((t) =>
        inst.updateTopicRoute(t).catch((err) => inst.log.warn(`route of ${t} unavailable: ${errorText(err)}`)),
      ),
    );
    await inst.sendHeartbeatToAllBrokers();
    await inst.rebalanceNow();
  }

  /** Stops pulling, waits for running listeners, commits offsets, unlocks and unregisters. */
  async shutdown(): Promise<void> {
    if (this.state !== "running") return;
    this.state = "shutdown";
    this.fireStop();
    if (this.lockTimer) clearInterval(this.lockTimer);
    const deadline = Date.now() + SHUTDOWN_CONSUME_WAIT_MS;
    const active = () => (this.concurrentService?.active ?? 0) + (this.orderlyService?.active ?? 0);
    while (active() > 0 && Date.now() < deadline) await sleep(LISTENER_POLL_INTERVAL_MS);
    this.concurrentService?.clearBacklog();
    await this.offsetStore!.persistAll(this.rebalancer!.ownedQueues(), true);
    await this.rebalancer!.dropAll();
    await this.retry!.shutdown();
    await this.inst!.unregister(this, "consumer");
  }

  private get running(): boolean {
    return this.state === "running";
  }

  /** Sleeps, waking early at shutdown. */
  private async pause(ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([new Promise<void>((r) => (timer = setTimeout(r, ms))), this.stopSignal]);
    clearTimeout(timer);
  }

  // ---- ConsumerMember ----

  consumerData(): ConsumerData {
    return consumerDataOf({ consumeFromWhere: this.o.consumeFromWhere, consumeType: "CONSUME_PASSIVELY", groupName: this.group, messageModel: this.messageModel }, this.subscriptions);
  }

  topics(): string[] {
    return [...this.subscriptions.keys()];
  }

  topicsToBalance(): string[] {
    return this.topics();
  }

  onRouteChanged(topic: string, route: TopicRouteData): void {
    this.rebalancer?.onRouteChanged(topic, route);
  }

  async rebalance(): Promise<void> {
    if (this.running) await this.rebalancer!.rebalance();
  }

  async persistOffsets(): Promise<void> {
    if (this.running) await this.offsetStore!.persistAll(this.rebalancer!.ownedQueues());
  }

  async resetOffset(topic: string, offsets: Array<{ brokerName: string; queueId: number; offset: number }>): Promise<void> {
    const rb = this.rebalancer;
    if (!rb || !this.running) return;
    for (const o of offsets) {
      const mq = { topic, brokerName: o.brokerName, queueId: o.queueId };
      const entry = rb.processQueues.get(mqKey(mq));
      if (entry) {
        entry.pq.dropped = true;
        entry.pq.clear();
        rb.processQueues.delete(mqKey(mq));
      }
      this.offsetStore!.update(mq, o.offset, false);
      await this.offsetStore!.persist(mq, true);
    }
    void this.inst!.rebalanceNow();
  }

  runningInfo(): Record<string, unknown> {
    const mqTable: Record<string, unknown> = {};
    for (const { mq, pq } of this.rebalancer?.processQueues.values() ?? []) {
      mqTable[JSON.stringify(mqJson(mq))] = pq.info(this.offsetStore?.readMemory(mq) ?? -1);
    }
    return {
      mqTable,
      properties: {
        PROP_CONSUME_TYPE: "CONSUME_PASSIVELY",
        PROP_CONSUMEORDERLY: String(this.orderly),
        PROP_THREADPOOL_CORE_SIZE: String(this.o.consumeConcurrency),
        PROP_CONSUMER_START_TIMESTAMP: String(this.startedAt),
        PROP_NAMESERVER_ADDR: this.inst?.config.namesrvAddrs.join(";") ?? "",
        consumerGroup: this.group,
        messageModel: this.messageModel,
        consumeFromWhere: this.o.consumeFromWhere,
      },
      statusTable: {},
      subscriptionSet: [...this.subscriptions.values()],
    };
  }

  async consumeDirectly(request: RemotingCommand): Promise<Record<string, unknown>> {
    const begin = Date.now();
    const msgs = decodeMessages(request.body, request.extFields.brokerName ?? "");
    const mq = { topic: msgs[0]?.topic ?? "", brokerName: request.extFields.brokerName ?? "", queueId: msgs[0]?.queueId ?? 0 };
    let consumeResult = "CR_SUCCESS";
    let remark: string | undefined;
    try {
      if (this.orderlyListener) {
        const s = await this.orderlyListener(msgs, { messageQueue: mq, suspendCurrentQueueTimeMs: this.o.suspendMs });
        consumeResult = s === "SUCCESS" ? "CR_SUCCESS" : "CR_LATER";
      } else if (this.concurrentListener) {
        const s = await this.concurrentListener(msgs, { messageQueue: mq, delayLevelWhenNextConsume: 0, ackIndex: msgs.length - 1 });
        consumeResult = s === "CONSUME_SUCCESS" ? "CR_SUCCESS" : s === "RECONSUME_LATER" ? "CR_LATER" : "CR_RETURN_NULL";
      }
    } catch (err) {
      consumeResult = "CR_THROW_EXCEPTION";
      remark = errorText(err);
    }
    const result: Record<string, unknown> = { autoCommit: true, consumeResult, order: this.orderly, spentTimeMills: Date.now() - begin };
    if (remark !== undefined) result.remark = remark;
    return result;
  }

  // ---- RebalanceHost ----

  async computePullFromWhere(mq: MessageQueue): Promise<number> {
    const inst = this.inst!;
    const stored = await this.offsetStore!.readStore(mq);
    if (stored >= 0) return stored;
    switch (this.o.consumeFromWhere) {
      case "CONSUME_FROM_FIRST_OFFSET":
        return 0;
      case "CONSUME_FROM_TIMESTAMP":
        return isRetryTopic(mq.topic) ? maxOffset(inst, mq) : searchOffset(inst, mq, this.o.consumeTimestampMs);
      default:
        return isRetryTopic(mq.topic) ? 0 : maxOffset(inst, mq);
    }
  }

  lock(mq: MessageQueue): Promise<boolean> {
    return this.orderlyService ? this.orderlyService.lock(mq) : Promise.resolve(true);
  }

  startPulling(mq: MessageQueue, pq: ProcessQueue, offset: number): void {
    this.offsetStore!.update(mq, offset, false);
    void this.pullLoop(mq, pq, offset).catch((err) => this.inst!.log.warn(`pull loop of ${mqText(mq)} stopped: ${errorText(err)}`));
  }

  async stopPulling(mq: MessageQueue, pq: ProcessQueue): Promise<boolean> {
    pq.dropped = true;
    const store = this.offsetStore!;
    const orderlyClustered = this.orderly && this.messageModel === "CLUSTERING";
    await store.persist(mq, orderlyClustered);
    store.remove(mq);
    if (orderlyClustered) {
      // Let a running listener finish first, so the next owner does not consume alongside it.
      const deadline = Date.now() + UNLOCK_WAIT_FOR_CONSUME_MS;
      while (pq.inListener && Date.now() < deadline) await sleep(LISTENER_POLL_INTERVAL_MS);
      if (pq.inListener) return false;
      const addr = this.inst!.findMasterAddr(mq.brokerName);
      if (addr) await unlockBatch(this.inst!, addr, this.group, [mq]).catch((err) => this.inst!.log.warn(`unlock ${mqText(mq)} failed: ${errorText(err)}`));
    }
    return true;
  }

  assignmentChanged(_topic: string): void {
    // The broker must see the current subscriptions: heartbeat now (Java messageQueueChanged).
    void this.inst!.sendHeartbeatToAllBrokers();
  }

  // ---- pulling ----

  private async pullLoop(mq: MessageQueue, pq: ProcessQueue, startOffset: number): Promise<void> {
    const inst = this.inst!;
    let nextOffset = startOffset;
    let brokerId = 0;
    while (this.running && !pq.dropped) {
      if (pq.msgCount > this.o.pullThresholdForQueue || pq.msgSizeBytes > this.o.pullThresholdSizeBytes || (!this.orderly && pq.spanOffset > this.o.maxSpan)) {
        await this.pause(PULL_DELAY_WHEN_FULL_MS);
        continue;
      }
      if (this.orderly && this.messageModel === "CLUSTERING" && !pq.locked) {
        await this.pause(PULL_DELAY_WHEN_UNLOCKED_MS);
        continue;
      }
      const sub = this.subscriptions.get(mq.topic);
      if (!sub) {
        await this.pause(PULL_DELAY_ON_ERROR_MS);
        continue;
      }
      pq.lastPullTimestamp = Date.now();
      let result;
      try {
        result = await pullMessage(inst, {
          group: this.group,
          mq,
          offset: nextOffset,
          maxMsgNums: this.o.pullBatchSize,
          subExpression: this.o.postSubscription ? sub.subString : undefined,
          subVersion: sub.subVersion,
          commitOffset: this.messageModel === "CLUSTERING" ? this.offsetStore!.readMemory(mq) : 0,
          suspend: true,
          suspendTimeoutMs: BROKER_SUSPEND_MAX_MS,
          timeoutMs: PULL_TIMEOUT_WHEN_SUSPEND_MS,
          brokerId,
        });
      } catch (err) {
        if (!this.running || pq.dropped) break;
        const flowControl = err instanceof MQClientError && err.code === ResponseCode.FLOW_CONTROL;
        if (!flowControl) inst.log.warn(`pull ${mqText(mq)} at ${nextOffset} failed: ${errorText(err)}`);
        await this.pause(flowControl ? PULL_DELAY_ON_FLOW_CONTROL_MS : PULL_DELAY_ON_ERROR_MS);
        continue;
      }
      if (pq.dropped) break;
      brokerId = result.suggestWhichBrokerId;
      nextOffset = result.nextBeginOffset;
      if (result.status === "FOUND") {
        const msgs: ConsumedMessage[] = [];
        const minOffset = String(result.minOffset);
        const maxOffset = String(result.maxOffset);
        for (const m of result.messages) {
          if (!subscriptionMatches(sub, m.tags)) continue;
          m.properties[Prop.MIN_OFFSET] = minOffset;
          m.properties[Prop.MAX_OFFSET] = maxOffset;
          const originalTopic = m.properties[Prop.RETRY_TOPIC];
          if (originalTopic && m.topic === retryTopic(this.group)) m.topic = originalTopic;
          msgs.push(m);
        }
        const added = pq.put(msgs);
        if (added.length > 0) this.dispatch(mq, pq, added);
        else if (pq.msgCount === 0) this.offsetStore!.update(mq, nextOffset, true);
        if (this.o.pullIntervalMs > 0) await this.pause(this.o.pullIntervalMs);
      } else if (result.status === "OFFSET_ILLEGAL") {
        // Continue from the broker's corrected offset and record it (Java drops and re-creates the queue).
        inst.log.warn(`pull ${mqText(mq)}: offset illegal, continuing at ${nextOffset}`);
        pq.clear();
        this.offsetStore!.update(mq, nextOffset, false);
        await this.offsetStore!.persist(mq);
      } else if (pq.msgCount === 0) {
        this.offsetStore!.update(mq, nextOffset, true);
      }
    }
  }

  /** Retries before the DLQ: -1 means 16 for concurrent consumers and unlimited for orderly ones. */
  private maxReconsumeTimes(): number {
    if (this.o.maxReconsumeTimes >= 0) return this.o.maxReconsumeTimes;
    return this.orderly ? Number.MAX_SAFE_INTEGER : DEFAULT_MAX_RECONSUME_TIMES;
  }

  private dispatch(mq: MessageQueue, pq: ProcessQueue, msgs: ConsumedMessage[]): void {
    if (this.orderlyService) this.orderlyService.dispatch(mq, pq);
    else this.concurrentService!.dispatch(mq, pq, msgs);
  }
}
