// Offset and message queries: GET_MAX_OFFSET (30), GET_MIN_OFFSET (31), SEARCH_OFFSET_BY_TIMESTAMP (29),
// GET_EARLIEST_MSG_STORETIME (32), QUERY_MESSAGE (12), VIEW_MESSAGE_BY_ID (33) (protocol doc 3.3.3, 6.16).

import { ResponseCode } from "../../remoting/codes.ts";
import { RemotingCommand } from "../../remoting/command.ts";
import type { BrokerController } from "../broker.ts";
import { HeaderReader } from "./header.ts";

export class QueryProcessor {
  constructor(private readonly broker: BrokerController) {}

  getMaxOffset(request: RemotingCommand): RemotingCommand {
    const h = new HeaderReader(request.extFields);
    const offset = this.broker.store.getMaxOffsetInQueue(h.topic("topic"), h.int("queueId"));
    return RemotingCommand.responseTo(request, ResponseCode.SUCCESS, undefined, { offset: String(offset) });
  }

  getMinOffset(request: RemotingCommand): RemotingCommand {
    const h = new HeaderReader(request.extFields);
    const offset = this.broker.store.getMinOffsetInQueue(h.topic("topic"), h.int("queueId"));
    return RemotingCommand.responseTo(request, ResponseCode.SUCCESS, undefined, { offset: String(offset) });
  }

  searchOffsetByTimestamp(request: RemotingCommand): RemotingCommand {
    const h = new HeaderReader(request.extFields);
    const offset = this.broker.store.getOffsetInQueueByTime(h.topic("topic"), h.int("queueId"), h.longBound("timestamp"));
    return RemotingCommand.responseTo(request, ResponseCode.SUCCESS, undefined, { offset: String(offset) });
  }

  getEarliestMsgStoretime(request: RemotingCommand): RemotingCommand {
    const h = new HeaderReader(request.extFields);
    const timestamp = this.broker.store.getEarliestMessageTime(h.topic("topic"), h.int("queueId"));
    return RemotingCommand.responseTo(request, ResponseCode.SUCCESS, undefined, { timestamp: String(timestamp) });
  }

  queryMessage(request: RemotingCommand): RemotingCommand {
    const h = new HeaderReader(request.extFields);
    const topic = h.topic("topic");
    const key = h.str("key");
    let maxNum = h.int("maxNum");
    const begin = h.longBound("beginTimestamp");
    const end = h.longBound("endTimestamp");
    const config = this.broker.config;
    if (h.bool("_UNIQUE_KEY_QUERY")) maxNum = config.defaultQueryMaxNum;
    maxNum = Math.max(1, Math.min(maxNum, config.maxMsgsNumBatch));
    const result = this.broker.store.queryMessage(topic, key, maxNum, begin, end);
    const ext = {
      indexLastUpdateTimestamp: String(result.indexLastUpdateTimestamp),
      indexLastUpdatePhyoffset: String(result.indexLastUpdatePhyoffset),
    };
    if (result.messages.length === 0) {
      return RemotingCommand.responseTo(request, ResponseCode.QUERY_NOT_FOUND, "can not find message, maybe time range not correct", ext);
    }
    const response = RemotingCommand.responseTo(request, ResponseCode.SUCCESS, undefined, ext);
    response.body = Buffer.concat(result.messages);
    return response;
  }

  viewMessageById(request: RemotingCommand): RemotingCommand {
    const offset = new HeaderReader(request.extFields).int("offset");
    const record = this.broker.store.selectOneMessageByOffset(offset);
    if (!record) return RemotingCommand.responseTo(request, ResponseCode.SYSTEM_ERROR, `can not find message by the offset, ${offset}`);
    const response = RemotingCommand.responseTo(request, ResponseCode.SUCCESS);
    response.body = record;
    return response;
  }
}
