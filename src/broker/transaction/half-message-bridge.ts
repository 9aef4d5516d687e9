// The store side of transactional messages (Java TransactionalMessageBridge, storage doc §12.8):
// half messages in RMQ_SYS_TRANS_HALF_TOPIC, op ("d") records in RMQ_SYS_TRANS_OP_HALF_TOPIC, and
// the check progress kept as consumer offsets of the internal group CID_RMQ_SYS_TRANS.

import type { MaybePromise } from "../../common/maybe-promise.ts";
import { decodeRecord } from "../../common/message-codec.ts";
import { Prop, SysFlag, propertiesToString, tagsHashCode, type MessageExt, type MessageInner, type PullStatus } from "../../common/message.ts";
import { PERM_READ_WRITE, SystemTopic, type TopicConfig } from "../../common/topic.ts";
import type { MessageStore } from "../../store/message-store.ts";
import type { GetMessageStatus, PutMessageResult } from "../../store/store-types.ts";
import type { ConsumerOffsetManager } from "../consumer-offsets.ts";
import type { TopicConfigManager } from "../topic-config.ts";
import { uniqueIds } from "../../client/unique-id.ts";

const textEncoder = new TextEncoder();

/** Java MixAll.CID_SYS_RMQ_TRANS: the group whose offsets record how far checks got. */
export const TRANS_CHECK_GROUP = "CID_RMQ_SYS_TRANS";
/** Java TransactionalMessageUtil.REMOVETAG: tag of an op record saying "resolved". */
export const OP_REMOVE_TAG = "d";
/** The half topic gets one queue, like Java createTopicInSendMessageBackMethod(topic, 1, RW). */
export const HALF_TOPIC_QUEUE_NUMS = 1;
/** Java TCMT_QUEUE_NUMS: queues of TRANS_CHECK_MAX_TIME_TOPIC. */
export const CHECK_MAX_TIME_TOPIC_QUEUE_NUMS = 1;

export interface BridgePullResult {
  status: PullStatus;
  nextBeginOffset: number;
  /** Decoded messages; undefined unless status is FOUND (Java msgFoundList null). */
  messages: MessageExt[] | undefined;
}

/** The broker pieces the bridge uses (BrokerController satisfies it). */
export interface TransactionBrokerView {
  readonly store: MessageStore;
  readonly topics: TopicConfigManager;
  readonly offsets: ConsumerOffsetManager;
  readonly storeHost: string;
  /** Wakes replication to slaves after a put (waits for a slave ack only when asked to). */
  replicate(result: PutMessageResult, waitStoreMsgOK: boolean): MaybePromise<PutMessageResult>;
}

function pullStatusOf(status: GetMessageStatus): PullStatus {
  switch (status) {
    case "FOUND":
      return "FOUND";
    case "NO_MATCHED_MESSAGE":
      return "NO_MATCHED_MSG";
    case "NO_MESSAGE_IN_QUEUE":
    case "OFFSET_OVERFLOW_ONE":
      return "NO_NEW_MSG";
    default:
      return "OFFSET_ILLEGAL";
  }
}

export class HalfMessageBridge {
  constructor(private readonly broker: TransactionBrokerView) {}

  /** The half topic's config, created (1 queue, read/write) on first use as Java does. */
  halfTopicConfig(): TopicConfig {
    return this.broker.topics.createIfAbsent(SystemTopic.TRANS_HALF, HALF_TOPIC_QUEUE_NUMS, PERM_READ_WRITE);
  }

  /**
   * Stores a prepared message as a plain message of the half topic, queue 0, with its real topic
   * and queue in REAL_TOPIC / REAL_QID (Java parseHalfMessageInner). Its consume-queue offset in the
   * half topic becomes the producer's tranStateTableOffset. The send processor replicates the
   * result (the producer may wait for a slave).
   */
  putHalfMessage(msg: MessageInner): MaybePromise<PutMessageResult> {
    this.halfTopicConfig();
    const properties = { ...msg.properties, [Prop.REAL_TOPIC]: msg.topic, [Prop.REAL_QID]: String(msg.queueId) };
    return this.broker.store.putMessage({
      ...msg,
      topic: SystemTopic.TRANS_HALF,
      queueId: 0,
      sysFlag: resetTransactionType(msg.sysFlag, SysFlag.TRANSACTION_NOT_TYPE),
      properties,
      propertiesString: propertiesToString(properties),
    });
  }

  /**
   * Writes the op record that resolves `half` (commit or rollback): tag "d", body = the half
   * message's queue offset in decimal (Java addRemoveTagInTransactionOp). True when stored.
   */
  async putOpMessage(half: MessageExt): Promise<boolean> {
    const properties = { [Prop.TAGS]: OP_REMOVE_TAG, [Prop.WAIT]: "true", [Prop.UNIQ_KEY]: uniqueIds.next() };
    const now = Date.now();
    const result = await this.putInternal({
      topic: SystemTopic.TRANS_OP_HALF,
      queueId: half.queueId,
      flag: 0,
      body: textEncoder.encode(String(half.queueOffset)),
      properties,
      propertiesString: propertiesToString(properties),
      tagsCode: tagsHashCode(OP_REMOVE_TAG),
      sysFlag: 0,
      bornTimestamp: now,
      bornHost: this.broker.storeHost,
      storeHost: this.broker.storeHost,
      reconsumeTimes: 0,
      preparedTransactionOffset: 0,
    });
    return result.status === "PUT_OK";
  }

