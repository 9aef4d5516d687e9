// Admin requests (protocol doc 3.3.4): topics, subscription groups, offsets, runtime info, broker
// config (with an allow-list), stats, connections, reset offset and consumer running info forwarding.

import { decodeOffsetMsgId } from "../../common/message-codec.ts";
import { encodeFastjson } from "../../common/fastjson.ts";
import { groupNameProblem, isSystemTopic, newTopicConfig, topicNameProblem } from "../../common/topic.ts";
import { BROKER_RUNTIME_KEYS, brokerConfigEntries, parseBrokerConfig, type BrokerConfig } from "../../config/broker-config.ts";
import { formatProperties } from "../../config/properties.ts";
import { readConfigUpdate } from "../../config/runtime-update.ts";
import { createLogger } from "../../log.ts";
import { CURRENT_VERSION, RequestCode, ResponseCode } from "../../remoting/codes.ts";
import { RemotingCommand } from "../../remoting/command.ts";
import type { Processor } from "../../remoting/connection.ts";
import { RemotingTimeoutError } from "../../remoting/errors.ts";
import type { BrokerController } from "../broker.ts";
import { newDataVersion, nextDataVersion } from "../data-version.ts";
import { haRuntimeInfo } from "../ha-runtime-info.ts";
import { subscriptionGroupFromJson } from "../subscription-group.ts";
import { subscriptionToJson } from "../subscription-data.ts";
import { HeaderReader } from "./header.ts";
import { jsonBody, parseJsonBody } from "./json-body.ts";

/** Java: forwarded consumer requests wait this long for the client. */
const FORWARD_TO_CLIENT_TIMEOUT_MS = 10_000;
/** Java MQVersion V3_1_8_SNAPSHOT: clients below cannot answer running-info requests. */
const VERSION_V3_1_8_SNAPSHOT = 62;
/** Java MQVersion V3_0_7_SNAPSHOT: clients below cannot take RESET_CONSUMER_CLIENT_OFFSET. */
const VERSION_V3_0_7_SNAPSHOT = 28;
/** Queue ids travel as Java ints but a topic with more queues than this is a typo, not a plan. */
const MAX_QUEUE_NUMS = 65_535;
/** perm is READ|WRITE|INHERIT: 0..7. */
const MAX_PERM = 7;

const log = createLogger("admin");

/**
 * The request-pool keys of Java's runtime info. tsmq serves requests on its event loop, so nothing
 * queues: sizes and head waits are 0; capacities are Java's defaults, so dashboards read the same.
 */
const THREAD_POOL_QUEUES: Record<string, string> = {
  sendThreadPoolQueueSize: "0",
  sendThreadPoolQueueCapacity: "10000",
  sendThreadPoolQueueHeadWaitTimeMills: "0",
  pullThreadPoolQueueSize: "0",
  pullThreadPoolQueueCapacity: "100000",
  pullThreadPoolQueueHeadWaitTimeMills: "0",
  queryThreadPoolQueueSize: "0",
  queryThreadPoolQueueCapacity: "20000",
  queryThreadPoolQueueHeadWaitTimeMills: "0",
  EndTransactionQueueSize: "0",
  EndTransactionThreadPoolQueueCapacity: "100000",
};

const textEncoder = new TextEncoder();

export class AdminProcessor {
  /** Bumped on every UPDATE_BROKER_CONFIG (GET_BROKER_CONFIG header `version`). */
  private readonly configVersion = newDataVersion();

  constructor(private readonly broker: BrokerController) {}

