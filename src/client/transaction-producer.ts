// The transactional producer (Java TransactionMQProducer, protocol doc 6.5): sends a half message
// (TRAN_MSG, PGROUP, sysFlag PREPARED), runs the local transaction, ends it with a oneway
// END_TRANSACTION, and answers the broker's CHECK_TRANSACTION_STATE through the check listener.

import { decodeOffsetMsgId, decodeRecord } from "../common/message-codec.ts";
import { Prop, SysFlag } from "../common/message.ts";
import { SystemTopic } from "../common/topic.ts";
import { RequestCode } from "../remoting/codes.ts";
import { RemotingCommand } from "../remoting/command.ts";
import { type ConsumedMessage, toConsumed } from "./consumed-message.ts";
import { MQClientError, errorText } from "./errors.ts";
import { type MessageInput, buildMessage } from "./message-builder.ts";
import { Producer, type ProducerOptions, type SendResult } from "./producer.ts";

/** Java checkRequestHoldMax: checks waiting for the listener beyond this are dropped (the broker asks again). */
export const CHECK_REQUEST_HOLD_MAX = 2_000;

/** Java LocalTransactionState (the spelling "UNKNOW" is RocketMQ's). */
export type LocalTransactionState = "COMMIT_MESSAGE" | "ROLLBACK_MESSAGE" | "UNKNOW";

/** The message handed to executeLocalTransaction: what was sent, with its client id. */
export interface TransactionMessage {
  topic: string;
  body: Uint8Array;
  properties: Record<string, string>;
  /** UNIQ_KEY of the half message (Java msg.getTransactionId()). */
  transactionId: string;
}

/** Java TransactionListener. A throw or a non-state return counts as UNKNOW. */
export interface TransactionListener {
  executeLocalTransaction(msg: TransactionMessage, arg: unknown): LocalTransactionState | Promise<LocalTransactionState>;
  /** Called for CHECK_TRANSACTION_STATE: `msg.transactionId` is the half message's UNIQ_KEY. */
  checkLocalTransaction(msg: ConsumedMessage & { transactionId: string }): LocalTransactionState | Promise<LocalTransactionState>;
}

export interface TransactionProducerOptions extends ProducerOptions {
  transactionListener: TransactionListener;
}

export interface TransactionSendResult extends SendResult {
  localTransactionState: LocalTransactionState;
  transactionId: string;
}

/** END_TRANSACTION commitOrRollback values (MessageSysFlag transaction types). */
function commitOrRollbackOf(state: LocalTransactionState): number {
  switch (state) {
    case "COMMIT_MESSAGE":
      return SysFlag.TRANSACTION_COMMIT_TYPE;
    case "ROLLBACK_MESSAGE":
      return SysFlag.TRANSACTION_ROLLBACK_TYPE;
    default:
      return SysFlag.TRANSACTION_NOT_TYPE;
  }
}

function asState(value: unknown): LocalTransactionState {
  return value === "COMMIT_MESSAGE" || value === "ROLLBACK_MESSAGE" ? value : "UNKNOW";
}

export class TransactionProducer extends Producer {
  private readonly listener: TransactionListener;
  private pendingChecks = 0;

  constructor(options: TransactionProducerOptions) {
    super(options);
    if (!options.transactionListener) throw new MQClientError("a TransactionProducer needs a transactionListener");
    this.listener = options.transactionListener;
  }

  /**
   * Joins the client instance and registers with the brokers of the auto-create template route at
   * once, so check-backs can reach this group before it sent anything (Java start() heartbeat).
   */
  override start(): this {
    super.start();
    const inst = this.client();
    void inst
      .updateTopicRoute(SystemTopic.AUTO_CREATE)
      .then(() => inst.sendHeartbeatToAllBrokers())
      .catch((err) => inst.log.warn(`transaction producer ${this.group}: registering with brokers failed: ${errorText(err)}`));
    return this;
  }

