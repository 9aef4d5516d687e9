// SEND_MESSAGE (10), SEND_MESSAGE_V2 (310), SEND_BATCH_MESSAGE (320): validation (shared with
// SEND_REPLY_MESSAGE, reply.ts), topic auto-creation, %RETRY% → %DLQ% routing, delay levels,
// store put and response header (protocol doc 3.3.2, storage doc §12.3).

import type { SendMessageFields } from "../../common/send-message-fields.ts";
import { andThen, type MaybePromise } from "../../common/maybe-promise.ts";
import type { MessageBatch } from "../../common/message-codec.ts";
import { MAX_PROPERTIES_SIZE_BYTES, Prop, propertiesToString, stringToProperties, SysFlag, tagsHashCode, transactionType, type MessageInner } from "../../common/message.ts";
import {
  dlqTopic,
  isNotAllowedSendTopic,
  isRetryTopic,
  isWriteable,
  PERM_READ_WRITE,
  RETRY_GROUP_TOPIC_PREFIX,
  topicNameProblem,
  TopicSysFlag,
  type TopicConfig,
} from "../../common/topic.ts";
import { RequestCode, ResponseCode } from "../../remoting/codes.ts";
import { RemotingCommand } from "../../remoting/command.ts";
import type { Connection } from "../../remoting/connection.ts";
import type { PutMessageResult } from "../../store/store-types.ts";
import type { BrokerController } from "../broker.ts";
import { HeaderReader } from "./header.ts";

/** The header field names of SEND_MESSAGE (V1, Java SendMessageRequestHeader). */
const V1_NAMES = {
  producerGroup: "producerGroup",
  topic: "topic",
  defaultTopic: "defaultTopic",
  defaultTopicQueueNums: "defaultTopicQueueNums",
  queueId: "queueId",
  sysFlag: "sysFlag",
  bornTimestamp: "bornTimestamp",
  flag: "flag",
  properties: "properties",
  reconsumeTimes: "reconsumeTimes",
  unitMode: "unitMode",
  maxReconsumeTimes: "maxReconsumeTimes",
  batch: "batch",
} as const;

/**
 * The same fields under SEND_MESSAGE_V2's short keys (Java SendMessageRequestHeaderV2). Read
 * directly, not renamed into a V1 object: a missing field is named by its short key, as in Java.
 */
const V2_NAMES: { readonly [K in keyof typeof V1_NAMES]: string } = {
  producerGroup: "a",
  topic: "b",
  defaultTopic: "c",
  defaultTopicQueueNums: "d",
  queueId: "e",
  sysFlag: "f",
  bornTimestamp: "g",
  flag: "h",
  properties: "i",
  reconsumeTimes: "j",
  unitMode: "k",
  maxReconsumeTimes: "l",
  batch: "m",
};

/** Java MQVersion V3_4_9: clients from this version on have their header maxReconsumeTimes honoured. */
export const VERSION_V3_4_9 = 121;

/** Java MixAll.DLQ_NUMS_PER_GROUP. */
export const DLQ_QUEUE_NUMS = 1;

const FAQ_NO_TOPIC = "See http://rocketmq.apache.org/docs/faq/ for further details.";

export interface SendRequestHeader extends SendMessageFields {
  maxReconsumeTimes: number | undefined;
  batch: boolean;
}

/** Reads the V1 header, or the V2 short-key header, into V1 names. */
export function parseSendHeader(request: RemotingCommand, v2: boolean): SendRequestHeader {
  const n = v2 ? V2_NAMES : V1_NAMES;
  const h = new HeaderReader(request.extFields);
  return {
    producerGroup: h.str(n.producerGroup),
    topic: h.str(n.topic),
    defaultTopic: h.str(n.defaultTopic),
    defaultTopicQueueNums: h.int(n.defaultTopicQueueNums),
    queueId: h.int(n.queueId),
    sysFlag: h.int(n.sysFlag),
    bornTimestamp: h.int(n.bornTimestamp),
    flag: h.int(n.flag),
    properties: h.optStr(n.properties) ?? "",
    reconsumeTimes: h.optInt(n.reconsumeTimes) ?? 0,
    unitMode: h.bool(n.unitMode),
    maxReconsumeTimes: h.optInt(n.maxReconsumeTimes),
    batch: h.bool(n.batch),
  };
}

