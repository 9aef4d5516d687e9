// Lite pull consumer (Java DefaultLitePullConsumer): assign queues or subscribe (rebalanced like a
// push consumer), then poll(timeoutMs), seek and commit offsets yourself or automatically.

import { Prop } from "../common/message.ts";
import { isGroupNameIllegal } from "../common/topic.ts";
import { type AllocateStrategy, allocateAveragely } from "./allocate.ts";
import { maxOffset, minOffset, pullMessage, searchOffset } from "./broker-api.ts";
import type { ClientConfig } from "./client-config.ts";
import type { ConsumedMessage } from "./consumed-message.ts";
import { MQClientError, errorText } from "./errors.ts";
import { ClientInstance, type ConsumerData, type ConsumerMember, consumerDataOf } from "./instance.ts";
import { type MessageQueue, mqKey, mqText } from "./message-queue.ts";
import { type OffsetStore, defaultLocalOffsetDir, openOffsetStore } from "./offset-store.ts";
import type { ProcessQueue } from "./process-queue.ts";
import { type MessageModel, type RebalanceHost, Rebalancer } from "./rebalance.ts";
import { subscribeQueues, type TopicRouteData } from "./route.ts";
import type { RemotingCommand } from "../remoting/command.ts";
import { type ConsumeFromWhere, DEFAULT_CONSUME_TIMESTAMP_AGO_MS } from "./push-consumer.ts";
import { type SubscriptionData, buildSubscription, subscriptionMatches } from "./subscription.ts";

/** Longest broker hold of one pull (Java pull consumer brokerSuspendMaxTimeMillis, 20 s). */
const PULL_SUSPEND_MAX_MS = 20_000;
/** Extra time over the hold before a pull times out on the client. */
const PULL_TIMEOUT_MARGIN_MS = 10_000;
/** Pause after a failed pull of one queue. */
const PULL_DELAY_ON_ERROR_MS = 1_000;

export interface PullConsumerOptions extends ClientConfig {
  groupName: string;
  messageModel?: MessageModel;
  consumeFromWhere?: ConsumeFromWhere;
  consumeTimestamp?: number;
  allocateStrategy?: AllocateStrategy;
  /** Most messages one poll returns, and one pull asks for. */
  pullBatchSize?: number;
  /** Commit consumed positions every persist interval (Java autoCommit, default true). */
  autoCommit?: boolean;
  offsetStoreDir?: string;
}

interface QueueState {
  mq: MessageQueue;
  /** Next offset to pull. */
  pullOffset: number;
  buffer: ConsumedMessage[];
  inflight: boolean;
  /** Bumped by seek: results of pulls started earlier are discarded. */
  generation: number;
  errorUntilMs: number;
}

export class PullConsumer implements ConsumerMember, RebalanceHost {
  readonly group: string;
  readonly messageModel: MessageModel;
  readonly allocate: AllocateStrategy;
  readonly orderly = false;
  private readonly clientConfig: ClientConfig;
  private readonly consumeFromWhere: ConsumeFromWhere;
  private readonly consumeTimestampMs: number;
  private readonly batchSize: number;
  private readonly autoCommit: boolean;
  private readonly offsetDir: string;
  private readonly subscriptions = new Map<string, SubscriptionData>();
  private readonly queues = new Map<string, QueueState>();
  private assigned = false;
  private assignedQueues: MessageQueue[] = [];
  private inst: ClientInstance | undefined;
  private offsetStore: OffsetStore | undefined;
  private rebalancer: Rebalancer | undefined;
  private state: "created" | "running" | "shutdown" = "created";
  private wake: () => void = () => {};
  private rotation = 0;

  constructor(options: PullConsumerOptions) {
    if (!options || typeof options.groupName !== "string" || isGroupNameIllegal(options.groupName)) {
      throw new MQClientError(`consumer groupName ${options?.groupName} is missing or contains illegal characters`);
    }
    this.group = options.groupName;
    this.clientConfig = options;
    this.messageModel = options.messageModel ?? "CLUSTERING";
    this.allocate = options.allocateStrategy ?? allocateAveragely;
    this.consumeFromWhere = options.consumeFromWhere ?? "CONSUME_FROM_LAST_OFFSET";
    this.consumeTimestampMs = options.consumeTimestamp ?? Date.now() - DEFAULT_CONSUME_TIMESTAMP_AGO_MS;
    this.batchSize = options.pullBatchSize ?? 32;
    this.autoCommit = options.autoCommit ?? true;
    this.offsetDir = options.offsetStoreDir ?? defaultLocalOffsetDir();
  }

  async start(): Promise<void> {
    if (this.state !== "created") throw new MQClientError(`the consumer cannot start in state ${this.state}`);
    const inst = ClientInstance.acquire(this.clientConfig);
    this.inst = inst;
    this.rebalancer = new Rebalancer(inst, this);
    this.offsetStore = openOffsetStore(inst, this.group, this.messageModel, this.offsetDir);
    inst.registerConsumer(this);
    this.state = "running";
    await this.refresh();
  }

