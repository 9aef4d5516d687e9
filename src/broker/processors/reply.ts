// SEND_REPLY_MESSAGE (324), SEND_REPLY_MESSAGE_V2 (325): a replier's answer to a request message
// (Java ReplyMessageProcessor, 4.9.8). The reply is pushed at once to the requesting client's
// connection as PUSH_REPLY_MESSAGE_TO_CLIENT (326), found by its REPLY_TO_CLIENT client id among
// the producers' channels, and (storeReplyMessageEnable) stored in <cluster>_REPLY_TOPIC. The
// response code says whether the push worked; the store only fills in the message id and offset.

import { Prop, propertiesToString, stringToProperties, SysFlag, tagsHashCode, type MessageInner } from "../../common/message.ts";
import { encodeReplyMessageHeader } from "../../common/reply-message-header.ts";
import { RequestCode, ResponseCode } from "../../remoting/codes.ts";
import { RemotingCommand } from "../../remoting/command.ts";
import type { Connection } from "../../remoting/connection.ts";
import { createLogger } from "../../log.ts";
import type { PutMessageResult } from "../../store/store-types.ts";
import type { BrokerController } from "../broker.ts";
import type { SendProcessor, ValidatedSend } from "./send.ts";

const log = createLogger("broker");

/** How long the broker waits for the requester's client to acknowledge a push (Java Broker2Client.callClient). */
export const PUSH_REPLY_TIMEOUT_MS = 10_000;

/**
 * sysFlag bits a stored reply keeps: the body's compression. Java stores replies with sysFlag 0,
 * which leaves a compressed body unmarked in the reply topic; transaction bits make no sense here.
 */
const STORED_SYSFLAG_MASK = SysFlag.COMPRESSED | 0x700;

const STORED_STATUSES: ReadonlySet<string> = new Set(["PUT_OK", "FLUSH_DISK_TIMEOUT", "FLUSH_SLAVE_TIMEOUT", "SLAVE_NOT_AVAILABLE"]);

/** What the push came to: undefined when the client acknowledged it, else the response remark. */
type PushFailure = string | undefined;

export class ReplyProcessor {
  constructor(
    private readonly broker: BrokerController,
    private readonly send: SendProcessor,
  ) {}

  async process(request: RemotingCommand, conn: Connection): Promise<RemotingCommand> {
    const send = this.send.validate(request, conn, request.code === RequestCode.SEND_REPLY_MESSAGE_V2);
    if (send instanceof RemotingCommand) return send;
    const msg = this.replyInner(send);
    const failure = await this.push(send, msg);
    const response = RemotingCommand.responseTo(request, failure === undefined ? ResponseCode.SUCCESS : ResponseCode.SYSTEM_ERROR, failure, send.ext);
    if (failure === undefined) {
      // Java answers a pushed reply with msgId "0" and offset 0 unless the store says better.
      send.ext.msgId = "0";
      send.ext.queueId = String(send.queueId);
      send.ext.queueOffset = "0";
    }
    if (this.broker.config.storeReplyMessageEnable) {
      const result = await this.store(msg);
      if (STORED_STATUSES.has(result.status)) {
        send.ext.msgId = result.msgId;
        send.ext.queueId = String(send.queueId);
        send.ext.queueOffset = String(result.queueOffset);
      } else {
        log.warn(`storing the reply to ${msg.topic} failed: ${result.status} ${result.remark ?? ""}`);
      }
    }
    return response;
  }

  /** The message as sent: its properties string stored unchanged (no CLUSTER added, like Java). */
  private replyInner(send: ValidatedSend): MessageInner {
    const { header, conn } = send;
    const properties = stringToProperties(header.properties);
    return {
      topic: header.topic,
      queueId: send.queueId,
      flag: header.flag,
      body: send.body,
      properties,
      propertiesString: header.properties,
      tagsCode: tagsHashCode(properties[Prop.TAGS]),
      sysFlag: header.sysFlag & STORED_SYSFLAG_MASK,
      bornTimestamp: header.bornTimestamp,
      bornHost: conn.remoteAddress,
      storeHost: this.broker.storeHost,
      reconsumeTimes: header.reconsumeTimes,
      preparedTransactionOffset: 0,
    };
  }

  private async push(send: ValidatedSend, msg: MessageInner): Promise<PushFailure> {
    const clientId = msg.properties[Prop.REPLY_TO_CLIENT];
    if (clientId === undefined) {
      log.warn(`${Prop.REPLY_TO_CLIENT} is null, can not reply message`);
      return `reply message properties[${Prop.REPLY_TO_CLIENT}] is null`;
    }
    const channel = this.broker.producers.findChannel(clientId);
    if (!channel) {
      const remark = `push reply message fail, channel of <${clientId}> not found.`;
      log.warn(remark);
      return remark;
    }
    const { header } = send;
    const pushed = encodeReplyMessageHeader({
      ...header,
      properties: propertiesToString({ ...msg.properties, [Prop.PUSH_REPLY_TIME]: String(Date.now()) }),
      bornHost: send.conn.remoteAddress,
      storeHost: this.broker.storeHost,
      storeTimestamp: Date.now(),
    });
    try {
      const response = await channel.conn.invoke(RemotingCommand.request(RequestCode.PUSH_REPLY_MESSAGE_TO_CLIENT, pushed, send.body), PUSH_REPLY_TIMEOUT_MS);
      if (response.code === ResponseCode.SUCCESS) return undefined;
      log.warn(`push reply message to <${clientId}> return fail, response remark: ${response.remark}`);
    } catch (err) {
      log.warn(`push reply message to <${clientId}> fail: ${err instanceof Error ? err.message : String(err)}`);
    }
    // Java's remark, missing space included.
    return `push reply message to ${clientId}fail.`;
  }

  /** Put and, on a SYNC_MASTER, the slave ack the replier asked for with WAIT (as a send does). */
  private store(msg: MessageInner): Promise<PutMessageResult> {
    return Promise.resolve(this.broker.store.putMessage(msg)).then((result) => this.broker.replicate(result, msg.properties[Prop.WAIT] !== "false"));
  }
}