/** The store status → response code and remark (storage doc §12.3 step 12). */
export function putResultToResponse(request: RemotingCommand, result: PutMessageResult, queueId: number, ext: Record<string, string>): RemotingCommand {
  let code: number;
  let remark: string | undefined;
  switch (result.status) {
    case "PUT_OK":
      code = ResponseCode.SUCCESS;
      break;
    case "FLUSH_DISK_TIMEOUT":
      code = ResponseCode.FLUSH_DISK_TIMEOUT;
      break;
    case "FLUSH_SLAVE_TIMEOUT":
      code = ResponseCode.FLUSH_SLAVE_TIMEOUT;
      break;
    case "SLAVE_NOT_AVAILABLE":
      code = ResponseCode.SLAVE_NOT_AVAILABLE;
      break;
    case "CREATE_MAPEDFILE_FAILED":
      code = ResponseCode.SYSTEM_ERROR;
      remark = "create mapped file failed, server is busy or broken.";
      break;
    case "MESSAGE_ILLEGAL":
    case "PROPERTIES_SIZE_EXCEEDED":
      code = ResponseCode.MESSAGE_ILLEGAL;
      remark = result.remark ?? "the message is illegal, maybe msg body or properties length not matched.";
      break;
    case "SERVICE_NOT_AVAILABLE":
      code = ResponseCode.SERVICE_NOT_AVAILABLE;
      remark = result.remark ?? "service not available now, maybe disk full, or the broker is shutting down or a slave.";
      break;
    case "OS_PAGECACHE_BUSY":
      code = ResponseCode.SYSTEM_ERROR;
      remark = "[PC_SYNCHRONIZED]broker busy, start flow control for a while";
      break;
    default:
      code = ResponseCode.SYSTEM_ERROR;
      remark = result.remark ?? "UNKNOWN_ERROR";
  }
  const response = RemotingCommand.responseTo(request, code, remark ?? result.remark, ext);
  if (code === ResponseCode.SUCCESS || code === ResponseCode.FLUSH_DISK_TIMEOUT || code === ResponseCode.FLUSH_SLAVE_TIMEOUT || code === ResponseCode.SLAVE_NOT_AVAILABLE) {
    ext.msgId = result.msgId;
    ext.queueId = String(queueId);
    ext.queueOffset = String(result.queueOffset);
  }
  return response;
}

/** A send request that passed the checks common to single, batch and reply sends. */
export interface ValidatedSend {
  request: RemotingCommand;
  conn: Connection;
  header: SendRequestHeader;
  topicConfig: TopicConfig;
  /** The header's queue id, or a random writable queue when the client left it to the broker. */
  queueId: number;
  body: Uint8Array;
  /** Response extFields shared by every answer to this request. */
  ext: Record<string, string>;
  reply: (code: number, remark: string) => RemotingCommand;
}

export class SendProcessor {
  constructor(private readonly broker: BrokerController) {}

  /**
   * Refusals are answered at once; a put answers when it completes, at once too when nothing is
   * waited for (ASYNC_FLUSH, no slave ack): no async layer of its own (common/maybe-promise.ts).
   */
  process(request: RemotingCommand, conn: Connection): MaybePromise<RemotingCommand> {
    const send = this.validate(request, conn, request.code !== RequestCode.SEND_MESSAGE);
    if (send instanceof RemotingCommand) return send;
    return send.header.batch ? this.sendBatch(send) : this.sendOne(send);
  }

