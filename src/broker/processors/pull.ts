// PULL_MESSAGE (11) with long polling (protocol doc 3.3.3 and 6.8, storage doc §12.4/§12.5).

import { PullSysFlag } from "../../common/message.ts";
import { isReadable } from "../../common/topic.ts";
import { ResponseCode } from "../../remoting/codes.ts";
import { RemotingCommand } from "../../remoting/command.ts";
import type { Connection } from "../../remoting/connection.ts";
import type { GetMessageResult } from "../../store/store-types.ts";
import type { BrokerController } from "../broker.ts";
import { MAX_SUSPEND_TIMEOUT_MS, MAX_SUSPENDED_PULLS, MAX_SUSPENDED_PULLS_PER_CONNECTION, type SuspendedPull } from "../long-polling.ts";
import { buildSubscriptionData, tagFilter, type SubscriptionData } from "../subscription-data.ts";
import { HeaderReader } from "./header.ts";

/** Upper bound on messages per pull, whatever the client asks (the store caps bytes further). */
export const MAX_PULL_BATCH_MESSAGES = 1_024;

const FAQ = "See http://rocketmq.apache.org/docs/faq/ for further details.";

export class PullProcessor {
  constructor(private readonly broker: BrokerController) {}

  /** Answers a pull, or parks it and returns null (answered later through the connection). */
  process(request: RemotingCommand, conn: Connection, allowSuspend = true): RemotingCommand | null {
    const b = this.broker;
    const h = new HeaderReader(request.extFields);
    const group = h.group("consumerGroup");
    const topic = h.topic("topic");
    const queueId = h.int("queueId");
    const queueOffset = h.int("queueOffset");
    const maxMsgNums = Math.min(Math.max(h.int("maxMsgNums"), 1), MAX_PULL_BATCH_MESSAGES);
    const sysFlag = h.int("sysFlag");
    const commitOffset = h.optInt("commitOffset") ?? 0;
    const suspendTimeoutMillis = h.optInt("suspendTimeoutMillis") ?? 0;
    const subVersion = h.optInt("subVersion") ?? 0;
    const fail = (code: number, remark: string) => RemotingCommand.responseTo(request, code, remark);

    if (!isReadable(b.config.brokerPermission)) return fail(ResponseCode.NO_PERMISSION, `the broker[${b.brokerAddr}] pulling message is forbidden`);
    const groupConfig = b.groups.findOrCreate(group);
    if (!groupConfig) return fail(ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, `subscription group [${group}] does not exist, ${FAQ}`);
    if (!groupConfig.consumeEnable) return fail(ResponseCode.NO_PERMISSION, `subscription group no permission, ${group}`);

    const hasSuspend = (sysFlag & PullSysFlag.SUSPEND) !== 0;
    const hasCommitOffset = (sysFlag & PullSysFlag.COMMIT_OFFSET) !== 0;
    const hasSubscription = (sysFlag & PullSysFlag.SUBSCRIPTION) !== 0;

    const topicConfig = b.topics.get(topic);
    if (!topicConfig) return fail(ResponseCode.TOPIC_NOT_EXIST, `topic[${topic}] not exist, apply first please! ${FAQ}`);
    if (!isReadable(topicConfig.perm)) return fail(ResponseCode.NO_PERMISSION, `the topic[${topic}] pulling message is forbidden`);
    if (queueId < 0 || queueId >= topicConfig.readQueueNums) {
      return fail(ResponseCode.SYSTEM_ERROR, `queueId[${queueId}] is illegal, topic:[${topic}] topicConfig.readQueueNums:[${topicConfig.readQueueNums}] consumer:[${conn.remoteAddress}]`);
    }

    let sub: SubscriptionData | undefined;
    if (hasSubscription) {
      try {
        sub = buildSubscriptionData(topic, h.optStr("subscription"), subVersion, h.optStr("expressionType") ?? "TAG");
      } catch (err) {
        return fail(ResponseCode.SUBSCRIPTION_PARSE_FAILED, `parse the consumer's subscription failed: ${(err as Error).message}`);
      }
    } else {
      const info = b.consumers.get(group);
      if (!info) return fail(ResponseCode.SUBSCRIPTION_NOT_EXIST, `the consumer's group info not exist ${FAQ}`);
      if (!groupConfig.consumeBroadcastEnable && info.messageModel === "BROADCASTING") {
        return fail(ResponseCode.NO_PERMISSION, `the consumer group[${group}] can not consume by broadcast way`);
      }
      sub = info.subscriptionTable.get(topic);
      if (!sub) return fail(ResponseCode.SUBSCRIPTION_NOT_EXIST, `the consumer's subscription not exist ${FAQ}`);
      if (sub.subVersion < subVersion) return fail(ResponseCode.SUBSCRIPTION_NOT_LATEST, "the consumer's subscription not latest");
    }
    if (sub.expressionType !== "TAG" && !b.config.enablePropertyFilter) {
      return fail(ResponseCode.SYSTEM_ERROR, `The broker does not support consumer to filter message by ${sub.expressionType}`);
    }

    const filter = tagFilter(sub);
    const getBeganMs = Date.now();
    const result = b.store.getMessage(group, topic, queueId, queueOffset, maxMsgNums, filter);
    b.stats.recordGet(result.status === "FOUND", Date.now() - getBeganMs);
    // suggestWhichBrokerId (Java PullMessageProcessor): with slaveReadEnable, the group's slave when the
    // data has left memory (whichBrokerWhenConsumeSlowly) else its brokerId; without it, always the
    // master. Java also sets PULL_RETRY_IMMEDIATELY on a slave without slaveReadEnable, but its
    // status switch overwrites that code, so a slave serves pulls either way — which is what lets
    // consumers go on while the master is down.
    const suggested = b.config.slaveReadEnable ? (result.suggestPullingFromSlave ? groupConfig.whichBrokerWhenConsumeSlowly : groupConfig.brokerId) : 0;
    const response = pullResponse(request, result, queueOffset, suggested);
    if (response.code === ResponseCode.SUCCESS) b.stats.addTransferred(group, topic, result.messages.length);

    // The piggy-backed commit happens on the first pass only, and only on a master.
    if (allowSuspend && hasCommitOffset && b.config.brokerRole !== "SLAVE") b.offsets.commitOffset(group, topic, queueId, commitOffset);

    if (response.code === ResponseCode.PULL_NOT_FOUND && allowSuspend && hasSuspend) {
      const asked = b.config.longPollingEnable ? suspendTimeoutMillis : b.config.shortPollingTimeMills;
      const timeoutMs = Math.min(Math.max(asked, 0), MAX_SUSPEND_TIMEOUT_MS);
      const pull: SuspendedPull = { request: parkedRequest(request), conn, suspendedAtMs: Date.now(), timeoutMs, pullFromOffset: queueOffset, filter };
      const refusal = b.longPolling.suspend(topic, queueId, pull);
      if (refusal === undefined) return null;
      // SYSTEM_BUSY: a Java consumer backs off (3 s) instead of pulling again at once.
      const bound = refusal === "broker" ? `${MAX_SUSPENDED_PULLS} on this broker` : `${MAX_SUSPENDED_PULLS_PER_CONNECTION} on this connection`;
      return fail(ResponseCode.SYSTEM_BUSY, `[PULL]too many suspended pulls (${bound}), try again later`);
    }
    return response;
  }

