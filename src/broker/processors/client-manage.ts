// HEART_BEAT (34), UNREGISTER_CLIENT (35), CHECK_CLIENT_CONFIG (46) (protocol doc 3.3.2, 4.5, 6.6).

import { groupTopicsProblem, PERM_READ_WRITE, retryTopic, TopicSysFlag } from "../../common/topic.ts";
import { ResponseCode } from "../../remoting/codes.ts";
import { RemotingCommand } from "../../remoting/command.ts";
import type { Connection } from "../../remoting/connection.ts";
import type { BrokerController } from "../broker.ts";
import type { ClientChannelInfo } from "../client-channel.ts";
import { HeaderReader } from "./header.ts";
import { readHeartbeatBody } from "./heartbeat-body.ts";
import { parseJsonBody } from "./json-body.ts";

export class ClientManageProcessor {
  constructor(private readonly broker: BrokerController) {}

  heartbeat(request: RemotingCommand, conn: Connection): RemotingCommand {
    const body = parseJsonBody(request.body);
    if (!body.ok) return RemotingCommand.responseTo(request, ResponseCode.SYSTEM_ERROR, `heartbeat body ${body.problem}`);
    const data = readHeartbeatBody(body.value as Record<string, unknown>);
    if (typeof data === "string") return RemotingCommand.responseTo(request, ResponseCode.SYSTEM_ERROR, data);
    const channel: ClientChannelInfo = { conn, clientId: data.clientId, language: request.language, version: request.version, lastUpdateMs: Date.now() };
    for (const c of data.consumers) {
      let notify = true;
      const groupConfig = this.broker.groups.findOrCreate(c.group);
      // A group too long for its %RETRY% topic still consumes; only its send-backs are refused.
      if (groupConfig) notify = groupConfig.notifyConsumerIdsChangedEnable;
      if (groupConfig && groupTopicsProblem(c.group) === null) {
        this.broker.topics.createIfAbsent(retryTopic(c.group), groupConfig.retryQueueNums, PERM_READ_WRITE, c.unitMode ? TopicSysFlag.UNIT_SUB : 0);
      }
      this.broker.consumers.register(c.group, { ...channel }, c.consumeType, c.messageModel, c.consumeFromWhere, c.subscriptions, notify);
    }
    for (const group of data.producerGroups) this.broker.producers.register(group, { ...channel });
    return RemotingCommand.responseTo(request, ResponseCode.SUCCESS);
  }

  unregisterClient(request: RemotingCommand, conn: Connection): RemotingCommand {
    const h = new HeaderReader(request.extFields);
    h.clientId("clientID");
    const producerGroup = h.optGroup("producerGroup");
    const consumerGroup = h.optGroup("consumerGroup");
    if (producerGroup) this.broker.producers.unregister(producerGroup, conn);
    if (consumerGroup) {
      const notify = this.broker.groups.get(consumerGroup)?.notifyConsumerIdsChangedEnable ?? true;
      this.broker.consumers.unregister(consumerGroup, conn, notify);
    }
    return RemotingCommand.responseTo(request, ResponseCode.SUCCESS);
  }

  checkClientConfig(request: RemotingCommand): RemotingCommand {
    const body = parseJsonBody(request.body);
    if (!body.ok) return RemotingCommand.responseTo(request, ResponseCode.SYSTEM_ERROR, `check client config body ${body.problem}`);
    const sub = (body.value as Record<string, unknown>).subscriptionData as Record<string, unknown> | undefined;
    const type = typeof sub?.expressionType === "string" ? sub.expressionType : "TAG";
    if (type === "TAG") return RemotingCommand.responseTo(request, ResponseCode.SUCCESS);
    if (!this.broker.config.enablePropertyFilter) {
      return RemotingCommand.responseTo(request, ResponseCode.SYSTEM_ERROR, `The broker does not support consumer to filter message by ${type}`);
    }
    return RemotingCommand.responseTo(request, ResponseCode.SUBSCRIPTION_PARSE_FAILED, `tsmq does not evaluate ${type} expressions`);
  }
}