  /**
   * Reads the header (V1 or V2 short keys) and runs the checks every send shares (Java msgCheck and
   * the size checks), creating the topic when allowed; a refusal comes back as the response.
   */
  validate(request: RemotingCommand, conn: Connection, v2: boolean): ValidatedSend | RemotingCommand {
    const header = parseSendHeader(request, v2);
    const ext: Record<string, string> = {
      MSG_REGION: this.broker.config.regionId,
      TRACE_ON: String(this.broker.config.traceOn),
    };
    const reply = (code: number, remark: string) => RemotingCommand.responseTo(request, code, remark, ext);

    if (Date.now() < this.broker.config.startAcceptSendRequestTimeStamp) {
      return reply(ResponseCode.SYSTEM_ERROR, `broker unable to service, until ${this.broker.config.startAcceptSendRequestTimeStamp}`);
    }
    if (!isWriteable(this.broker.config.brokerPermission)) {
      return reply(ResponseCode.NO_PERMISSION, `the broker[${this.broker.brokerAddr}] sending message is forbidden`);
    }
    const problem = topicNameProblem(header.topic);
    if (problem) return reply(ResponseCode.SYSTEM_ERROR, problem);
    if (isNotAllowedSendTopic(header.topic)) return reply(ResponseCode.NO_PERMISSION, `Sending message to topic[${header.topic}] is forbidden.`);

    let topicConfig = this.broker.topics.get(header.topic);
    if (!topicConfig) {
      const sysFlag = header.unitMode ? (isRetryTopic(header.topic) ? TopicSysFlag.UNIT_SUB : TopicSysFlag.UNIT) : 0;
      topicConfig = this.broker.topics.createForSend(header.topic, header.defaultTopic, header.defaultTopicQueueNums, sysFlag);
      if (!topicConfig && isRetryTopic(header.topic)) topicConfig = this.broker.topics.createIfAbsent(header.topic, 1, PERM_READ_WRITE, sysFlag);
      if (!topicConfig) return reply(ResponseCode.TOPIC_NOT_EXIST, `topic[${header.topic}] not exist, apply first please! ${FAQ_NO_TOPIC}`);
    }
    if (!isWriteable(topicConfig.perm)) return reply(ResponseCode.NO_PERMISSION, `the topic[${header.topic}] sending message is forbidden`);
    const queueLimit = Math.max(topicConfig.writeQueueNums, topicConfig.readQueueNums);
    if (header.queueId >= queueLimit) {
      return reply(ResponseCode.SYSTEM_ERROR, `request queueId[${header.queueId}] is illegal, topic ${header.topic} has ${queueLimit} queues, producer: ${conn.remoteAddress}`);
    }
    const body = request.body ?? new Uint8Array(0);
    if (body.length > this.broker.config.maxMessageSize) {
      return reply(ResponseCode.MESSAGE_ILLEGAL, `the message body size ${body.length} bytes exceeds maxMessageSize ${this.broker.config.maxMessageSize} bytes`);
    }
    // A UTF-16 unit is at most 3 UTF-8 bytes: short strings need no byte count.
    const propertiesBytes = header.properties.length * 3 <= MAX_PROPERTIES_SIZE_BYTES ? 0 : Buffer.byteLength(header.properties);
    if (propertiesBytes > MAX_PROPERTIES_SIZE_BYTES) {
      return reply(ResponseCode.MESSAGE_ILLEGAL, `the message properties length ${propertiesBytes} bytes exceeds ${MAX_PROPERTIES_SIZE_BYTES} bytes`);
    }
    const queueId = header.queueId < 0 ? randomQueue(topicConfig.writeQueueNums) : header.queueId;
    return { request, conn, header, topicConfig, queueId, body, ext, reply };
  }

