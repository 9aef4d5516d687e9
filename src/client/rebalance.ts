// Queue assignment for one consumer group in this client (Java RebalanceImpl, protocol doc 6.7):
// which queues of each subscribed topic this client owns, and their process queues.

import { isRetryTopic } from "../common/topic.ts";
import type { AllocateStrategy } from "./allocate.ts";
import { errorText } from "./errors.ts";
import type { ClientInstance } from "./instance.ts";
import { type MessageQueue, compareMq, mqKey, mqText } from "./message-queue.ts";
import { ProcessQueue } from "./process-queue.ts";
import { subscribeQueues, type TopicRouteData } from "./route.ts";

export type MessageModel = "CLUSTERING" | "BROADCASTING";

/** The consumer side of a rebalance: offsets, locks, pull start and stop. */
export interface RebalanceHost {
  readonly group: string;
  readonly messageModel: MessageModel;
  readonly allocate: AllocateStrategy;
  /** Orderly consumers lock a queue on the broker before taking it. */
  readonly orderly: boolean;
  topicsToBalance(): string[];
  /** Start offset of a newly assigned queue; -1 = skip it this round. */
  computePullFromWhere(mq: MessageQueue): Promise<number>;
  lock(mq: MessageQueue): Promise<boolean>;
  /** A queue was assigned: start pulling it at `offset`. */
  startPulling(mq: MessageQueue, pq: ProcessQueue, offset: number): void;
  /** A queue was taken away: persist its offset, unlock it. Returns false to keep it for now. */
  stopPulling(mq: MessageQueue, pq: ProcessQueue): Promise<boolean>;
  /** The assignment of a topic changed (Java messageQueueChanged). */
  assignmentChanged(topic: string): void;
}

export class Rebalancer {
  /** topic → readable queues from the latest route. */
  readonly topicQueues = new Map<string, MessageQueue[]>();
  /** mqKey → owned queue and its process queue. */
  readonly processQueues = new Map<string, { mq: MessageQueue; pq: ProcessQueue }>();

  constructor(
    private readonly inst: ClientInstance,
    private readonly host: RebalanceHost,
  ) {}

  onRouteChanged(topic: string, route: TopicRouteData): void {
    if (this.host.topicsToBalance().includes(topic)) this.topicQueues.set(topic, subscribeQueues(topic, route));
  }

  async rebalance(): Promise<void> {
    for (const topic of this.host.topicsToBalance()) {
      try {
        await this.rebalanceTopic(topic);
      } catch (err) {
        if (!isRetryTopic(topic)) this.inst.log.warn(`rebalance of ${this.host.group} on ${topic} failed: ${errorText(err)}`);
      }
    }
    // Queues of topics no longer subscribed.
    const topics = new Set(this.host.topicsToBalance());
    for (const [key, { mq, pq }] of [...this.processQueues]) {
      if (!topics.has(mq.topic)) {
        pq.dropped = true;
        this.processQueues.delete(key);
        await this.host.stopPulling(mq, pq);
      }
    }
  }

  private async rebalanceTopic(topic: string): Promise<void> {
    let mqAll = this.topicQueues.get(topic);
    if (!mqAll) {
      const route = await this.inst.updateTopicRoute(topic);
      if (route) this.topicQueues.set(topic, subscribeQueues(topic, route));
      mqAll = this.topicQueues.get(topic);
    }
    if (!mqAll) return;
    let owned: MessageQueue[];
    if (this.host.messageModel === "BROADCASTING") {
      owned = mqAll;
    } else {
      const cidAll = await this.consumerIds(topic, mqAll);
      if (cidAll.length === 0) return;
      const sortedMqs = [...mqAll].sort(compareMq);
      cidAll.sort();
      owned = this.host.allocate(this.host.group, this.inst.clientId, sortedMqs, cidAll);
    }
    if (await this.updateProcessQueues(topic, owned)) this.host.assignmentChanged(topic);
  }

  /** GET_CONSUMER_LIST_BY_GROUP from one broker of the topic (the master if present). */
  private async consumerIds(topic: string, mqAll: MessageQueue[]): Promise<string[]> {
    const brokerNames = [...new Set(mqAll.map((mq) => mq.brokerName))];
    const brokerName = brokerNames[Math.floor(Math.random() * brokerNames.length)];
    if (brokerName === undefined) return [];
    const addr = await this.inst.brokerAddrFor(brokerName, topic);
    return this.inst.consumerIdList(addr, this.host.group);
  }

  /** Applies a new assignment; returns true when it changed. */
  private async updateProcessQueues(topic: string, owned: MessageQueue[]): Promise<boolean> {
    let changed = false;
    const ownedKeys = new Set(owned.map(mqKey));
    for (const [key, { mq, pq }] of [...this.processQueues]) {
      if (mq.topic !== topic) continue;
      if (!ownedKeys.has(key) || (pq.pullExpired && this.host.messageModel === "CLUSTERING")) {
        pq.dropped = true;
        if (await this.host.stopPulling(mq, pq)) {
          this.processQueues.delete(key);
          changed = true;
        }
      }
    }
    for (const mq of owned) {
      const key = mqKey(mq);
      const existing = this.processQueues.get(key);
      // A dropped queue still listed (its removal is pending) is replaced by a fresh one.
      if (existing && !existing.pq.dropped) continue;
      if (this.host.orderly && !(await this.host.lock(mq))) {
        this.inst.log.info(`rebalance: ${mqText(mq)} is locked by another client, skipped`);
        continue;
      }
      let offset: number;
      try {
        offset = await this.host.computePullFromWhere(mq);
      } catch (err) {
        this.inst.log.warn(`rebalance: start offset of ${mqText(mq)} unknown, skipped: ${errorText(err)}`);
        continue;
      }
      if (offset < 0) continue;
      const pq = new ProcessQueue();
      if (this.host.orderly) {
        pq.locked = true;
        pq.lastLockTimestamp = Date.now();
      }
      this.processQueues.set(key, { mq, pq });
      this.host.startPulling(mq, pq, offset);
      changed = true;
    }
    return changed;
  }

  /** Drops every owned queue (shutdown). */
  async dropAll(): Promise<void> {
    for (const [key, { mq, pq }] of [...this.processQueues]) {
      pq.dropped = true;
      await this.host.stopPulling(mq, pq);
      this.processQueues.delete(key);
    }
  }

  ownedQueues(): MessageQueue[] {
    return [...this.processQueues.values()].map((e) => e.mq);
  }
}
