// Admin client: what `tsmq admin` (and mqadmin) asks NameServers and brokers (protocol doc 3.3.4, 7.3).

import { Prop, PullSysFlag } from "../common/message.ts";
import { decodeOffsetMsgId } from "../common/message-codec.ts";
import { PERM_READ_WRITE, SystemTopic, retryTopic } from "../common/topic.ts";
import { RequestCode, ResponseCode } from "../remoting/codes.ts";
import { RemotingCommand } from "../remoting/command.ts";
import { ADMIN_API_TIMEOUT_MS, maxOffset, searchOffset, updateConsumerOffset } from "./broker-api.ts";
import type { ClientConfig } from "./client-config.ts";
import { parseProperties } from "../config/properties.ts";
import { type ConsumedMessage, decodeMessages } from "./consumed-message.ts";
import { MQBrokerError, MQClientError, errorText } from "./errors.ts";
import { ClientInstance } from "./instance.ts";
import { decodeJsonBody, encodeJsonBody, parseMqKey } from "./json-body.ts";
import { type MessageQueue, compareMq } from "./message-queue.ts";
import { MASTER_ID, type TopicRouteData } from "./route.ts";

/** mqadmin's timeout for broker calls (DefaultMQAdminExt, 5 s). */
const ADMIN_TIMEOUT_MS = 5_000;
/** Messages asked for per broker by queryMsgByKey (mqadmin 64). */
const QUERY_MAX_NUM = 64;
/** Group mqadmin uses for its pulls (pre-created in every broker). */
export const TOOLS_CONSUMER_GROUP = "TOOLS_CONSUMER";

export interface ClusterInfo {
  brokerAddrTable: Record<string, { cluster: string; brokerName: string; brokerAddrs: Record<string, string> }>;
  clusterAddrTable: Record<string, string[]>;
}

export interface TopicConfigInput {
  topic: string;
  readQueueNums?: number;
  writeQueueNums?: number;
  perm?: number;
  order?: boolean;
  topicFilterType?: "SINGLE_TAG" | "MULTI_TAG";
  topicSysFlag?: number;
}

export interface QueueStats {
  mq: MessageQueue;
  minOffset: number;
  maxOffset: number;
  lastUpdateTimestamp: number;
}

export interface ConsumeProgress {
  mq: MessageQueue;
  brokerOffset: number;
  consumerOffset: number;
  lastTimestamp: number;
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null) throw new MQClientError(`${what}: expected a JSON object`);
  return value as Record<string, unknown>;
}

/** The master (else any) address of each broker in a route. */
function routeMastersOf(route: TopicRouteData): Array<{ brokerName: string; addr: string }> {
  const out: Array<{ brokerName: string; addr: string }> = [];
  for (const b of route.brokerDatas) {
    const addr = b.brokerAddrs[MASTER_ID] ?? Object.values(b.brokerAddrs)[0];
    if (addr) out.push({ brokerName: b.brokerName, addr });
  }
  return out;
}

export class AdminClient {
  readonly inst: ClientInstance;

  constructor(config: ClientConfig = {}) {
    this.inst = ClientInstance.detached({ instanceName: `admin-${process.pid}-${Date.now()}`, ...config });
  }

  close(): void {
    this.inst.close();
  }

  private async namesrv(code: number, header: Record<string, string> = {}, okCodes: number[] = [ResponseCode.SUCCESS]): Promise<RemotingCommand> {
    const response = await this.inst.invokeNamesrv(RemotingCommand.request(code, header), ADMIN_TIMEOUT_MS);
    if (!okCodes.includes(response.code)) throw new MQBrokerError(response.code, response.remark, "namesrv");
    return response;
  }

  private broker(addr: string, code: number, header: Record<string, string> = {}, body?: Uint8Array): Promise<RemotingCommand> {
    return this.inst.invokeBroker(addr, RemotingCommand.request(code, header, body), ADMIN_TIMEOUT_MS);
  }

  async clusterInfo(): Promise<ClusterInfo> {
    const body = record(decodeJsonBody((await this.namesrv(RequestCode.GET_BROKER_CLUSTER_INFO)).body, "cluster info"), "cluster info");
    return { brokerAddrTable: (body.brokerAddrTable ?? {}) as ClusterInfo["brokerAddrTable"], clusterAddrTable: (body.clusterAddrTable ?? {}) as ClusterInfo["clusterAddrTable"] };
  }