  /** Long-polling wake-up: re-run without suspension and answer on the original connection. */
  executeAgain(pull: SuspendedPull): void {
    let response: RemotingCommand | null;
    try {
      response = this.process(pull.request, pull.conn, false);
    } catch (err) {
      response = RemotingCommand.responseTo(pull.request, ResponseCode.SYSTEM_ERROR, (err as Error).message);
    }
    if (response) pull.conn.send(response);
  }
}

/** PullMessageRequestHeader fields (Java 4.9), the only ones a parked pull keeps. */
const PULL_HEADER_FIELDS = [
  "consumerGroup",
  "topic",
  "queueId",
  "queueOffset",
  "maxMsgNums",
  "sysFlag",
  "commitOffset",
  "suspendTimeoutMillis",
  "subscription",
  "subVersion",
  "expressionType",
] as const;

/**
 * What a parked pull keeps of its request: the pull header fields and the ids its answer needs,
 * no body and no other fields (60 parked pulls with 8 MiB bodies once held 500 MiB).
 */
function parkedRequest(request: RemotingCommand): RemotingCommand {
  const extFields: Record<string, string> = {};
  for (const name of PULL_HEADER_FIELDS) {
    const value = request.extFields[name];
    if (value !== undefined) extFields[name] = value;
  }
  const parked = RemotingCommand.request(request.code, extFields);
  parked.opaque = request.opaque;
  parked.flag = request.flag;
  parked.serializeType = request.serializeType;
  return parked;
}

/** Store result → PULL_MESSAGE response code, header and body (protocol doc 6.8 step 6). */
export function pullResponse(request: RemotingCommand, r: GetMessageResult, requestOffset: number, suggestWhichBrokerId: number): RemotingCommand {
  let code: number;
  switch (r.status) {
    case "FOUND":
      code = ResponseCode.SUCCESS;
      break;
    case "MESSAGE_WAS_REMOVING":
    case "NO_MATCHED_MESSAGE":
      code = ResponseCode.PULL_RETRY_IMMEDIATELY;
      break;
    case "NO_MATCHED_LOGIC_QUEUE":
    case "NO_MESSAGE_IN_QUEUE":
      code = requestOffset !== 0 ? ResponseCode.PULL_OFFSET_MOVED : ResponseCode.PULL_NOT_FOUND;
      break;
    case "OFFSET_FOUND_NULL":
    case "OFFSET_OVERFLOW_ONE":
      code = ResponseCode.PULL_NOT_FOUND;
      break;
    case "OFFSET_OVERFLOW_BADLY":
    case "OFFSET_TOO_SMALL":
      code = ResponseCode.PULL_OFFSET_MOVED;
      break;
    default:
      code = ResponseCode.SYSTEM_ERROR;
  }
  const response = RemotingCommand.responseTo(request, code, r.status, {
    suggestWhichBrokerId: String(suggestWhichBrokerId),
    nextBeginOffset: String(r.nextBeginOffset),
    minOffset: String(r.minOffset),
    maxOffset: String(r.maxOffset),
  });
  if (code === ResponseCode.SUCCESS) response.bodyParts = recordsOf(r.messages, r.bufferTotalSizeBytes);
  return response;
}

/**
 * The pull body: stored records back to back, as views of the mapped files that the response frame
 * copies once (the same mappings stay valid: segments are not unmapped while a response is encoded).
 */
function recordsOf(records: Uint8Array[], totalBytes: number): Uint8Array[] {
  let size = 0;
  for (const r of records) size += r.length;
  if (size !== totalBytes) throw new Error(`pull body size ${size} != store total ${totalBytes}`);
  return records;
}