  /**
   * A copy of a stored half message for re-appending to the half queue (Java renewHalfMessageInner):
   * same topic, queue, body, sysFlag, properties (the string is rebuilt from the map, so updates
   * such as TRANSACTION_CHECK_TIMES are kept), born info and store host.
   */
  renewHalfMessage(half: MessageExt): MessageInner {
    return {
      topic: half.topic,
      queueId: half.queueId,
      flag: half.flag,
      body: half.body,
      properties: half.properties,
      propertiesString: propertiesToString(half.properties),
      tagsCode: tagsHashCode(half.properties[Prop.TAGS]),
      sysFlag: half.sysFlag,
      bornTimestamp: half.bornTimestamp,
      bornHost: half.bornHost,
      storeHost: half.storeHost,
      reconsumeTimes: half.reconsumeTimes,
      preparedTransactionOffset: half.preparedTransactionOffset,
    };
  }

  /** Like renewHalfMessage, marked with the queue offset of the original prepare (Java renewImmunityHalfMessageInner). */
  renewImmunityHalfMessage(half: MessageExt): MessageInner {
    const prepared = half.properties[Prop.TRAN_PREPARED_QUEUE_OFFSET] ?? String(half.queueOffset);
    const properties = { ...half.properties, [Prop.TRAN_PREPARED_QUEUE_OFFSET]: prepared };
    return { ...this.renewHalfMessage(half), properties, propertiesString: propertiesToString(properties) };
  }

  /** Puts a broker-made message (commit, re-put, discard). */
  putMessage(msg: MessageInner): Promise<PutMessageResult> {
    return this.putInternal(msg);
  }

  /** Broker-made messages never wait for a slave (Java sets waitStoreMsgOK=false) but are replicated. */
  private async putInternal(msg: MessageInner): Promise<PutMessageResult> {
    return this.broker.replicate(await this.broker.store.putMessage(msg), false);
  }

  /** Reads up to `count` half messages of queue `queueId` from `offset`. */
  getHalfMessages(queueId: number, offset: number, count: number): BridgePullResult {
    return this.read(SystemTopic.TRANS_HALF, queueId, offset, count);
  }

  /** Reads up to `count` op records of queue `queueId` from `offset`. */
  getOpMessages(queueId: number, offset: number, count: number): BridgePullResult {
    return this.read(SystemTopic.TRANS_OP_HALF, queueId, offset, count);
  }

  private read(topic: string, queueId: number, offset: number, count: number): BridgePullResult {
    const r = this.broker.store.getMessage(TRANS_CHECK_GROUP, topic, queueId, offset, count);
    const status = pullStatusOf(r.status);
    if (status !== "FOUND") return { status, nextBeginOffset: r.nextBeginOffset, messages: undefined };
    const messages: MessageExt[] = [];
    for (const record of r.messages) {
      try {
        messages.push(decodeRecord(record, true));
      } catch {
        // A record that does not decode cannot be checked; the dispatcher validated it, so skip it.
      }
    }
    return { status, nextBeginOffset: r.nextBeginOffset, messages };
  }

  /**
   * Check progress on a queue: the group's stored offset, else the queue's minimum (Java
   * fetchConsumeOffset). A queue the store does not have yet starts at 0, as Java's store creates it.
   */
  fetchConsumeOffset(topic: string, queueId: number): number {
    const stored = this.broker.offsets.queryOffset(TRANS_CHECK_GROUP, topic, queueId);
    if (stored !== -1) return stored;
    return Math.max(this.broker.store.getMinOffsetInQueue(topic, queueId), 0);
  }

  updateConsumeOffset(topic: string, queueId: number, offset: number): void {
    this.broker.offsets.commitOffset(TRANS_CHECK_GROUP, topic, queueId, offset);
  }

  /** The stored message at a commit-log offset, body included. */
  lookMessageByOffset(commitLogOffset: number): MessageExt | undefined {
    return this.broker.store.lookMessageByOffset(commitLogOffset);
  }

  /**
   * Parks a message checked too often in TRANS_CHECK_MAX_TIME_TOPIC (Java
   * DefaultTransactionalMessageCheckListener.resolveDiscardMsg). True when stored.
   */
  async putDiscarded(half: MessageExt): Promise<boolean> {
    const tc = this.broker.topics.createIfAbsent(SystemTopic.TRANS_CHECK_MAX_TIME, CHECK_MAX_TIME_TOPIC_QUEUE_NUMS, PERM_READ_WRITE);
    const queueId = Math.floor(Math.random() * tc.writeQueueNums);
    const result = await this.putInternal({ ...this.renewHalfMessage(half), topic: tc.topicName, queueId });
    return result.status === "PUT_OK";
  }
}

/** Java MessageSysFlag.resetTransactionValue: replaces bits 2-3 with `type`. */
export function resetTransactionType(sysFlag: number, type: number): number {
  return (sysFlag & ~SysFlag.TRANSACTION_ROLLBACK_TYPE) | type;
}