  /** Master addresses of a cluster (or of every cluster when `cluster` is undefined). */
  async masterAddrs(cluster?: string): Promise<Array<{ brokerName: string; addr: string }>> {
    const info = await this.clusterInfo();
    const names = cluster === undefined ? Object.keys(info.brokerAddrTable) : info.clusterAddrTable[cluster];
    if (!names) throw new MQClientError(`cluster ${cluster} not found`);
    const out: Array<{ brokerName: string; addr: string }> = [];
    for (const name of [...names].sort()) {
      const addr = info.brokerAddrTable[name]?.brokerAddrs[MASTER_ID];
      if (addr) out.push({ brokerName: name, addr });
    }
    return out;
  }

  /** Address of a broker given as "ip:port" or broker name. */
  async resolveBroker(nameOrAddr: string): Promise<string> {
    if (/:\d+$/.test(nameOrAddr)) return nameOrAddr;
    const info = await this.clusterInfo();
    const addr = info.brokerAddrTable[nameOrAddr]?.brokerAddrs[MASTER_ID];
    if (!addr) throw new MQClientError(`broker ${nameOrAddr} not found in the cluster info`);
    return addr;
  }

  async topicList(): Promise<string[]> {
    const body = record(decodeJsonBody((await this.namesrv(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER)).body, "topic list"), "topic list");
    return Array.isArray(body.topicList) ? body.topicList.map(String).sort() : [];
  }

  async topicRoute(topic: string): Promise<TopicRouteData> {
    const route = await this.inst.updateTopicRoute(topic);
    if (!route) throw new MQClientError(`No topic route info in name server for the topic: ${topic}`, { code: ResponseCode.TOPIC_NOT_EXIST });
    return route;
  }

  private async routeMasters(topic: string): Promise<Array<{ brokerName: string; addr: string }>> {
    return routeMastersOf(await this.topicRoute(topic));
  }

  async createTopic(addr: string, t: TopicConfigInput): Promise<void> {
    await this.broker(addr, RequestCode.UPDATE_AND_CREATE_TOPIC, {
      topic: t.topic,
      defaultTopic: SystemTopic.AUTO_CREATE,
      readQueueNums: String(t.readQueueNums ?? 8),
      writeQueueNums: String(t.writeQueueNums ?? 8),
      perm: String(t.perm ?? PERM_READ_WRITE),
      topicFilterType: t.topicFilterType ?? "SINGLE_TAG",
      topicSysFlag: String(t.topicSysFlag ?? 0),
      order: String(t.order ?? false),
    });
  }

  /** DELETE_TOPIC_IN_BROKER on every master of the cluster, then DELETE_TOPIC_IN_NAMESRV on every NameServer. */
  async deleteTopic(topic: string, cluster?: string): Promise<void> {
    for (const { addr } of await this.masterAddrs(cluster)) await this.broker(addr, RequestCode.DELETE_TOPIC_IN_BROKER, { topic });
    for (const addr of this.inst.config.namesrvAddrs) {
      const header: Record<string, string> = { topic };
      if (cluster) header.clusterName = cluster;
      await this.inst.invokeBroker(addr, RemotingCommand.request(RequestCode.DELETE_TOPIC_IN_NAMESRV, header), ADMIN_TIMEOUT_MS);
    }
  }

  async topicStats(topic: string): Promise<QueueStats[]> {
    const out: QueueStats[] = [];
    for (const { addr } of await this.routeMasters(topic)) {
      const body = record(decodeJsonBody((await this.broker(addr, RequestCode.GET_TOPIC_STATS_INFO, { topic })).body, "topic stats"), "topic stats");
      for (const [key, v] of Object.entries(record(body.offsetTable ?? {}, "offsetTable"))) {
        const mq = parseMqKey(key);
        const s = record(v, "topic offset");
        if (mq) out.push({ mq, minOffset: Number(s.minOffset), maxOffset: Number(s.maxOffset), lastUpdateTimestamp: Number(s.lastUpdateTimestamp ?? 0) });
      }
    }
    return out.sort((a, b) => compareMq(a.mq, b.mq));
  }

  async createSubscriptionGroup(addr: string, group: string, fields: Record<string, unknown> = {}): Promise<void> {
    const config = {
      brokerId: 0,
      consumeBroadcastEnable: true,
      consumeEnable: true,
      consumeFromMinEnable: true,
      groupName: group,
      notifyConsumerIdsChangedEnable: true,
      retryMaxTimes: 16,
      retryQueueNums: 1,
      whichBrokerWhenConsumeSlowly: 1,
      ...fields,
    };
    await this.broker(addr, RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, encodeJsonBody(config));
  }

