// CONSUMER_SEND_MSG_BACK (36): a message the consumer failed goes to %RETRY%group with a delay
// level, or to %DLQ%group after maxReconsumeTimes (protocol doc 6.10, storage doc §12.7).

import { Prop, propertiesToString, tagsHashCode, type MessageInner } from "../../common/message.ts";
import { dlqTopic, groupTopicsProblem, isWriteable, PERM_READ_WRITE, retryTopic, TopicSysFlag } from "../../common/topic.ts";
import { ResponseCode } from "../../remoting/codes.ts";
import { RemotingCommand } from "../../remoting/command.ts";
import type { BrokerController } from "../broker.ts";
import { HeaderReader, refuseBadName } from "./header.ts";
import { DLQ_QUEUE_NUMS, VERSION_V3_4_9 } from "./send.ts";

/** Java: first retry uses delay level 3 (10 s), then one level more per attempt. */
const FIRST_RETRY_DELAY_LEVEL = 3;

export class SendBackProcessor {
  constructor(private readonly broker: BrokerController) {}

  async process(request: RemotingCommand): Promise<RemotingCommand> {
    const b = this.broker;
    const h = new HeaderReader(request.extFields);
    const offset = h.int("offset");
    const group = h.group("group");
    // The group names the %RETRY% / %DLQ% topics, hence consume-queue directories.
    refuseBadName("the custom field <group>", groupTopicsProblem(group));
    let delayLevel = h.int("delayLevel");
    const headerMaxReconsumeTimes = h.optInt("maxReconsumeTimes");
    const unitMode = h.bool("unitMode");
    const reply = (code: number, remark?: string) => RemotingCommand.responseTo(request, code, remark);

    const groupConfig = b.groups.findOrCreate(group);
    if (!groupConfig) return reply(ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, `subscription group not exist, ${group}`);
    if (!isWriteable(b.config.brokerPermission)) return reply(ResponseCode.NO_PERMISSION, `the broker[${b.brokerAddr}] sending message is forbidden`);
    if (groupConfig.retryQueueNums <= 0) return reply(ResponseCode.SUCCESS);

    let topic = retryTopic(group);
    let queueId = Math.floor(Math.random() * groupConfig.retryQueueNums);
    const topicConfig = b.topics.createIfAbsent(topic, groupConfig.retryQueueNums, PERM_READ_WRITE, unitMode ? TopicSysFlag.UNIT_SUB : 0);
    if (!isWriteable(topicConfig.perm)) return reply(ResponseCode.NO_PERMISSION, `the topic[${topic}] sending message is forbidden`);

    const original = b.store.lookMessageByOffset(offset);
    if (!original) return reply(ResponseCode.SYSTEM_ERROR, `look message by offset failed, ${offset}`);

    const properties = { ...original.properties };
    if (properties[Prop.RETRY_TOPIC] === undefined) properties[Prop.RETRY_TOPIC] = original.topic;
    let maxReconsumeTimes = groupConfig.retryMaxTimes;
    if (request.version >= VERSION_V3_4_9 && headerMaxReconsumeTimes !== undefined) maxReconsumeTimes = headerMaxReconsumeTimes;

    if (original.reconsumeTimes >= maxReconsumeTimes || delayLevel < 0) {
      topic = dlqTopic(group);
      queueId = 0;
      const dlq = b.topics.createIfAbsent(topic, DLQ_QUEUE_NUMS, PERM_READ_WRITE);
      if (!isWriteable(dlq.perm)) return reply(ResponseCode.NO_PERMISSION, `the topic[${topic}] sending message is forbidden`);
      delete properties[Prop.DELAY];
    } else {
      if (delayLevel === 0) delayLevel = FIRST_RETRY_DELAY_LEVEL + original.reconsumeTimes;
      properties[Prop.DELAY] = String(delayLevel);
    }
    if (properties[Prop.ORIGIN_MESSAGE_ID] === undefined) properties[Prop.ORIGIN_MESSAGE_ID] = original.msgId;
    delete properties[Prop.WAIT];

    const msg: MessageInner = {
      topic,
      queueId,
      flag: original.flag,
      body: original.body,
      properties,
      propertiesString: "",
      tagsCode: tagsHashCode(properties[Prop.TAGS]),
      sysFlag: original.sysFlag,
      bornTimestamp: original.bornTimestamp,
      bornHost: original.bornHost,
      storeHost: b.storeHost,
      reconsumeTimes: original.reconsumeTimes + 1,
      preparedTransactionOffset: 0,
    };
    msg.propertiesString = propertiesToString(msg.properties);
    const result = await b.store.putMessage(msg);
    if (result.status === "PUT_OK") return reply(ResponseCode.SUCCESS);
    return reply(ResponseCode.SYSTEM_ERROR, result.status);
  }
}