  /** Sends a half message, runs the local transaction and ends it (Java sendMessageInTransaction). */
  async sendMessageInTransaction(input: MessageInput, arg?: unknown): Promise<TransactionSendResult> {
    // Delay levels do not apply to transactional messages (Java clears the property).
    const half: MessageInput = {
      ...input,
      delayLevel: undefined,
      properties: { ...input.properties, [Prop.TRAN_MSG]: "true", [Prop.PGROUP]: this.group },
    };
    let sendResult: SendResult;
    try {
      sendResult = await this.send(half);
    } catch (err) {
      throw new MQClientError(`send message Exception: ${errorText(err)}`, { cause: err, code: err instanceof MQClientError ? err.code : -1 });
    }
    let state: LocalTransactionState = "UNKNOW";
    let localError: unknown;
    if (sendResult.sendStatus === "SEND_OK") {
      const built = buildMessage(half); // already validated by send(): this rebuilds tags, keys, properties
      const msg: TransactionMessage = { topic: built.topic, body: built.body, properties: { ...built.properties, [Prop.UNIQ_KEY]: sendResult.msgId }, transactionId: sendResult.msgId };
      try {
        state = asState(await this.listener.executeLocalTransaction(msg, arg));
      } catch (err) {
        localError = err;
      }
    } else {
      // Stored but not flushed / replicated: Java rolls back.
      state = "ROLLBACK_MESSAGE";
    }
    try {
      await this.endTransaction(sendResult, state, localError);
    } catch (err) {
      this.client().log.warn(`local transaction ${sendResult.msgId} ended ${state}, but END_TRANSACTION failed: ${errorText(err)}`);
    }
    return { ...sendResult, localTransactionState: state, transactionId: sendResult.msgId };
  }

  private async endTransaction(sendResult: SendResult, state: LocalTransactionState, localError: unknown): Promise<void> {
    const inst = this.client();
    const brokerName = sendResult.messageQueue.brokerName;
    const addr = inst.findMasterAddr(brokerName);
    if (!addr) throw new MQClientError(`The broker[${brokerName}] not exist`);
    const header: Record<string, string> = {
      producerGroup: this.group,
      tranStateTableOffset: String(sendResult.queueOffset),
      commitLogOffset: String(decodeOffsetMsgId(sendResult.offsetMsgId).offset),
      commitOrRollback: String(commitOrRollbackOf(state)),
      fromTransactionCheck: "false",
      msgId: sendResult.msgId,
      bname: brokerName,
    };
    const request = RemotingCommand.request(RequestCode.END_TRANSACTION, header);
    if (localError !== undefined) request.remark = `executeLocalTransactionBranch exception: ${errorText(localError)}`;
    await inst.remoting.invokeOneway(addr, request);
  }

  /** Checks being answered (listener running or END_TRANSACTION not yet queued). */
  get pendingCheckCount(): number {
    return this.pendingChecks;
  }

  /** CHECK_TRANSACTION_STATE from `brokerAddr` (called by the client instance; never throws). */
  checkTransactionState(brokerAddr: string, request: RemotingCommand): void {
    const inst = this.client();
    if (this.pendingChecks >= CHECK_REQUEST_HOLD_MAX) {
      inst.log.warn(`transaction check from ${brokerAddr} dropped: ${CHECK_REQUEST_HOLD_MAX} checks already pending`);
      return;
    }
    this.pendingChecks++;
    void this.answerCheck(brokerAddr, request)
      .catch((err) => inst.log.warn(`transaction check from ${brokerAddr} failed: ${errorText(err)}`))
      .finally(() => this.pendingChecks--);
  }

  private async answerCheck(brokerAddr: string, request: RemotingCommand): Promise<void> {
    const h = request.extFields;
    if (!request.body || h.commitLogOffset === undefined || h.tranStateTableOffset === undefined) {
      throw new MQClientError("CHECK_TRANSACTION_STATE without body, commitLogOffset or tranStateTableOffset");
    }
    const stored = toConsumed(decodeRecord(request.body), "");
    const uniqKey = stored.properties[Prop.UNIQ_KEY] ?? stored.offsetMsgId;
    const group = stored.properties[Prop.PGROUP];
    if (group !== undefined && group !== this.group) {
      throw new MQClientError(`check for producer group ${group} reached producer group ${this.group}`);
    }
    let state: LocalTransactionState = "UNKNOW";
    let checkError: unknown;
    try {
      state = asState(await this.listener.checkLocalTransaction({ ...stored, transactionId: uniqKey }));
    } catch (err) {
      checkError = err;
    }
    const header: Record<string, string> = {
      producerGroup: this.group,
      tranStateTableOffset: h.tranStateTableOffset,
      commitLogOffset: h.commitLogOffset,
      commitOrRollback: String(commitOrRollbackOf(state)),
      fromTransactionCheck: "true",
      msgId: uniqKey,
    };
    if (h.transactionId !== undefined) header.transactionId = h.transactionId;
    const end = RemotingCommand.request(RequestCode.END_TRANSACTION, header);
    if (checkError !== undefined) end.remark = `checkLocalTransactionState Exception: ${errorText(checkError)}`;
    await this.client().remoting.invokeOneway(brokerAddr, end);
  }
}