  processors(): Array<[number, Processor]> {
    return [
      [RequestCode.UPDATE_AND_CREATE_TOPIC, (r) => this.updateAndCreateTopic(r)],
      [RequestCode.DELETE_TOPIC_IN_BROKER, (r) => this.deleteTopic(r)],
      [RequestCode.GET_ALL_TOPIC_CONFIG, (r) => this.ok(r, jsonBody(this.broker.topics.serializeWrapper()))],
      [RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, (r) => this.updateSubscriptionGroup(r)],
      [RequestCode.DELETE_SUBSCRIPTIONGROUP, (r) => this.deleteSubscriptionGroup(r)],
      [RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG, (r) => this.ok(r, jsonBody(this.broker.groups.serializeWrapper()))],
      [RequestCode.GET_ALL_CONSUMER_OFFSET, (r) => this.ok(r, jsonBody(this.broker.offsets.toJson()))],
      [RequestCode.GET_ALL_DELAY_OFFSET, (r) => this.ok(r, jsonBody(this.broker.schedule.toJson()))],
      [RequestCode.GET_BROKER_RUNTIME_INFO, (r) => this.ok(r, jsonBody({ table: this.runtimeInfo() }))],
      [RequestCode.GET_BROKER_CONFIG, (r) => this.getBrokerConfig(r)],
      [RequestCode.UPDATE_BROKER_CONFIG, (r, c) => this.updateBrokerConfig(r, c.remoteAddress)],
      [RequestCode.GET_TOPIC_STATS_INFO, (r) => this.getTopicStats(r)],
      [RequestCode.GET_CONSUME_STATS, (r) => this.getConsumeStats(r)],
      [RequestCode.GET_CONSUMER_CONNECTION_LIST, (r) => this.getConsumerConnections(r)],
      [RequestCode.GET_PRODUCER_CONNECTION_LIST, (r) => this.getProducerConnections(r)],
      [RequestCode.QUERY_TOPIC_CONSUME_BY_WHO, (r) => this.queryTopicConsumeByWho(r)],
      [RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, (r) => this.resetOffset(r)],
      [RequestCode.CLEAN_EXPIRED_CONSUMEQUEUE, (r) => this.cleanExpiredConsumeQueues(r)],
      [RequestCode.GET_CONSUMER_RUNNING_INFO, (r) => this.forwardToConsumer(r, undefined)],
      [RequestCode.CONSUME_MESSAGE_DIRECTLY, (r) => this.consumeMessageDirectly(r)],
    ];
  }

  private ok(request: RemotingCommand, body?: Uint8Array, ext?: Record<string, string>): RemotingCommand {
    const response = RemotingCommand.responseTo(request, ResponseCode.SUCCESS, undefined, ext);
    response.body = body;
    return response;
  }

  private fail(request: RemotingCommand, code: number, remark: string): RemotingCommand {
    return RemotingCommand.responseTo(request, code, remark);
  }

  private async updateAndCreateTopic(request: RemotingCommand): Promise<RemotingCommand> {
    const h = new HeaderReader(request.extFields);
    const topic = h.str("topic");
    if (topic === this.broker.config.brokerClusterName) {
      return this.fail(request, ResponseCode.SYSTEM_ERROR, `The topic[${topic}] is conflict with system reserved words.`);
    }
    const problem = topicNameProblem(topic);
    if (problem) return this.fail(request, ResponseCode.SYSTEM_ERROR, problem);
    if (isSystemTopic(topic)) return this.fail(request, ResponseCode.SYSTEM_ERROR, `The topic[${topic}] is conflict with system topic.`);
    if (this.broker.config.brokerRole === "SLAVE") return this.fail(request, ResponseCode.SYSTEM_ERROR, "can not create topic on a slave broker");
    const readQueueNums = h.int("readQueueNums");
    const writeQueueNums = h.int("writeQueueNums");
    const perm = h.int("perm");
    if (readQueueNums < 0 || writeQueueNums < 0 || readQueueNums > MAX_QUEUE_NUMS || writeQueueNums > MAX_QUEUE_NUMS) {
      return this.fail(request, ResponseCode.SYSTEM_ERROR, `queue numbers read ${readQueueNums} / write ${writeQueueNums} out of range 0..${MAX_QUEUE_NUMS}`);
    }
    if (perm < 0 || perm > MAX_PERM) return this.fail(request, ResponseCode.SYSTEM_ERROR, `perm ${perm} is not a permission (0..${MAX_PERM})`);
    const tc = newTopicConfig(topic, {
      readQueueNums,
      writeQueueNums,
      perm,
      topicFilterType: h.optStr("topicFilterType") === "MULTI_TAG" ? "MULTI_TAG" : "SINGLE_TAG",
      topicSysFlag: h.optInt("topicSysFlag") ?? 0,
      order: h.bool("order"),
    });
    this.broker.topics.update(tc, false);
    await this.broker.topics.flush(); // an admin's success means the topic survives a crash
    await this.broker.registerBrokerAll();
    return this.ok(request);
  }

  private async deleteTopic(request: RemotingCommand): Promise<RemotingCommand> {
    const topic = new HeaderReader(request.extFields).topic("topic");
    this.broker.topics.delete(topic);
    this.broker.store.deleteTopics(new Set([topic]));
    await this.broker.topics.flush();
    return this.ok(request);
  }

