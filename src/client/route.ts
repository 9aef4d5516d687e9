// Topic route data from the NameServer (protocol doc 4.1) and what producers and consumers derive
// from it (publish and subscribe queue lists, protocol doc 6.2).

import { MASTER_BROKER_ID, type TopicRouteData } from "../common/route-data.ts";
import { isReadable, isWriteable } from "../common/topic.ts";
import { type MessageQueue } from "./message-queue.ts";

export type { BrokerData, QueueData, TopicRouteData } from "../common/route-data.ts";

/** The master's key in a route's brokerAddrs (JSON object keys are strings). */
export const MASTER_ID = String(MASTER_BROKER_ID);

function int(v: unknown, what: string): number {
  const n = typeof v === "string" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n)) throw new Error(`route data field ${what} is not an integer`);
  return n;
}

function str(v: unknown, what: string): string {
  if (typeof v !== "string") throw new Error(`route data field ${what} is not a string`);
  return v;
}

/** Validates parsed route JSON into TopicRouteData; throws naming the bad field. */
export function toTopicRouteData(raw: unknown): TopicRouteData {
  if (typeof raw !== "object" || raw === null) throw new Error("route data is not an object");
  const r = raw as Record<string, unknown>;
  if (!Array.isArray(r.queueDatas) || !Array.isArray(r.brokerDatas)) throw new Error("route data lacks queueDatas/brokerDatas arrays");
  const queueDatas = r.queueDatas.map((q: Record<string, unknown>) => ({
    brokerName: str(q.brokerName, "queueDatas.brokerName"),
    readQueueNums: int(q.readQueueNums, "readQueueNums"),
    writeQueueNums: int(q.writeQueueNums, "writeQueueNums"),
    perm: int(q.perm, "perm"),
    topicSysFlag: q.topicSysFlag === undefined ? 0 : int(q.topicSysFlag, "topicSysFlag"),
  }));
  const brokerDatas = r.brokerDatas.map((b: Record<string, unknown>) => {
    const addrs: Record<string, string> = {};
    for (const [id, addr] of Object.entries((b.brokerAddrs ?? {}) as Record<string, unknown>)) addrs[String(id)] = str(addr, "brokerAddrs");
    return { cluster: typeof b.cluster === "string" ? b.cluster : "", brokerName: str(b.brokerName, "brokerDatas.brokerName"), brokerAddrs: addrs };
  });
  queueDatas.sort((a, b) => (a.brokerName < b.brokerName ? -1 : a.brokerName > b.brokerName ? 1 : 0));
  brokerDatas.sort((a, b) => (a.brokerName < b.brokerName ? -1 : a.brokerName > b.brokerName ? 1 : 0));
  const out: TopicRouteData = { queueDatas, brokerDatas };
  if (typeof r.orderTopicConf === "string" && r.orderTopicConf.length > 0) out.orderTopicConf = r.orderTopicConf;
  return out;
}

/** Canonical text of a route, to detect changes cheaply on each refresh. */
export function routeSignature(route: TopicRouteData): string {
  return JSON.stringify(route);
}

/** Writable queues, brokers in name order (Java MQClientInstance.topicRouteData2TopicPublishInfo). */
export function publishQueues(topic: string, route: TopicRouteData): { queues: MessageQueue[]; orderTopic: boolean } {
  const queues: MessageQueue[] = [];
  if (route.orderTopicConf) {
    for (const entry of route.orderTopicConf.split(";")) {
      const [brokerName, nums] = entry.split(":");
      const n = Number(nums);
      if (!brokerName || !Number.isInteger(n)) continue;
      for (let i = 0; i < n; i++) queues.push({ topic, brokerName, queueId: i });
    }
    return { queues, orderTopic: true };
  }
  for (const qd of route.queueDatas) {
    if (!isWriteable(qd.perm)) continue;
    const broker = route.brokerDatas.find((b) => b.brokerName === qd.brokerName);
    if (!broker || broker.brokerAddrs[MASTER_ID] === undefined) continue;
    for (let i = 0; i < qd.writeQueueNums; i++) queues.push({ topic, brokerName: qd.brokerName, queueId: i });
  }
  return { queues, orderTopic: false };
}

/** Readable queues (Java topicRouteData2TopicSubscribeInfo). */
export function subscribeQueues(topic: string, route: TopicRouteData): MessageQueue[] {
  const queues: MessageQueue[] = [];
  for (const qd of route.queueDatas) {
    if (!isReadable(qd.perm)) continue;
    for (let i = 0; i < qd.readQueueNums; i++) queues.push({ topic, brokerName: qd.brokerName, queueId: i });
  }
  return queues;
}
