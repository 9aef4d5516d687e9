// CHECK_TRANSACTION_STATE to a producer (Java AbstractTransactionalMessageCheckListener.sendCheckMessage
// and Broker2Client.checkProducerTransactionState, protocol doc 3.3.5): oneway to one live connection
// of the half message's producer group, body = the re-put half message in record format with its
// real topic and queue.

import { encodeRecord } from "../../common/message-codec.ts";
import { Prop, propertiesToString, type MessageExt } from "../../common/message.ts";
import { createLogger } from "../../log.ts";
import { RequestCode } from "../../remoting/codes.ts";
import { RemotingCommand } from "../../remoting/command.ts";
import type { ProducerManager } from "../producer-manager.ts";

const log = createLogger("transaction");

/** The CHECK_TRANSACTION_STATE request for a re-put half message (queue/commit-log offsets are the copy's). */
export function buildCheckRequest(half: MessageExt): RemotingCommand {
  const uniqKey = half.properties[Prop.UNIQ_KEY];
  const header: Record<string, string> = {
    tranStateTableOffset: String(half.queueOffset),
    commitLogOffset: String(half.commitLogOffset),
    offsetMsgId: half.msgId,
  };
  if (uniqKey !== undefined) {
    header.msgId = uniqKey;
    header.transactionId = uniqKey;
  }
  const realQid = Number.parseInt(half.properties[Prop.REAL_QID] ?? "", 10);
  const real = {
    ...half,
    topic: half.properties[Prop.REAL_TOPIC] ?? half.topic,
    queueId: Number.isInteger(realQid) ? realQid : half.queueId,
    // Java re-encodes from the property map, which carries the updated TRANSACTION_CHECK_TIMES.
    propertiesString: propertiesToString(half.properties),
  };
  return RemotingCommand.request(RequestCode.CHECK_TRANSACTION_STATE, header, encodeRecord(real, half.queueOffset, half.commitLogOffset, half.storeTimestamp));
}

/** Sends the check to one live producer of the message's group; false (logged) when there is none. */
export function sendCheckMessage(producers: ProducerManager, half: MessageExt): boolean {
  const group = half.properties[Prop.PGROUP] ?? "";
  const channel = producers.availableChannel(group);
  if (!channel) {
    log.warn(`check transaction failed, no live producer of group ${group} (msgId ${half.properties[Prop.UNIQ_KEY] ?? half.msgId})`);
    return false;
  }
  channel.conn.invokeOneway(buildCheckRequest(half));
  return true;
}