  private async updateSubscriptionGroup(request: RemotingCommand): Promise<RemotingCommand> {
    const body = parseJsonBody(request.body);
    if (!body.ok) return this.fail(request, ResponseCode.SYSTEM_ERROR, `subscription group body ${body.problem}`);
    const config = subscriptionGroupFromJson(body.value);
    if (!config) return this.fail(request, ResponseCode.SYSTEM_ERROR, "subscription group body has no groupName");
    const problem = groupNameProblem(config.groupName);
    if (problem) return this.fail(request, ResponseCode.SYSTEM_ERROR, `subscription group body groupName: ${problem}`);
    if (config.retryQueueNums < 0 || config.retryQueueNums > MAX_QUEUE_NUMS) {
      return this.fail(request, ResponseCode.SYSTEM_ERROR, `subscription group body retryQueueNums ${config.retryQueueNums} out of range 0..${MAX_QUEUE_NUMS}`);
    }
    this.broker.groups.update(config);
    await this.broker.groups.flush();
    return this.ok(request);
  }

  private async deleteSubscriptionGroup(request: RemotingCommand): Promise<RemotingCommand> {
    const h = new HeaderReader(request.extFields);
    const group = h.group("groupName");
    this.broker.groups.delete(group);
    if (h.bool("removeOffset")) this.broker.offsets.removeGroup(group);
    await this.broker.groups.flush();
    return this.ok(request);
  }

  /** mqadmin cleanExpiredCQ: Java answers SUCCESS without a body whatever was destroyed. */
  private cleanExpiredConsumeQueues(request: RemotingCommand): RemotingCommand {
    this.broker.store.cleanExpiredConsumeQueues();
    return this.ok(request);
  }

  private runtimeInfo(): Record<string, string> {
    const b = this.broker;
    const table: Record<string, string> = {
      ...b.store.getRuntimeInfo(),
      ...b.schedule.runtimeInfo(),
      ...haRuntimeInfo(b.ha),
      ...b.stats.runtimeInfo(),
      brokerVersionDesc: "V4_9_8",
      brokerVersion: String(CURRENT_VERSION),
    };
    const defaults: Record<string, string> = {
      ...THREAD_POOL_QUEUES,
      startAcceptSendRequestTimeStamp: String(b.config.startAcceptSendRequestTimeStamp),
      pageCacheLockTimeMills: "0",
      earliestMessageTimeStamp: "0",
      commitLogDiskRatio: "0.0",
      commitLogMinOffset: String(b.store.getMinPhyOffset()),
      commitLogMaxOffset: String(b.store.getMaxPhyOffset()),
    };
    return { ...defaults, ...table };
  }

  private getBrokerConfig(request: RemotingCommand): RemotingCommand {
    const body = textEncoder.encode(formatProperties(brokerConfigEntries(this.broker.config)));
    return this.ok(request, body, { version: JSON.stringify(this.configVersion) });
  }

  /**
   * UPDATE_BROKER_CONFIG (Java AdminBrokerProcessor.updateBrokerConfig): allow-listed keys only
   * (config/runtime-update.ts), each value checked by the config schema; applied, then written back
   * to the `-c` file before the answer.
   */
  private async updateBrokerConfig(request: RemotingCommand, from: string): Promise<RemotingCommand> {
    if (!request.body || request.body.length === 0) return this.ok(request);
    const read = readConfigUpdate(request.body, BROKER_RUNTIME_KEYS);
    if (!read.ok) return this.fail(request, read.refusal === "not-allowed" ? ResponseCode.NO_PERMISSION : ResponseCode.SYSTEM_ERROR, read.remark);
    const props = new Map<string, string>();
    for (const [k, v] of brokerConfigEntries(this.broker.config)) props.set(k, String(v));
    for (const [k, v] of read.updates) props.set(k, v);
    let next: BrokerConfig;
    try {
      next = parseBrokerConfig(props).config;
    } catch (err) {
      return this.fail(request, ResponseCode.SYSTEM_ERROR, (err as Error).message);
    }
    const permissionBefore = this.broker.config.brokerPermission;
    const current = this.broker.config as Record<string, unknown>;
    for (const k of read.updates.keys()) current[k] = (next as Record<string, unknown>)[k];
    nextDataVersion(this.configVersion);
    log.info(`broker config updated by ${from}: ${[...read.updates].map(([k, v]) => `${k}=${v}`).join(", ")}`);
    try {
      await this.broker.persistConfigUpdates(read.updates);
    } catch (err) {
      return this.fail(request, ResponseCode.SYSTEM_ERROR, `config applied but not written to the config file: ${(err as Error).message}`);
    }
    if (this.broker.config.brokerPermission !== permissionBefore) {
      // A new topic-table version makes the namesrvs take the re-permissioned routes (Java does the same).
      nextDataVersion(this.broker.topics.dataVersion);
      this.broker.topics.persist();
      await this.broker.registerBrokerAll();
    }
    return this.ok(request);
  }