  async deleteSubscriptionGroup(addr: string, group: string, removeOffset = false): Promise<void> {
    await this.broker(addr, RequestCode.DELETE_SUBSCRIPTIONGROUP, { groupName: group, removeOffset: String(removeOffset) });
  }

  /** Per-queue progress of a group (GET_CONSUME_STATS to each broker of `%RETRY%group`). */
  async consumeStats(group: string, topic?: string): Promise<{ consumeTps: number; progress: ConsumeProgress[] }> {
    const progress: ConsumeProgress[] = [];
    let consumeTps = 0;
    for (const { addr } of await this.routeMasters(retryTopic(group))) {
      const header: Record<string, string> = { consumerGroup: group };
      if (topic) header.topic = topic;
      const body = record(decodeJsonBody((await this.broker(addr, RequestCode.GET_CONSUME_STATS, header)).body, "consume stats"), "consume stats");
      consumeTps += Number(body.consumeTps ?? 0);
      for (const [key, v] of Object.entries(record(body.offsetTable ?? {}, "offsetTable"))) {
        const mq = parseMqKey(key);
        const w = record(v, "offset wrapper");
        if (mq) progress.push({ mq, brokerOffset: Number(w.brokerOffset), consumerOffset: Number(w.consumerOffset), lastTimestamp: Number(w.lastTimestamp ?? 0) });
      }
    }
    return { consumeTps, progress: progress.sort((a, b) => compareMq(a.mq, b.mq)) };
  }

  async consumerConnection(group: string): Promise<Record<string, unknown>> {
    const masters = await this.routeMasters(retryTopic(group));
    const target = masters[Math.floor(Math.random() * masters.length)];
    if (!target) throw new MQClientError(`no broker serves ${retryTopic(group)}`);
    return record(decodeJsonBody((await this.broker(target.addr, RequestCode.GET_CONSUMER_CONNECTION_LIST, { consumerGroup: group })).body, "consumer connection"), "consumer connection");
  }

  async producerConnection(group: string, topic: string): Promise<Record<string, unknown>> {
    const masters = await this.routeMasters(topic);
    const target = masters[Math.floor(Math.random() * masters.length)];
    if (!target) throw new MQClientError(`no broker serves ${topic}`);
    return record(decodeJsonBody((await this.broker(target.addr, RequestCode.GET_PRODUCER_CONNECTION_LIST, { producerGroup: group })).body, "producer connection"), "producer connection");
  }

  async brokerRuntimeInfo(addr: string): Promise<Record<string, string>> {
    const body = record(decodeJsonBody((await this.broker(addr, RequestCode.GET_BROKER_RUNTIME_INFO)).body, "runtime info"), "runtime info");
    const table = record(body.table ?? {}, "runtime info table");
    return Object.fromEntries(Object.entries(table).map(([k, v]) => [k, String(v)]));
  }

  async brokerConfig(addr: string): Promise<Record<string, string>> {
    const response = await this.broker(addr, RequestCode.GET_BROKER_CONFIG);
    return Object.fromEntries(parseProperties(new TextDecoder().decode(response.body ?? new Uint8Array(0))));
  }

  /** VIEW_MESSAGE_BY_ID to the broker address inside the offset msgId. */
  async viewMessage(offsetMsgId: string): Promise<ConsumedMessage> {
    let decoded: { address: string; offset: number };
    try {
      decoded = decodeOffsetMsgId(offsetMsgId);
    } catch (err) {
      throw new MQClientError(`${offsetMsgId} is not an offset message id: ${errorText(err)}`);
    }
    const response = await this.inst.invokeBroker(
      decoded.address,
      RemotingCommand.request(RequestCode.VIEW_MESSAGE_BY_ID, { offset: String(decoded.offset) }),
      ADMIN_API_TIMEOUT_MS,
    );
    const msgs = decodeMessages(response.body, "");
    if (msgs.length === 0) throw new MQClientError(`broker ${decoded.address} returned no message for ${offsetMsgId}`);
    return msgs[0]!;
  }

