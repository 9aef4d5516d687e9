// END_TRANSACTION (37) (Java EndTransactionProcessor, protocol doc 3.3.2, storage doc §12.8): COMMIT
// moves the half message to its real topic/queue and writes an op record; ROLLBACK writes the op
// record only; UNKNOWN is left to the check-back service. Java clients send it oneway, so the
// response only matters to tools and tests.

import { Prop, SysFlag, tagsHashCode, type MessageExt, type MessageInner } from "../../common/message.ts";
import { SystemTopic } from "../../common/topic.ts";
import { createLogger } from "../../log.ts";
import { ResponseCode } from "../../remoting/codes.ts";
import { RemotingCommand } from "../../remoting/command.ts";
import type { Connection } from "../../remoting/connection.ts";
import type { PutMessageResult } from "../../store/store-types.ts";
import { HeaderReader } from "../processors/header.ts";
import { resetTransactionType, type HalfMessageBridge } from "./half-message-bridge.ts";

const log = createLogger("transaction");

interface EndTransactionHeader {
  producerGroup: string;
  tranStateTableOffset: number;
  commitLogOffset: number;
  commitOrRollback: number;
  fromTransactionCheck: boolean;
  msgId: string;
}

function parseHeader(request: RemotingCommand): EndTransactionHeader {
  const h = new HeaderReader(request.extFields);
  return {
    producerGroup: h.str("producerGroup"),
    tranStateTableOffset: h.int("tranStateTableOffset"),
    commitLogOffset: h.int("commitLogOffset"),
    commitOrRollback: h.int("commitOrRollback"),
    fromTransactionCheck: h.bool("fromTransactionCheck"),
    msgId: h.str("msgId"),
  };
}

export class EndTransactionProcessor {
  constructor(
    private readonly bridge: HalfMessageBridge,
    private readonly isSlave: () => boolean,
  ) {}

  async process(request: RemotingCommand, conn: Connection): Promise<RemotingCommand | null> {
    const reply = (code: number, remark?: string) => RemotingCommand.responseTo(request, code, remark);
    const header = parseHeader(request);
    if (this.isSlave()) {
      log.warn("message store is in slave mode, so end transaction is forbidden");
      return reply(ResponseCode.SLAVE_NOT_AVAILABLE, "end transaction is forbidden on a slave broker");
    }
    const source = header.fromTransactionCheck ? "check answer" : "end transaction";
    const what = `${source} from producer ${conn.remoteAddress} (group ${header.producerGroup}, msgId ${header.msgId}, commitLogOffset ${header.commitLogOffset})`;
    const remark = request.remark ? `, remark: ${request.remark}` : "";
    switch (header.commitOrRollback) {
      case SysFlag.TRANSACTION_COMMIT_TYPE:
        if (header.fromTransactionCheck) log.info(`${what}: commit${remark}`);
        return this.commit(header, reply);
      case SysFlag.TRANSACTION_ROLLBACK_TYPE:
        log.info(`${what}: rollback${remark}`);
        return this.rollback(header, reply);
      case SysFlag.TRANSACTION_NOT_TYPE:
        log.info(`${what}: state unknown, left for the check-back${remark}`);
        return null;
      default:
        log.warn(`${what}: commitOrRollback ${header.commitOrRollback} is not 0, 8 or 12; ignored`);
        return null;
    }
  }

  private async commit(header: EndTransactionHeader, reply: (code: number, remark?: string) => RemotingCommand): Promise<RemotingCommand> {
    const found = this.findHalf(header);
    if (typeof found === "string") return reply(ResponseCode.SYSTEM_ERROR, found);
    const result = await this.bridge.putMessage(endMessageTransaction(found, header.commitLogOffset));
    const failure = putFailureRemark(result);
    if (failure) return reply(failure.code, failure.remark);
    if (!(await this.bridge.putOpMessage(found))) log.error(`op record for committed half message ${found.msgId} was not stored`);
    return reply(ResponseCode.SUCCESS);
  }

