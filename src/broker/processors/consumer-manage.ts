// GET_CONSUMER_LIST_BY_GROUP (38), QUERY_CONSUMER_OFFSET (14), UPDATE_CONSUMER_OFFSET (15),
// LOCK_BATCH_MQ (41), UNLOCK_BATCH_MQ (42) (protocol doc 3.3.3, 6.9, 6.11).

import { clientIdProblem, groupNameProblem, topicNameProblem } from "../../common/topic.ts";
import { ResponseCode } from "../../remoting/codes.ts";
import { RemotingCommand } from "../../remoting/command.ts";
import type { BrokerController } from "../broker.ts";
import type { MessageQueueId } from "../rebalance-lock.ts";
import { HeaderReader } from "./header.ts";
import { jsonBody, parseJsonBody } from "./json-body.ts";

/** Bound on queues in one lock/unlock request. */
const MAX_QUEUES_PER_LOCK_REQUEST = 10_000;

export class ConsumerManageProcessor {
  constructor(private readonly broker: BrokerController) {}

  getConsumerList(request: RemotingCommand): RemotingCommand {
    const group = new HeaderReader(request.extFields).group("consumerGroup");
    const info = this.broker.consumers.get(group);
    if (!info || info.channels.size === 0) {
      return RemotingCommand.responseTo(request, ResponseCode.SYSTEM_ERROR, `no consumer for this group, ${group}`);
    }
    const response = RemotingCommand.responseTo(request, ResponseCode.SUCCESS);
    response.body = jsonBody({ consumerIdList: [...info.channels.values()].map((c) => c.clientId) });
    return response;
  }

  /**
   * Stores an offset only for an existing topic and a queue id below its readQueueNums, with the
   * codes and remarks RocketMQ 5 answers (4.9 stored anything: any topic name, any queue id, so one
   * client could grow consumerOffset.json without bound).
   */
  updateConsumerOffset(request: RemotingCommand): RemotingCommand {
    const h = new HeaderReader(request.extFields);
    const group = h.group("consumerGroup");
    const topic = h.topic("topic");
    const queueId = h.int("queueId");
    const topicConfig = this.broker.topics.get(topic);
    if (!topicConfig) return RemotingCommand.responseTo(request, ResponseCode.TOPIC_NOT_EXIST, `Topic ${topic} not exist!`);
    if (queueId < 0 || queueId >= topicConfig.readQueueNums) {
      return RemotingCommand.responseTo(request, ResponseCode.SYSTEM_ERROR, `QueueId ${queueId} is out of range 0..${topicConfig.readQueueNums - 1} (readQueueNums) of topic ${topic}`);
    }
    this.broker.offsets.commitOffset(group, topic, queueId, h.int("commitOffset"));
    return RemotingCommand.responseTo(request, ResponseCode.SUCCESS);
  }

  queryConsumerOffset(request: RemotingCommand): RemotingCommand {
    const h = new HeaderReader(request.extFields);
    const group = h.group("consumerGroup");
    const topic = h.topic("topic");
    const queueId = h.int("queueId");
    const stored = this.broker.offsets.queryOffset(group, topic, queueId);
    if (stored >= 0) return RemotingCommand.responseTo(request, ResponseCode.SUCCESS, undefined, { offset: String(stored) });
    const store = this.broker.store;
    const minOffset = store.getMinOffsetInQueue(topic, queueId);
    // "Hot data → 0": a young queue whose first message is still in memory starts at 0 (protocol doc 3.3.3).
    if (minOffset <= 0 && !store.checkInDiskByConsumeOffset(topic, queueId, 0)) {
      return RemotingCommand.responseTo(request, ResponseCode.SUCCESS, undefined, { offset: "0" });
    }
    return RemotingCommand.responseTo(request, ResponseCode.QUERY_NOT_FOUND, "Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first");
  }

  lockBatch(request: RemotingCommand): RemotingCommand {
    const parsed = parseLockBody(request);
    if (typeof parsed === "string") return RemotingCommand.responseTo(request, ResponseCode.SYSTEM_ERROR, parsed);
    const locked = this.broker.locks.tryLockBatch(parsed.group, parsed.mqs, parsed.clientId);
    const response = RemotingCommand.responseTo(request, ResponseCode.SUCCESS);
    response.body = jsonBody({ lockOKMQSet: locked.map((mq) => ({ brokerName: mq.brokerName, queueId: mq.queueId, topic: mq.topic })) });
    return response;
  }

  unlockBatch(request: RemotingCommand): RemotingCommand {
    const parsed = parseLockBody(request);
    if (typeof parsed === "string") return RemotingCommand.responseTo(request, ResponseCode.SYSTEM_ERROR, parsed);
    this.broker.locks.unlockBatch(parsed.group, parsed.mqs, parsed.clientId);
    return RemotingCommand.responseTo(request, ResponseCode.SUCCESS);
  }
}

/** LockBatchRequestBody / UnlockBatchRequestBody; a string names what is wrong. */
function parseLockBody(request: RemotingCommand): { group: string; clientId: string; mqs: MessageQueueId[] } | string {
  const body = parseJsonBody(request.body);
  if (!body.ok) return `lock body ${body.problem}`;
  const v = body.value as Record<string, unknown>;
  if (typeof v.consumerGroup !== "string" || typeof v.clientId !== "string") return "lock body needs consumerGroup and clientId";
  const nameProblem = groupNameProblem(v.consumerGroup) ?? clientIdProblem(v.clientId);
  if (nameProblem) return `lock body: ${nameProblem}`;
  const mqs: MessageQueueId[] = [];
  if (Array.isArray(v.mqSet)) {
    if (v.mqSet.length > MAX_QUEUES_PER_LOCK_REQUEST) return `lock body has ${v.mqSet.length} queues, more than ${MAX_QUEUES_PER_LOCK_REQUEST}`;
    for (const [i, raw] of v.mqSet.entries()) {
      if (typeof raw !== "object" || raw === null) continue;
      const mq = raw as Record<string, unknown>;
      const queueId = Number(mq.queueId);
      if (typeof mq.topic !== "string" || typeof mq.brokerName !== "string" || !Number.isInteger(queueId)) continue;
      const topicProblem = topicNameProblem(mq.topic);
      if (topicProblem) return `lock body mqSet[${i}].topic: ${topicProblem}`;
      mqs.push({ topic: mq.topic, brokerName: mq.brokerName, queueId });
    }
  }
  return { group: v.consumerGroup, clientId: v.clientId, mqs };
}
