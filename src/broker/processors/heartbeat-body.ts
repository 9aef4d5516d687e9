// The HEART_BEAT (34) body (Java HeartbeatData): clientID, consumerDataSet, producerDataSet.
// Every name in it is validated before anything is registered (common/topic.ts rules), so one bad
// entry refuses the heartbeat with a remark naming the entry instead of half-applying it.

import { clientIdProblem, groupNameProblem, topicNameProblem } from "../../common/topic.ts";
import { subscriptionFromJson, type SubscriptionData } from "../subscription-data.ts";

/** Bound on consumer entries, and on producer entries, in one heartbeat (a client has a handful). */
export const MAX_GROUPS_PER_HEARTBEAT = 1_000;
/** Bound on subscriptions over all consumer entries of one heartbeat. */
export const MAX_SUBSCRIPTIONS_PER_HEARTBEAT = 10_000;

export interface HeartbeatConsumer {
  group: string;
  consumeType: string;
  messageModel: string;
  consumeFromWhere: string;
  unitMode: boolean;
  subscriptions: SubscriptionData[];
}

export interface HeartbeatBody {
  clientId: string;
  consumers: HeartbeatConsumer[];
  producerGroups: string[];
}

/** The body's content, or a string naming the first problem. */
export function readHeartbeatBody(data: Record<string, unknown>): HeartbeatBody | string {
  const clientId = typeof data.clientID === "string" ? data.clientID : "";
  if (clientId.length === 0) return "heartbeat body has no clientID";
  const clientProblem = clientIdProblem(clientId);
  if (clientProblem) return `heartbeat clientID: ${clientProblem}`;
  const consumerData = Array.isArray(data.consumerDataSet) ? data.consumerDataSet : [];
  const producerData = Array.isArray(data.producerDataSet) ? data.producerDataSet : [];
  if (consumerData.length > MAX_GROUPS_PER_HEARTBEAT) return `heartbeat consumerDataSet has ${consumerData.length} entries, more than ${MAX_GROUPS_PER_HEARTBEAT}`;
  if (producerData.length > MAX_GROUPS_PER_HEARTBEAT) return `heartbeat producerDataSet has ${producerData.length} entries, more than ${MAX_GROUPS_PER_HEARTBEAT}`;

  const consumers: HeartbeatConsumer[] = [];
  let subscriptionCount = 0;
  for (const [i, raw] of consumerData.entries()) {
    if (typeof raw !== "object" || raw === null) continue;
    const c = raw as Record<string, unknown>;
    const group = typeof c.groupName === "string" ? c.groupName : "";
    if (group.length === 0) continue;
    const groupProblem = groupNameProblem(group);
    if (groupProblem) return `heartbeat consumerDataSet[${i}].groupName: ${groupProblem}`;
    const subs = Array.isArray(c.subscriptionDataSet) ? c.subscriptionDataSet : [];
    subscriptionCount += subs.length;
    if (subscriptionCount > MAX_SUBSCRIPTIONS_PER_HEARTBEAT) return `heartbeat has more than ${MAX_SUBSCRIPTIONS_PER_HEARTBEAT} subscriptions`;
    const subscriptions: SubscriptionData[] = [];
    for (const [j, s] of subs.entries()) {
      const sub = subscriptionFromJson(s);
      if (!sub) continue;
      const topicProblem = topicNameProblem(sub.topic);
      if (topicProblem) return `heartbeat consumerDataSet[${i}].subscriptionDataSet[${j}].topic: ${topicProblem}`;
      subscriptions.push(sub);
    }
    consumers.push({
      group,
      consumeType: String(c.consumeType ?? "CONSUME_PASSIVELY"),
      messageModel: String(c.messageModel ?? "CLUSTERING"),
      consumeFromWhere: String(c.consumeFromWhere ?? "CONSUME_FROM_LAST_OFFSET"),
      unitMode: c.unitMode === true,
      subscriptions,
    });
  }

  const producerGroups: string[] = [];
  for (const [i, raw] of producerData.entries()) {
    const group = typeof raw === "object" && raw !== null ? (raw as Record<string, unknown>).groupName : undefined;
    if (typeof group !== "string" || group.length === 0) continue;
    const groupProblem = groupNameProblem(group);
    if (groupProblem) return `heartbeat producerDataSet[${i}].groupName: ${groupProblem}`;
    producerGroups.push(group);
  }
  return { clientId, consumers, producerGroups };
}