  /** QUERY_MESSAGE on every broker of the topic; keeps exact key (or UNIQ_KEY) matches. */
  async queryMessageByKey(topic: string, key: string, uniqueKey = false): Promise<ConsumedMessage[]> {
    const out: ConsumedMessage[] = [];
    for (const { brokerName, addr } of await this.routeMasters(topic)) {
      const header = {
        topic,
        key,
        maxNum: String(QUERY_MAX_NUM),
        beginTimestamp: "0",
        endTimestamp: String(Number.MAX_SAFE_INTEGER),
        _UNIQUE_KEY_QUERY: String(uniqueKey),
      };
      const response = await this.inst.remoting.invoke(addr, RemotingCommand.request(RequestCode.QUERY_MESSAGE, header), ADMIN_API_TIMEOUT_MS);
      if (response.code === ResponseCode.QUERY_NOT_FOUND) continue;
      if (response.code !== ResponseCode.SUCCESS) throw new MQBrokerError(response.code, response.remark, addr);
      for (const m of decodeMessages(response.body, brokerName)) {
        if (m.topic !== topic) continue;
        const match = uniqueKey ? m.properties[Prop.UNIQ_KEY] === key : (m.keys ?? "").split(" ").includes(key);
        if (match) out.push(m);
      }
    }
    return out;
  }

  /** The message at a queue offset, pulled as TOOLS_CONSUMER (sysFlag SUBSCRIPTION, 1 message). */
  async queryMessageByOffset(mq: MessageQueue, offset: number): Promise<ConsumedMessage | undefined> {
    const addr = await this.inst.brokerAddrFor(mq.brokerName, mq.topic);
    const header = {
      consumerGroup: TOOLS_CONSUMER_GROUP,
      topic: mq.topic,
      queueId: String(mq.queueId),
      queueOffset: String(offset),
      maxMsgNums: "1",
      sysFlag: String(PullSysFlag.SUBSCRIPTION),
      commitOffset: "0",
      suspendTimeoutMillis: "0",
      subscription: "*",
      subVersion: "0",
      expressionType: "TAG",
    };
    const response = await this.inst.remoting.invoke(addr, RemotingCommand.request(RequestCode.PULL_MESSAGE, header), ADMIN_API_TIMEOUT_MS);
    if (response.code === ResponseCode.SUCCESS) return decodeMessages(response.body, mq.brokerName)[0];
    const nothingThere: number[] = [ResponseCode.PULL_NOT_FOUND, ResponseCode.PULL_OFFSET_MOVED, ResponseCode.PULL_RETRY_IMMEDIATELY];
    if (nothingThere.includes(response.code)) return undefined;
    throw new MQBrokerError(response.code, response.remark, addr);
  }

  /**
   * Resets a group's offsets on a topic to the first message stored at or after `timestampMs`
   * (-1 = the end). Live consumers are told by the broker; without any, offsets are written directly.
   */
  async resetOffsetByTime(group: string, topic: string, timestampMs: number, force = true): Promise<Array<{ mq: MessageQueue; offset: number }>> {
    const out: Array<{ mq: MessageQueue; offset: number }> = [];
    const route = await this.topicRoute(topic);
    for (const { brokerName, addr } of routeMastersOf(route)) {
      const response = await this.inst.remoting.invoke(
        addr,
        RemotingCommand.request(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, { topic, group, timestamp: String(timestampMs), isForce: String(force) }),
        ADMIN_TIMEOUT_MS,
      );
      if (response.code === ResponseCode.SUCCESS) {
        if (!response.body || response.body.length === 0) continue;
        const body = record(decodeJsonBody(response.body, "reset offset"), "reset offset");
        for (const [key, v] of Object.entries(record(body.offsetTable ?? {}, "offsetTable"))) {
          const mq = parseMqKey(key);
          if (mq) out.push({ mq, offset: Number(v) });
        }
        continue;
      }
      if (response.code !== ResponseCode.CONSUMER_NOT_ONLINE) throw new MQBrokerError(response.code, response.remark, addr);
      // No live consumer: compute and write the offsets ourselves (mqadmin's fallback).
      const qd = route.queueDatas.find((q) => q.brokerName === brokerName);
      for (let queueId = 0; queueId < (qd?.writeQueueNums ?? 0); queueId++) {
        const mq = { topic, brokerName, queueId };
        const offset = timestampMs < 0 ? await maxOffset(this.inst, mq) : await searchOffset(this.inst, mq, timestampMs);
        await updateConsumerOffset(this.inst, group, mq, offset, true);
        out.push({ mq, offset });
      }
    }
    return out.sort((a, b) => compareMq(a.mq, b.mq));
  }
}