  private async rollback(header: EndTransactionHeader, reply: (code: number, remark?: string) => RemotingCommand): Promise<RemotingCommand> {
    const found = this.findHalf(header);
    if (typeof found === "string") return reply(ResponseCode.SYSTEM_ERROR, found);
    if (!(await this.bridge.putOpMessage(found))) log.error(`op record for rolled back half message ${found.msgId} was not stored`);
    return reply(ResponseCode.SUCCESS);
  }

  /** The half message the header names, or the Java remark for why it does not match. */
  private findHalf(header: EndTransactionHeader): MessageExt | string {
    const half = this.bridge.lookMessageByOffset(header.commitLogOffset);
    if (!half) return "Find prepared transaction message failed";
    // Stricter than Java, which would fail later on the missing REAL_TOPIC: name the problem.
    if (half.topic !== SystemTopic.TRANS_HALF) return `the message at commitLogOffset ${header.commitLogOffset} is in topic ${half.topic}, not a half message`;
    if (half.properties[Prop.PGROUP] !== header.producerGroup) return "The producer group wrong";
    if (half.queueOffset !== header.tranStateTableOffset) return "The transaction state table offset wrong";
    if (half.commitLogOffset !== header.commitLogOffset) return "The commit log offset wrong";
    return half;
  }
}

/**
 * The committed message (Java endMessageTransaction): the half's body, flag, born info and
 * properties in its real topic/queue with sysFlag COMMIT. The stored property string is the half's
 * (still naming REAL_TOPIC / REAL_QID), as in Java.
 */
function endMessageTransaction(half: MessageExt, halfCommitLogOffset: number): MessageInner {
  const realTopic = half.properties[Prop.REAL_TOPIC];
  const realQid = Number.parseInt(half.properties[Prop.REAL_QID] ?? "", 10);
  if (realTopic === undefined || !Number.isInteger(realQid)) throw new Error(`half message ${half.msgId} lacks ${Prop.REAL_TOPIC} / ${Prop.REAL_QID}`);
  const properties = { ...half.properties };
  delete properties[Prop.REAL_TOPIC];
  delete properties[Prop.REAL_QID];
  delete properties[Prop.TRAN_MSG];
  return {
    topic: realTopic,
    queueId: realQid,
    flag: half.flag,
    body: half.body,
    properties,
    propertiesString: half.propertiesString,
    tagsCode: tagsHashCode(half.properties[Prop.TAGS]),
    sysFlag: resetTransactionType(half.sysFlag, SysFlag.TRANSACTION_COMMIT_TYPE),
    bornTimestamp: half.bornTimestamp,
    bornHost: half.bornHost,
    storeHost: half.storeHost,
    reconsumeTimes: half.reconsumeTimes,
    preparedTransactionOffset: halfCommitLogOffset,
  };
}

/** Java sendFinalMessage's status mapping; undefined for the success-like statuses. */
function putFailureRemark(result: PutMessageResult): { code: number; remark: string } | undefined {
  switch (result.status) {
    case "PUT_OK":
    case "FLUSH_DISK_TIMEOUT":
    case "FLUSH_SLAVE_TIMEOUT":
    case "SLAVE_NOT_AVAILABLE":
      return undefined;
    case "CREATE_MAPEDFILE_FAILED":
      return { code: ResponseCode.SYSTEM_ERROR, remark: "Create mapped file failed." };
    case "MESSAGE_ILLEGAL":
    case "PROPERTIES_SIZE_EXCEEDED":
      return { code: ResponseCode.MESSAGE_ILLEGAL, remark: `The message is illegal, maybe msg body or properties length not matched. ${result.remark ?? ""}`.trim() };
    case "SERVICE_NOT_AVAILABLE":
      return { code: ResponseCode.SERVICE_NOT_AVAILABLE, remark: `Service not available now. ${result.remark ?? ""}`.trim() };
    case "OS_PAGECACHE_BUSY":
      return { code: ResponseCode.SYSTEM_ERROR, remark: "OS page cache busy, please try another machine" };
    default:
      return { code: ResponseCode.SYSTEM_ERROR, remark: result.remark ?? "UNKNOWN_ERROR" };
  }
}
