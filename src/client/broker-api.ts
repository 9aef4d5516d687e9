// Broker requests used by consumers and the admin client (Java MQClientAPIImpl / MQAdminImpl),
// one function per request (protocol doc 3.3.3).

import { PullSysFlag, type PullStatus } from "../common/message.ts";
import { RequestCode, ResponseCode } from "../remoting/codes.ts";
import { RemotingCommand } from "../remoting/command.ts";
import { type ConsumedMessage, decodeMessages } from "./consumed-message.ts";
import { MQBrokerError, MQClientError } from "./errors.ts";
import type { ClientInstance } from "./instance.ts";
import { encodeJsonBody, decodeJsonBody } from "./json-body.ts";
import { type MessageQueue, mqJson } from "./message-queue.ts";

/** QUERY/UPDATE_CONSUMER_OFFSET timeout (Java 5 s). */
export const OFFSET_API_TIMEOUT_MS = 5_000;
/** CONSUMER_SEND_MSG_BACK timeout (Java 5 s). */
export const SEND_BACK_TIMEOUT_MS = 5_000;
/** LOCK/UNLOCK_BATCH_MQ timeout (Java 1 s). */
export const LOCK_TIMEOUT_MS = 1_000;
/** MQAdminImpl calls: max/min offset, search by time, query (Java 6 s). */
export const ADMIN_API_TIMEOUT_MS = 6_000;

export type { PullStatus };

export interface PullResult {
  status: PullStatus;
  nextBeginOffset: number;
  minOffset: number;
  maxOffset: number;
  suggestWhichBrokerId: number;
  messages: ConsumedMessage[];
}

export interface PullParams {
  group: string;
  mq: MessageQueue;
  offset: number;
  maxMsgNums: number;
  /** Tag expression sent with the SUBSCRIPTION flag; undefined = use the heartbeat subscription. */
  subExpression?: string;
  subVersion: number;
  /** Piggy-backed commit; only sent when > 0. */
  commitOffset?: number;
  suspendTimeoutMs: number;
  /** Long polling (SUSPEND flag). */
  suspend: boolean;
  timeoutMs: number;
  brokerId?: number;
}

function longField(h: Record<string, string>, name: string, addr: string): number {
  const v = Number(h[name]);
  if (h[name] === undefined || !Number.isFinite(v)) throw new MQClientError(`response from ${addr} lacks header field ${name}`);
  return v;
}

export async function pullMessage(inst: ClientInstance, p: PullParams): Promise<PullResult> {
  const found = inst.findSubscribeAddr(p.mq.brokerName, p.brokerId ?? 0) ?? (await inst.updateTopicRoute(p.mq.topic), inst.findSubscribeAddr(p.mq.brokerName, p.brokerId ?? 0));
  if (!found) throw new MQClientError(`The broker[${p.mq.brokerName}] not exist`, { retriable: true });
  let sysFlag = 0;
  const commit = p.commitOffset !== undefined && p.commitOffset > 0 && !found.slave;
  if (commit) sysFlag |= PullSysFlag.COMMIT_OFFSET;
  if (p.suspend) sysFlag |= PullSysFlag.SUSPEND;
  if (p.subExpression !== undefined) sysFlag |= PullSysFlag.SUBSCRIPTION;
  const header: Record<string, string> = {
    consumerGroup: p.group,
    topic: p.mq.topic,
    queueId: String(p.mq.queueId),
    queueOffset: String(p.offset),
    maxMsgNums: String(p.maxMsgNums),
    sysFlag: String(sysFlag),
    commitOffset: String(commit ? p.commitOffset : 0),
    suspendTimeoutMillis: String(p.suspendTimeoutMs),
    subVersion: String(p.subVersion),
    expressionType: "TAG",
    bname: p.mq.brokerName,
  };
  if (p.subExpression !== undefined) header.subscription = p.subExpression;
  const response = await inst.invokeBroker(found.addr, RemotingCommand.request(RequestCode.PULL_MESSAGE, header), p.timeoutMs, [
    ResponseCode.SUCCESS,
    ResponseCode.PULL_NOT_FOUND,
    ResponseCode.PULL_RETRY_IMMEDIATELY,
    ResponseCode.PULL_OFFSET_MOVED,
  ]);
  const h = response.extFields;
  const status: PullStatus =
    response.code === ResponseCode.SUCCESS ? "FOUND" : response.code === ResponseCode.PULL_NOT_FOUND ? "NO_NEW_MSG" : response.code === ResponseCode.PULL_RETRY_IMMEDIATELY ? "NO_MATCHED_MSG" : "OFFSET_ILLEGAL";
  return {
    status,
    nextBeginOffset: longField(h, "nextBeginOffset", found.addr),
    minOffset: longField(h, "minOffset", found.addr),
    maxOffset: longField(h, "maxOffset", found.addr),
    suggestWhichBrokerId: Number(h.suggestWhichBrokerId ?? 0) || 0,
    messages: status === "FOUND" ? decodeMessages(response.body, p.mq.brokerName) : [],
  };
}