  private mq(topic: string, queueId: number): { brokerName: string; queueId: number; topic: string } {
    return { brokerName: this.broker.config.brokerName, queueId, topic };
  }

  private getTopicStats(request: RemotingCommand): RemotingCommand {
    const topic = new HeaderReader(request.extFields).topic("topic");
    const tc = this.broker.topics.get(topic);
    if (!tc) return this.fail(request, ResponseCode.TOPIC_NOT_EXIST, `topic[${topic}] not exist`);
    const store = this.broker.store;
    const offsetTable = new Map<object, unknown>();
    for (let i = 0; i < tc.writeQueueNums; i++) {
      const min = Math.max(store.getMinOffsetInQueue(topic, i), 0);
      const max = Math.max(store.getMaxOffsetInQueue(topic, i), 0);
      const lastUpdateTimestamp = max > 0 ? store.getMessageStoreTimeStamp(topic, i, max - 1) : 0;
      offsetTable.set(this.mq(topic, i), { lastUpdateTimestamp, maxOffset: max, minOffset: min });
    }
    return this.ok(request, encodeFastjson({ offsetTable }));
  }

  private getConsumeStats(request: RemotingCommand): RemotingCommand {
    const h = new HeaderReader(request.extFields);
    const group = h.group("consumerGroup");
    const onlyTopic = h.optStr("topic") === undefined ? undefined : h.topic("topic");
    const topics = onlyTopic ? [onlyTopic] : [...this.broker.offsets.topicsByGroup(group)];
    const store = this.broker.store;
    const offsetTable = new Map<object, unknown>();
    let consumeTps = 0;
    for (const topic of topics) {
      const tc = this.broker.topics.get(topic);
      if (!tc) continue;
      consumeTps += this.broker.stats.groupTransferredTps(group, topic);
      for (let i = 0; i < tc.writeQueueNums; i++) {
        const brokerOffset = Math.max(store.getMaxOffsetInQueue(topic, i), 0);
        const consumerOffset = Math.max(this.broker.offsets.queryOffset(group, topic, i), 0);
        const lastTimestamp = consumerOffset > 0 ? store.getMessageStoreTimeStamp(topic, i, consumerOffset - 1) : 0;
        offsetTable.set(this.mq(topic, i), { brokerOffset, consumerOffset, lastTimestamp });
      }
    }
    return this.ok(request, encodeFastjson({ consumeTps, offsetTable }));
  }

  private getConsumerConnections(request: RemotingCommand): RemotingCommand {
    const group = new HeaderReader(request.extFields).group("consumerGroup");
    const info = this.broker.consumers.get(group);
    if (!info) return this.fail(request, ResponseCode.CONSUMER_NOT_ONLINE, `the consumer group[${group}] not online`);
    const subscriptionTable: Record<string, unknown> = {};
    for (const [topic, sub] of info.subscriptionTable) subscriptionTable[topic] = subscriptionToJson(sub);
    return this.ok(
      request,
      jsonBody({
        connectionSet: [...info.channels.values()].map((c) => ({ clientAddr: c.conn.remoteAddress, clientId: c.clientId, language: c.language, version: c.version })),
        consumeFromWhere: info.consumeFromWhere,
        consumeType: info.consumeType,
        messageModel: info.messageModel,
        subscriptionTable,
      }),
    );
  }

  private getProducerConnections(request: RemotingCommand): RemotingCommand {
    const group = new HeaderReader(request.extFields).group("producerGroup");
    const channels = this.broker.producers.groups.get(group);
    if (!channels || channels.size === 0) return this.fail(request, ResponseCode.SYSTEM_ERROR, `the producer group[${group}] not exist`);
    return this.ok(
      request,
      jsonBody({
        connectionSet: [...channels.values()].map((c) => ({ clientAddr: c.conn.remoteAddress, clientId: c.clientId, language: c.language, version: c.version })),
      }),
    );
  }

  private queryTopicConsumeByWho(request: RemotingCommand): RemotingCommand {
    const topic = new HeaderReader(request.extFields).topic("topic");
    const groups = new Set([...this.broker.consumers.groupsByTopic(topic), ...this.broker.offsets.groupsByTopic(topic)]);
    return this.ok(request, jsonBody({ groupList: [...groups] }));
  }

