// RESUME_CHECK_HALF_MESSAGE (323, mqadmin; Java AdminBrokerProcessor.resumeCheckHalfMessage, storage
// doc §12.8): puts a half message that was discarded into TRANS_CHECK_MAX_TIME_TOPIC back into the
// half queue with TRANSACTION_CHECK_TIMES=0, so check-backs start over.

import { decodeOffsetMsgId } from "../../common/message-codec.ts";
import { Prop } from "../../common/message.ts";
import { SystemTopic } from "../../common/topic.ts";
import { createLogger } from "../../log.ts";
import { ResponseCode } from "../../remoting/codes.ts";
import { RemotingCommand } from "../../remoting/command.ts";
import { HeaderReader } from "../processors/header.ts";
import type { HalfMessageBridge } from "./half-message-bridge.ts";

const log = createLogger("transaction");

const PUT_BACK_FAILED = `Put message back to ${SystemTopic.TRANS_HALF} failed.`;

export async function resumeCheckHalfMessage(bridge: HalfMessageBridge, request: RemotingCommand): Promise<RemotingCommand> {
  const msgId = new HeaderReader(request.extFields).str("msgId");
  let offset: number;
  try {
    offset = decodeOffsetMsgId(msgId).offset;
  } catch (err) {
    return RemotingCommand.responseTo(request, ResponseCode.SYSTEM_ERROR, `msgId ${msgId} is not an offset message id: ${(err as Error).message}`);
  }
  const stored = bridge.lookMessageByOffset(offset);
  if (!stored) return RemotingCommand.responseTo(request, ResponseCode.SYSTEM_ERROR, `no message at commit log offset ${offset} (msgId ${msgId})`);
  stored.properties[Prop.TRANSACTION_CHECK_TIMES] = "0";
  bridge.halfTopicConfig();
  const result = await bridge.putMessage({ ...bridge.renewHalfMessage(stored), topic: SystemTopic.TRANS_HALF, queueId: 0 });
  if (result.status !== "PUT_OK") {
    log.error(`${PUT_BACK_FAILED} ${result.status} ${result.remark ?? ""}`);
    return RemotingCommand.responseTo(request, ResponseCode.SYSTEM_ERROR, PUT_BACK_FAILED);
  }
  log.info(`put message back to ${SystemTopic.TRANS_HALF}, real topic ${stored.properties[Prop.REAL_TOPIC]}`);
  return RemotingCommand.responseTo(request, ResponseCode.SUCCESS);
}
