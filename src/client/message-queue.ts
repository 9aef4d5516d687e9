// MessageQueue (topic, brokerName, queueId): the unit of routing, allocation and offsets.

export interface MessageQueue {
  topic: string;
  brokerName: string;
  queueId: number;
}

/** Stable map key for a queue. */
export function mqKey(mq: MessageQueue): string {
  return `${mq.topic}\u0001${mq.brokerName}\u0001${mq.queueId}`;
}

/** Java MessageQueue.compareTo: topic, then brokerName, then queueId. */
export function compareMq(a: MessageQueue, b: MessageQueue): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
  if (a.brokerName !== b.brokerName) return a.brokerName < b.brokerName ? -1 : 1;
  return a.queueId - b.queueId;
}

/** The queue in fastjson's key order, for JSON bodies (LOCK_BATCH_MQ, running info). */
export function mqJson(mq: MessageQueue): MessageQueue {
  return { brokerName: mq.brokerName, queueId: mq.queueId, topic: mq.topic };
}

export function mqText(mq: MessageQueue): string {
  return `[topic=${mq.topic}, brokerName=${mq.brokerName}, queueId=${mq.queueId}]`;
}