async function offsetCall(inst: ClientInstance, code: number, mq: MessageQueue, extra: Record<string, string> = {}): Promise<number> {
  const addr = await inst.brokerAddrFor(mq.brokerName, mq.topic);
  const request = RemotingCommand.request(code, { topic: mq.topic, queueId: String(mq.queueId), bname: mq.brokerName, ...extra });
  const response = await inst.invokeBroker(addr, request, ADMIN_API_TIMEOUT_MS);
  return longField(response.extFields, code === RequestCode.GET_EARLIEST_MSG_STORETIME ? "timestamp" : "offset", addr);
}

export const maxOffset = (inst: ClientInstance, mq: MessageQueue) => offsetCall(inst, RequestCode.GET_MAX_OFFSET, mq);
export const minOffset = (inst: ClientInstance, mq: MessageQueue) => offsetCall(inst, RequestCode.GET_MIN_OFFSET, mq);
export const searchOffset = (inst: ClientInstance, mq: MessageQueue, timestampMs: number) =>
  offsetCall(inst, RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, mq, { timestamp: String(timestampMs) });

/** Stored consume offset; -1 when the broker has none (QUERY_NOT_FOUND or any broker error code). */
export async function queryConsumerOffset(inst: ClientInstance, group: string, mq: MessageQueue): Promise<number> {
  const addr = await inst.brokerAddrFor(mq.brokerName, mq.topic);
  const request = RemotingCommand.request(RequestCode.QUERY_CONSUMER_OFFSET, {
    consumerGroup: group,
    topic: mq.topic,
    queueId: String(mq.queueId),
    bname: mq.brokerName,
  });
  try {
    const response = await inst.invokeBroker(addr, request, OFFSET_API_TIMEOUT_MS);
    return longField(response.extFields, "offset", addr);
  } catch (err) {
    if (err instanceof MQBrokerError) return -1;
    throw err;
  }
}

/** UPDATE_CONSUMER_OFFSET, oneway like the Java client unless `sync`. */
export async function updateConsumerOffset(inst: ClientInstance, group: string, mq: MessageQueue, offset: number, sync = false): Promise<void> {
  const addr = await inst.brokerAddrFor(mq.brokerName, mq.topic);
  const request = RemotingCommand.request(RequestCode.UPDATE_CONSUMER_OFFSET, {
    consumerGroup: group,
    topic: mq.topic,
    queueId: String(mq.queueId),
    commitOffset: String(offset),
    bname: mq.brokerName,
  });
  if (sync) await inst.invokeBroker(addr, request, OFFSET_API_TIMEOUT_MS);
  else await inst.remoting.invokeOneway(addr, request);
}

export interface SendBackParams {
  group: string;
  message: ConsumedMessage;
  delayLevel: number;
  maxReconsumeTimes: number;
}

/** CONSUMER_SEND_MSG_BACK to the master of the message's broker (protocol doc 6.10). */
export async function sendMessageBack(inst: ClientInstance, p: SendBackParams): Promise<void> {
  const m = p.message;
  const addr = (m.brokerName && inst.findMasterAddr(m.brokerName)) || m.storeHost;
  const header: Record<string, string> = {
    offset: String(m.commitLogOffset),
    group: p.group,
    delayLevel: String(p.delayLevel),
    originMsgId: m.msgId,
    originTopic: m.topic,
    unitMode: "false",
    maxReconsumeTimes: String(p.maxReconsumeTimes),
  };
  if (m.brokerName) header.bname = m.brokerName;
  await inst.invokeBroker(addr, RemotingCommand.request(RequestCode.CONSUMER_SEND_MSG_BACK, header), SEND_BACK_TIMEOUT_MS);
}

/** LOCK_BATCH_MQ: the subset of `mqs` now locked by this client. */
export async function lockBatch(inst: ClientInstance, addr: string, group: string, mqs: MessageQueue[]): Promise<MessageQueue[]> {
  const body = encodeJsonBody({ clientId: inst.clientId, consumerGroup: group, mqSet: mqs.map(mqJson) });
  const response = await inst.invokeBroker(addr, RemotingCommand.request(RequestCode.LOCK_BATCH_MQ, {}, body), LOCK_TIMEOUT_MS);
  if (!response.body || response.body.length === 0) return [];
  const parsed = decodeJsonBody(response.body, "lock response") as { lockOKMQSet?: unknown };
  if (!Array.isArray(parsed.lockOKMQSet)) return [];
  return (parsed.lockOKMQSet as Array<Record<string, unknown>>).map((m) => ({ topic: String(m.topic), brokerName: String(m.brokerName), queueId: Number(m.queueId) }));
}

export async function unlockBatch(inst: ClientInstance, addr: string, group: string, mqs: MessageQueue[]): Promise<void> {
  const body = encodeJsonBody({ clientId: inst.clientId, consumerGroup: group, mqSet: mqs.map(mqJson) });
  await inst.invokeBroker(addr, RemotingCommand.request(RequestCode.UNLOCK_BATCH_MQ, {}, body), LOCK_TIMEOUT_MS);
}
