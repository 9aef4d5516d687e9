// Admin requests (protocol doc 3.3.4): topics, subscription groups, offsets, runtime info, broker
// config (with a block list), stats, connections, reset offset and consumer running info forwarding.

import { decodeOffsetMsgId } from "../../common/message-codec.ts";
import { encodeFastjson } from "../../common/fastjson.ts";
import { isSystemTopic, newTopicConfig, topicNameProblem } from "../../common/topic.ts";
import { brokerConfigEntries, parseBrokerConfig, type BrokerConfig } from "../../config/broker-config.ts";
import { formatProperties, parseProperties } from "../../config/properties.ts";
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

/**
 * Keys UPDATE_BROKER_CONFIG refuses: anything naming a path or able to start a process
 * (CVE-2023-33246 changed rocketmqHome / filter-server settings to run commands).
 */
export const BROKER_CONFIG_BLOCK_LIST = new Set([
  "configBlackList",
  "brokerConfigPath",
  "rocketmqHome",
  "storePathRootDir",
  "storePathCommitLog",
  "storePathConsumeQueue",
  "storePathIndex",
  "storeCheckpoint",
  "abortFile",
  "kvConfigPath",
  "configStorePath",
  "filterServerNums",
  // Registration targets and ports are fixed at start; changing them live would only desynchronise.
  "namesrvAddr",
  "listenPort",
  "haListenPort",
  // The HA service (server on a master, client on a slave) and the registered id are fixed at start.
  "brokerRole",
  "brokerId",
]);

/** Block by shape too, so a future path-like key is refused without being listed. */
export function isBlockedConfigKey(key: string): boolean {
  return BROKER_CONFIG_BLOCK_LIST.has(key) || /path/i.test(key) || /(Home|Dir)$/.test(key);
}

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
const textDecoder = new TextDecoder();

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
      [RequestCode.UPDATE_BROKER_CONFIG, (r) => this.updateBrokerConfig(r)],
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
    await this.broker.registerBrokerAll();
    return this.ok(request);
  }

  private deleteTopic(request: RemotingCommand): RemotingCommand {
    const topic = new HeaderReader(request.extFields).str("topic");
    this.broker.topics.delete(topic);
    this.broker.store.deleteTopics(new Set([topic]));
    return this.ok(request);
  }

  private updateSubscriptionGroup(request: RemotingCommand): RemotingCommand {
    const body = parseJsonBody(request.body);
    if (!body.ok) return this.fail(request, ResponseCode.SYSTEM_ERROR, `subscription group body ${body.problem}`);
    const config = subscriptionGroupFromJson(body.value);
    if (!config) return this.fail(request, ResponseCode.SYSTEM_ERROR, "subscription group body has no groupName");
    this.broker.groups.update(config);
    return this.ok(request);
  }

  private deleteSubscriptionGroup(request: RemotingCommand): RemotingCommand {
    const h = new HeaderReader(request.extFields);
    const group = h.str("groupName");
    this.broker.groups.delete(group);
    if (h.bool("removeOffset")) this.broker.offsets.removeGroup(group);
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

  private async updateBrokerConfig(request: RemotingCommand): Promise<RemotingCommand> {
    if (!request.body || request.body.length === 0) return this.ok(request);
    let updates;
    try {
      updates = parseProperties(textDecoder.decode(request.body));
    } catch (err) {
      return this.fail(request, ResponseCode.SYSTEM_ERROR, `config body does not parse: ${(err as Error).message}`);
    }
    for (const key of updates.keys()) {
      if (isBlockedConfigKey(key)) return this.fail(request, ResponseCode.NO_PERMISSION, `Can not update config in black list: ${key}`);
    }
    const current = this.broker.config as Record<string, unknown>;
    const props = new Map<string, string>();
    for (const [k, v] of brokerConfigEntries(this.broker.config)) props.set(k, String(v));
    const unknown: string[] = [];
    for (const [k, v] of updates) {
      if (Object.hasOwn(current, k)) props.set(k, v);
      else unknown.push(k);
    }
    let next: BrokerConfig;
    try {
      next = parseBrokerConfig(props).config;
    } catch (err) {
      return this.fail(request, ResponseCode.SYSTEM_ERROR, (err as Error).message);
    }
    const permissionBefore = this.broker.config.brokerPermission;
    const accepted = new Map<string, string>();
    for (const [k, v] of updates) {
      if (!Object.hasOwn(current, k)) continue;
      current[k] = (next as Record<string, unknown>)[k];
      accepted.set(k, v);
    }
    nextDataVersion(this.configVersion);
    try {
      this.broker.persistConfigUpdates(accepted);
    } catch (err) {
      return this.fail(request, ResponseCode.SYSTEM_ERROR, `config applied but not written to the config file: ${(err as Error).message}`);
    }
    if (this.broker.config.brokerPermission !== permissionBefore) {
      // A new topic-table version makes the namesrvs take the re-permissioned routes (Java does the same).
      nextDataVersion(this.broker.topics.dataVersion);
      this.broker.topics.persist();
      await this.broker.registerBrokerAll();
    }
    return RemotingCommand.responseTo(request, ResponseCode.SUCCESS, unknown.length > 0 ? `ignored unknown keys: ${unknown.join(",")}` : undefined);
  }

  private mq(topic: string, queueId: number): { brokerName: string; queueId: number; topic: string } {
    return { brokerName: this.broker.config.brokerName, queueId, topic };
  }

  private getTopicStats(request: RemotingCommand): RemotingCommand {
    const topic = new HeaderReader(request.extFields).str("topic");
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
    const group = h.str("consumerGroup");
    const onlyTopic = h.optStr("topic");
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
    const group = new HeaderReader(request.extFields).str("consumerGroup");
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
    const group = new HeaderReader(request.extFields).str("producerGroup");
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
    const topic = new HeaderReader(request.extFields).str("topic");
    const groups = new Set([...this.broker.consumers.groupsByTopic(topic), ...this.broker.offsets.groupsByTopic(topic)]);
    return this.ok(request, jsonBody({ groupList: [...groups] }));
  }

  /** INVOKE_BROKER_TO_RESET_OFFSET (protocol doc 6.13): computes offsets, pushes them to live consumers. */
  private resetOffset(request: RemotingCommand): RemotingCommand {
    const h = new HeaderReader(request.extFields);
    const topic = h.str("topic");
    const group = h.str("group");
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
    const group = h.str("consumerGroup");
    const clientId = h.str("clientId");
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