  /** INVOKE_BROKER_TO_RESET_OFFSET (protocol doc 6.13): computes offsets, pushes them to live consumers. */
  private resetOffset(request: RemotingCommand): RemotingCommand {
    const h = new HeaderReader(request.extFields);
    const topic = h.topic("topic");
    const group = h.group("group");
    const timestamp = h.int("timestamp");
    const isForce = h.bool("isForce");
    const tc = this.broker.topics.get(topic);
    if (!tc) return this.fail(request, ResponseCode.SYSTEM_ERROR, `[reset-offset] reset offset failed, no topic in this broker. topic=${topic}`);
    const store = this.broker.store;
    const offsetTable = new Map<object, number>();
    for (let i = 0; i < tc.writeQueueNums; i++) {
      const current = this.broker.offsets.queryOffset(group, topic, i);
      if (current === -1) return this.fail(request, ResponseCode.SYSTEM_ERROR, `THe consumer group <${group}> not exist`);
      let target = timestamp === -1 ? store.getMaxOffsetInQueue(topic, i) : store.getOffsetInQueueByTime(topic, i, timestamp);
      if (target < 0) target = 0;
      offsetTable.set(this.mq(topic, i), isForce || target < current ? target : current);
    }
    const body = encodeFastjson({ offsetTable });
    const info = this.broker.consumers.get(group);
    if (!info || info.channels.size === 0) {
      return this.fail(request, ResponseCode.CONSUMER_NOT_ONLINE, `Consumer not online, so can not reset offset, Group: ${group} Topic: ${topic} Timestamp: ${timestamp}`);
    }
    for (const c of info.channels.values()) {
      if (c.version < VERSION_V3_0_7_SNAPSHOT) continue;
      const push = RemotingCommand.request(RequestCode.RESET_CONSUMER_CLIENT_OFFSET, { topic, group, timestamp: String(timestamp), isForce: String(isForce) }, body);
      c.conn.invokeOneway(push);
    }
    return this.ok(request, body);
  }

  private async consumeMessageDirectly(request: RemotingCommand): Promise<RemotingCommand> {
    const msgId = request.extFields.msgId;
    if (!msgId) return this.fail(request, ResponseCode.SYSTEM_ERROR, "the custom field <msgId> is null");
    let record: Uint8Array | undefined;
    try {
      record = this.broker.store.selectOneMessageByOffset(decodeOffsetMsgId(msgId).offset);
    } catch (err) {
      return this.fail(request, ResponseCode.SYSTEM_ERROR, (err as Error).message);
    }
    if (!record) return this.fail(request, ResponseCode.SYSTEM_ERROR, `can not find message by msgId ${msgId}`);
    return this.forwardToConsumer(request, record, { brokerName: this.broker.config.brokerName });
  }

  /** Forwards the request to the consumer's channel (sync, 10 s) and relays its answer (protocol doc 6.14). */
  private async forwardToConsumer(request: RemotingCommand, body: Uint8Array | undefined, extra: Record<string, string> = {}): Promise<RemotingCommand> {
    const h = new HeaderReader(request.extFields);
    const group = h.group("consumerGroup");
    const clientId = h.clientId("clientId");
    const channel = this.broker.consumers.findChannelByClientId(group, clientId);
    if (!channel) return this.fail(request, ResponseCode.SYSTEM_ERROR, `The Consumer <${group}> <${clientId}> not online`);
    if (channel.version < VERSION_V3_1_8_SNAPSHOT) {
      return this.fail(request, ResponseCode.SYSTEM_ERROR, `The Consumer <${clientId}> Version <${channel.version}> too low to finish, please upgrade it to V3_1_8_SNAPSHOT`);
    }
    const forward = RemotingCommand.request(request.code, { ...request.extFields, ...extra }, body ?? request.body);
    try {
      const answer = await channel.conn.invoke(forward, FORWARD_TO_CLIENT_TIMEOUT_MS);
      const response = RemotingCommand.responseTo(request, answer.code, answer.remark, answer.extFields);
      response.body = answer.body;
      return response;
    } catch (err) {
      if (err instanceof RemotingTimeoutError) {
        return this.fail(request, ResponseCode.CONSUME_MSG_TIMEOUT, `consumer <${clientId}> <${channel.conn.remoteAddress}> Timeout: ${err.message}`);
      }
      return this.fail(request, ResponseCode.SYSTEM_ERROR, `invoke consumer <${clientId}> <${channel.conn.remoteAddress}> Exception: ${(err as Error).message}`);
    }
  }
}
