// HEART_BEAT (34), UNREGISTER_CLIENT (35), CHECK_CLIENT_CONFIG (46) (protocol doc 3.3.2, 4.5, 6.6).

import { PERM_READ_WRITE, retryTopic, TopicSysFlag } from "../../common/topic.ts";
import { ResponseCode } from "../../remoting/codes.ts";
import { RemotingCommand } from "../../remoting/command.ts";
import type { Connection } from "../../remoting/connection.ts";
import type { BrokerController } from "../broker.ts";
import type { ClientChannelInfo } from "../client-channel.ts";
import { subscriptionFromJson, type SubscriptionData } from "../subscription-data.ts";
import { HeaderReader } from "./header.ts";
import { parseJsonBody } from "./json-body.ts";

/** Bound on consumer/producer entries read from one heartbeat. */
const MAX_GROUPS_PER_HEARTBEAT = 1_000;

export class ClientManageProcessor {
  constructor(private readonly broker: BrokerController) {}

  heartbeat(request: RemotingCommand, conn: Connection): RemotingCommand {
    const body = parseJsonBody(request.body);
    if (!body.ok) return RemotingCommand.responseTo(request, ResponseCode.SYSTEM_ERROR, `heartbeat body ${body.problem}`);
    const data = body.value as Record<string, unknown>;
    const clientId = typeof data.clientID === "string" ? data.clientID : "";
    if (clientId.length === 0) return RemotingCommand.responseTo(request, ResponseCode.SYSTEM_ERROR, "heartbeat body has no clientID");
    const channel: ClientChannelInfo = { conn, clientId, language: request.language, version: request.version, lastUpdateMs: Date.now() };

    const consumers = Array.isArray(data.consumerDataSet) ? data.consumerDataSet.slice(0, MAX_GROUPS_PER_HEARTBEAT) : [];
    for (const raw of consumers) {
      if (typeof raw !== "object" || raw === null) continue;
      const c = raw as Record<string, unknown>;
      const group = typeof c.groupName === "string" ? c.groupName : "";
      if (group.length === 0) continue;
      let notify = true;
      const groupConfig = this.broker.groups.findOrCreate(group);
      if (groupConfig) {
        notify = groupConfig.notifyConsumerIdsChangedEnable;
        this.broker.topics.createIfAbsent(retryTopic(group), groupConfig.retryQueueNums, PERM_READ_WRITE, c.unitMode === true ? TopicSysFlag.UNIT_SUB : 0);
      }
      const subs: SubscriptionData[] = [];
      if (Array.isArray(c.subscriptionDataSet)) {
        for (const s of c.subscriptionDataSet) {
          const sub = subscriptionFromJson(s);
          if (sub) subs.push(sub);
        }
      }
      this.broker.consumers.register(
        group,
        { ...channel },
        String(c.consumeType ?? "CONSUME_PASSIVELY"),
        String(c.messageModel ?? "CLUSTERING"),
        String(c.consumeFromWhere ?? "CONSUME_FROM_LAST_OFFSET"),
        subs,
        notify,
      );
    }
    const producers = Array.isArray(data.producerDataSet) ? data.producerDataSet.slice(0, MAX_GROUPS_PER_HEARTBEAT) : [];
    for (const raw of producers) {
      const group = typeof raw === "object" && raw !== null ? (raw as Record<string, unknown>).groupName : undefined;
      if (typeof group === "string" && group.length > 0) this.broker.producers.register(group, { ...channel });
    }
    return RemotingCommand.responseTo(request, ResponseCode.SUCCESS);
  }

  unregisterClient(request: RemotingCommand, conn: Connection): RemotingCommand {
    const h = new HeaderReader(request.extFields);
    h.str("clientID");
    const producerGroup = h.optStr("producerGroup");
    const consumerGroup = h.optStr("consumerGroup");
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