  private sendOne(send: ValidatedSend): MaybePromise<RemotingCommand> {
    const { request, conn, header, topicConfig, body, ext, reply } = send;
    let queueId = send.queueId; // a message going to the DLQ moves to queue 0
    const properties = stringToProperties(header.properties);
    let topic = header.topic;
    if (isRetryTopic(topic)) {
      const group = topic.slice(RETRY_GROUP_TOPIC_PREFIX.length);
      const groupConfig = this.broker.groups.findOrCreate(group);
      if (!groupConfig) return reply(ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, `subscription group not exist, ${group}`);
      let maxReconsumeTimes = groupConfig.retryMaxTimes;
      if (request.version >= VERSION_V3_4_9 && header.maxReconsumeTimes !== undefined) maxReconsumeTimes = header.maxReconsumeTimes;
      if (header.reconsumeTimes >= maxReconsumeTimes) {
        topic = dlqTopic(group);
        this.broker.topics.createIfAbsent(topic, DLQ_QUEUE_NUMS, PERM_READ_WRITE);
        queueId = 0;
        delete properties[Prop.DELAY];
      }
    }
    if (properties[Prop.TRAN_MSG] === "true" && this.broker.config.rejectTransactionMessage) {
      return reply(ResponseCode.NO_PERMISSION, `the broker[${this.broker.brokerAddr}] sending transaction message is forbidden`);
    }
    // WAIT is not stored, but a SYNC_MASTER honours it (absent = wait, Java isWaitStoreMsgOK).
    const waitStoreMsgOK = properties[Prop.WAIT] !== "false";
    delete properties[Prop.WAIT];
    properties[Prop.CLUSTER] = this.broker.config.brokerClusterName;
    let sysFlag = header.sysFlag;
    if (topicConfig.topicFilterType === "MULTI_TAG") sysFlag |= SysFlag.MULTI_TAGS;
    const msg: MessageInner = {
      topic,
      queueId,
      flag: header.flag,
      body,
      properties,
      propertiesString: "",
      tagsCode: tagsHashCode(properties[Prop.TAGS]),
      sysFlag,
      bornTimestamp: header.bornTimestamp,
      bornHost: conn.remoteAddress,
      storeHost: this.broker.storeHost,
      reconsumeTimes: header.reconsumeTimes,
      preparedTransactionOffset: 0,
    };
    msg.propertiesString = propertiesToString(msg.properties);
    // The store parks a delayed message in the schedule topic, the bridge a prepared transactional
    // one in the half topic; either way the answer names the queue asked for.
    // A retry copy of a transactional message (reconsumed and delayed) is a plain message (Java 4.9 sync path).
    const prepared = properties[Prop.TRAN_MSG] === "true" && !(header.reconsumeTimes > 0 && Number(properties[Prop.DELAY] ?? 0) > 0);
    const putBeganMs = Date.now();
    const stored = prepared ? this.broker.transactionBridge.putHalfMessage(msg) : this.broker.store.putMessage(msg);
    const replicated = andThen(stored, (result) => {
      this.broker.stats.recordPut(Date.now() - putBeganMs);
      return this.broker.replicate(result, waitStoreMsgOK);
    });
    return andThen(replicated, (result) => putResultToResponse(request, result, msg.queueId, ext));
  }

  private sendBatch(send: ValidatedSend): MaybePromise<RemotingCommand> {
    const { request, conn, header, topicConfig, queueId, body, ext, reply } = send;
    if (isRetryTopic(header.topic)) return reply(ResponseCode.MESSAGE_ILLEGAL, `batch request does not support retry group ${header.topic}`);
    if (transactionType(header.sysFlag) !== SysFlag.TRANSACTION_NOT_TYPE) {
      return reply(ResponseCode.MESSAGE_ILLEGAL, "batch message does not support transaction");
    }
    // The members stay in wire form: the store checks their framing and DELAY while it copies them
    // into records, so nothing here is parsed per member.
    const batchProps = stringToProperties(header.properties);
    batchProps[Prop.CLUSTER] = this.broker.config.brokerClusterName;
    let sysFlag = header.sysFlag;
    if (topicConfig.topicFilterType === "MULTI_TAG") sysFlag |= SysFlag.MULTI_TAGS;
    const batch: MessageBatch = {
      topic: header.topic,
      queueId,
      sysFlag,
      bornTimestamp: header.bornTimestamp,
      bornHost: conn.remoteAddress,
      storeHost: this.broker.storeHost,
      reconsumeTimes: header.reconsumeTimes,
      body,
      propertiesString: propertiesToString(batchProps),
      waitStoreMsgOK: batchProps[Prop.WAIT] !== "false",
    };
    const putBeganMs = Date.now();
    const replicated = andThen(this.broker.store.putMessages(batch), (result) => {
      this.broker.stats.recordPut(Date.now() - putBeganMs);
      return this.broker.replicate(result, batch.waitStoreMsgOK);
    });
    return andThen(replicated, (result) => putResultToResponse(request, result, queueId, ext));
  }
}

function randomQueue(queueNums: number): number {
  return queueNums <= 0 ? 0 : Math.floor(Math.random() * queueNums);
}