  async shutdown(): Promise<void> {
    if (this.state !== "running") return;
    this.state = "shutdown";
    this.wake();
    if (this.autoCommit) await this.commitSync();
    await this.inst!.unregister(this, "consumer");
  }

  /** Subscribe mode: queues come from rebalancing within the group. */
  subscribe(topic: string, expression = "*"): this {
    if (this.assigned) throw new MQClientError("subscribe and assign are exclusive");
    this.subscriptions.set(topic, buildSubscription(topic, expression));
    if (this.state === "running") void this.refresh();
    return this;
  }

  /** Assign mode: exactly these queues, no rebalancing. */
  async assign(mqs: MessageQueue[]): Promise<void> {
    if (this.subscriptions.size > 0 && !this.assigned) throw new MQClientError("subscribe and assign are exclusive");
    this.assigned = true;
    this.assignedQueues = [...mqs];
    const keep = new Set(mqs.map(mqKey));
    for (const key of [...this.queues.keys()]) if (!keep.has(key)) this.queues.delete(key);
    for (const mq of mqs) if (!this.subscriptions.has(mq.topic)) this.subscriptions.set(mq.topic, buildSubscription(mq.topic, "*"));
    if (this.state === "running") await this.refresh();
  }

  private async refresh(): Promise<void> {
    const inst = this.inst!;
    for (const t of this.subscriptions.keys()) await inst.updateTopicRoute(t).catch((err) => inst.log.warn(`route of ${t}: ${errorText(err)}`));
    await inst.sendHeartbeatToAllBrokers();
    if (this.assigned) {
      for (const mq of this.assignedQueues) if (!this.queues.has(mqKey(mq))) this.addQueue(mq, await this.computePullFromWhere(mq));
    } else {
      await inst.rebalanceNow();
    }
  }

  /** Readable queues of a topic, from the NameServer. */
  async fetchMessageQueues(topic: string): Promise<MessageQueue[]> {
    const inst = this.running();
    const route = await inst.updateTopicRoute(topic);
    if (!route) throw new MQClientError(`No route info of this topic: ${topic}`);
    return subscribeQueues(topic, route);
  }

  assignment(): MessageQueue[] {
    return [...this.queues.values()].map((s) => s.mq);
  }

  /**
   * Messages from the owned queues, waiting up to `timeoutMs` for some to arrive. Positions move
   * past what is returned; with autoCommit they are committed in the background.
   */
  async poll(timeoutMs = 5_000): Promise<ConsumedMessage[]> {
    this.running();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const states = [...this.queues.values()];
      for (let i = 0; i < states.length; i++) {
        const st = states[(this.rotation + i) % states.length]!;
        if (st.buffer.length === 0) continue;
        this.rotation = (this.rotation + i + 1) % states.length;
        const msgs = st.buffer.splice(0, this.batchSize);
        this.offsetStore!.update(st.mq, msgs[msgs.length - 1]!.queueOffset + 1, false);
        return msgs;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0 || this.state !== "running") return [];
      const arrived = new Promise<void>((resolve) => (this.wake = resolve));
      for (const st of states) if (!st.inflight && Date.now() >= st.errorUntilMs) this.pullInto(st, Math.min(remaining, PULL_SUSPEND_MAX_MS));
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([arrived, new Promise<void>((r) => (timer = setTimeout(r, Math.min(remaining, PULL_DELAY_ON_ERROR_MS))))]);
      clearTimeout(timer);
    }
  }

  private pullInto(st: QueueState, suspendMs: number): void {
    const sub = this.subscriptions.get(st.mq.topic);
    if (!sub) return;
    st.inflight = true;
    const generation = st.generation;
    pullMessage(this.inst!, {
      group: this.group,
      mq: st.mq,
      offset: st.pullOffset,
      maxMsgNums: this.batchSize,
      subExpression: sub.subString,
      subVersion: sub.subVersion,
      suspend: true,
      suspendTimeoutMs: suspendMs,
      timeoutMs: suspendMs + PULL_TIMEOUT_MARGIN_MS,
    })
      .then((result) => {
        if (generation !== st.generation) return;
        st.pullOffset = result.nextBeginOffset;
        const minOffsetText = String(result.minOffset);
        const maxOffsetText = String(result.maxOffset);
        for (const m of result.messages) {
          if (!subscriptionMatches(sub, m.tags)) continue;
          m.properties[Prop.MIN_OFFSET] = minOffsetText;
          m.properties[Prop.MAX_OFFSET] = maxOffsetText;
          st.buffer.push(m);
        }
      })
      .catch((err) => {
        if (this.state === "running") this.inst!.log.warn(`pull ${mqText(st.mq)} failed: ${errorText(err)}`);
        st.errorUntilMs = Date.now() + PULL_DELAY_ON_ERROR_MS;
      })
      .finally(() => {
        st.inflight = false;
        this.wake();
      });
  }

  /** Moves the position of an owned queue; buffered and in-flight messages are discarded. */
  seek(mq: MessageQueue, offset: number): void {
    const st = this.queues.get(mqKey(mq));
    if (!st) throw new MQClientError(`seek: ${mqText(mq)} is not assigned to this consumer`);
    if (!Number.isInteger(offset) || offset < 0) throw new MQClientError(`seek: offset ${offset} is not a non-negative integer`);
    st.generation++;
    st.buffer = [];
    st.pullOffset = offset;
    this.offsetStore!.update(mq, offset, false);
  }

  async seekToBegin(mq: MessageQueue): Promise<void> {
    this.seek(mq, await minOffset(this.running(), mq));
  }

  async seekToEnd(mq: MessageQueue): Promise<void> {
    this.seek(mq, await maxOffset(this.running(), mq));
  }

  async offsetForTimestamp(mq: MessageQueue, timestampMs: number): Promise<number> {
    return searchOffset(this.running(), mq, timestampMs);
  }

  /** Commits the positions of every owned queue and waits for the broker. */
  async commitSync(): Promise<void> {
    await this.offsetStore!.persistAll(this.assignment(), true);
  }

  /** The committed offset stored by the broker (or local file); -1 when none. */
  committed(mq: MessageQueue): Promise<number> {
    this.running();
    return this.offsetStore!.readStore(mq);
  }

  private running(): ClientInstance {
    if (this.state !== "running" || !this.inst) throw new MQClientError(`the consumer is not running (state ${this.state})`);
    return this.inst;
  }

  private addQueue(mq: MessageQueue, offset: number): void {
    if (offset < 0) return;
    this.queues.set(mqKey(mq), { mq, pullOffset: offset, buffer: [], inflight: false, generation: 0, errorUntilMs: 0 });
    this.offsetStore!.update(mq, offset, false);
  }

  // ---- ConsumerMember ----

  consumerData(): ConsumerData {
    return consumerDataOf({ consumeFromWhere: this.consumeFromWhere, consumeType: "CONSUME_ACTIVELY", groupName: this.group, messageModel: this.messageModel }, this.subscriptions);
  }

  topics(): string[] {
    return [...this.subscriptions.keys()];
  }

  topicsToBalance(): string[] {
    return this.assigned ? [] : this.topics();
  }

  onRouteChanged(topic: string, route: TopicRouteData): void {
    this.rebalancer?.onRouteChanged(topic, route);
  }

  async rebalance(): Promise<void> {
    if (this.state === "running" && !this.assigned) await this.rebalancer!.rebalance();
  }

  async persistOffsets(): Promise<void> {
    if (this.state === "running" && this.autoCommit) await this.offsetStore!.persistAll(this.assignment());
  }

  async resetOffset(topic: string, offsets: Array<{ brokerName: string; queueId: number; offset: number }>): Promise<void> {
    for (const o of offsets) {
      const mq = { topic, brokerName: o.brokerName, queueId: o.queueId };
      if (this.queues.has(mqKey(mq))) this.seek(mq, o.offset);
    }
  }

  runningInfo(): Record<string, unknown> {
    return {
      mqTable: {},
      properties: { PROP_CONSUME_TYPE: "CONSUME_ACTIVELY", consumerGroup: this.group, messageModel: this.messageModel },
      statusTable: {},
      subscriptionSet: [...this.subscriptions.values()],
    };
  }

  async consumeDirectly(_request: RemotingCommand): Promise<Record<string, unknown>> {
    return { autoCommit: true, consumeResult: "CR_THROW_EXCEPTION", order: false, remark: "a pull consumer has no listener", spentTimeMills: 0 };
  }

  // ---- RebalanceHost ----

  async computePullFromWhere(mq: MessageQueue): Promise<number> {
    const stored = await this.offsetStore!.readStore(mq);
    if (stored >= 0) return stored;
    if (this.consumeFromWhere === "CONSUME_FROM_FIRST_OFFSET") return 0;
    if (this.consumeFromWhere === "CONSUME_FROM_TIMESTAMP") return searchOffset(this.inst!, mq, this.consumeTimestampMs);
    return maxOffset(this.inst!, mq);
  }

  async lock(_mq: MessageQueue): Promise<boolean> {
    return true;
  }

  startPulling(mq: MessageQueue, _pq: ProcessQueue, offset: number): void {
    this.addQueue(mq, offset);
    this.wake();
  }

  async stopPulling(mq: MessageQueue, _pq: ProcessQueue): Promise<boolean> {
    if (this.autoCommit) await this.offsetStore!.persist(mq);
    this.queues.delete(mqKey(mq));
    this.offsetStore!.remove(mq);
    return true;
  }

  assignmentChanged(_topic: string): void {}
}
