// The NameServer's routing tables (Java RouteInfoManager, protocol doc §6.1): clusters, brokers,
// topics' queue data and broker liveness. Pure state: no sockets, no timers. A broker's
// connection is an opaque `Channel` value so the namesrv can match closes and expiries.

import { MASTER_BROKER_ID, type BrokerData as RouteBrokerData, type QueueData, type TopicRouteData as RouteData } from "../common/route-data.ts";
import { Perm, TopicSysFlag } from "../common/topic.ts";
import type { DataVersion, RegisteredTopicConfig } from "./register-body.ts";

/** brokerId → "ip:port" kept in a Map (the namesrv writes it out as a JSON object). */
export type BrokerData = RouteBrokerData<Map<number, string>>;

interface BrokerLiveInfo<Channel> {
  lastUpdateTimestampMs: number;
  dataVersion: DataVersion;
  channel: Channel;
  haServerAddr: string;
}

export interface TopicRouteData extends RouteData<Map<number, string>> {
  /** brokerAddr → filter server addresses (legacy, usually empty). */
  filterServerTable: Map<string, string[]>;
}

export interface RegisterBrokerRequest<Channel> {
  clusterName: string;
  brokerAddr: string;
  brokerName: string;
  brokerId: number;
  haServerAddr: string;
  dataVersion: DataVersion;
  topicConfigs: RegisteredTopicConfig[];
  filterServerList: string[];
  channel: Channel;
}

export interface RegisterBrokerResult {
  /** For a slave whose master is registered: the master's address and HA address. */
  masterAddr?: string;
  haServerAddr?: string;
}

/** A broker dropped by expiry, with the channel to close. */
export interface ExpiredBroker<Channel> {
  brokerAddr: string;
  channel: Channel;
}

export class RouteInfo<Channel> {
  private readonly topicQueueTable = new Map<string, Map<string, QueueData>>();
  private readonly brokerAddrTable = new Map<string, BrokerData>();
  private readonly clusterAddrTable = new Map<string, Set<string>>();
  private readonly brokerLiveTable = new Map<string, BrokerLiveInfo<Channel>>();
  private readonly filterServerTable = new Map<string, string[]>();

  registerBroker(req: RegisterBrokerRequest<Channel>, nowMs: number): RegisterBrokerResult {
    let brokerNames = this.clusterAddrTable.get(req.clusterName);
    if (!brokerNames) this.clusterAddrTable.set(req.clusterName, (brokerNames = new Set()));
    brokerNames.add(req.brokerName);

    let registerFirst = false;
    let brokerData = this.brokerAddrTable.get(req.brokerName);
    if (!brokerData) {
      registerFirst = true;
      brokerData = { cluster: req.clusterName, brokerName: req.brokerName, brokerAddrs: new Map() };
      this.brokerAddrTable.set(req.brokerName, brokerData);
    }
    // One address has one id: a slave promoted to master drops its old id entry.
    for (const [id, addr] of brokerData.brokerAddrs) {
      if (addr === req.brokerAddr && id !== req.brokerId) brokerData.brokerAddrs.delete(id);
    }
    const oldAddr = brokerData.brokerAddrs.get(req.brokerId);
    brokerData.brokerAddrs.set(req.brokerId, req.brokerAddr);
    registerFirst ||= oldAddr === undefined;

    // Only masters define queue data; an unchanged DataVersion means the topics did not change.
    if (req.brokerId === MASTER_BROKER_ID && (registerFirst || this.isBrokerTopicConfigChanged(req.brokerAddr, req.dataVersion))) {
      for (const tc of req.topicConfigs) this.createAndUpdateQueueData(req.brokerName, tc);
    }

    this.brokerLiveTable.set(req.brokerAddr, {
      lastUpdateTimestampMs: nowMs,
      dataVersion: { ...req.dataVersion },
      channel: req.channel,
      haServerAddr: req.haServerAddr,
    });
    if (req.filterServerList.length === 0) this.filterServerTable.delete(req.brokerAddr);
    else this.filterServerTable.set(req.brokerAddr, [...req.filterServerList]);

    const result: RegisterBrokerResult = {};
    if (req.brokerId !== MASTER_BROKER_ID) {
      const masterAddr = brokerData.brokerAddrs.get(MASTER_BROKER_ID);
      const masterLive = masterAddr === undefined ? undefined : this.brokerLiveTable.get(masterAddr);
      if (masterAddr !== undefined && masterLive) {
        result.masterAddr = masterAddr;
        result.haServerAddr = masterLive.haServerAddr;
      }
    }
    return result;
  }

  isBrokerTopicConfigChanged(brokerAddr: string, dataVersion: DataVersion): boolean {
    const prev = this.brokerLiveTable.get(brokerAddr)?.dataVersion;
    return prev === undefined || prev.counter !== dataVersion.counter || prev.timestamp !== dataVersion.timestamp;
  }

  queryBrokerDataVersion(brokerAddr: string): DataVersion | undefined {
    return this.brokerLiveTable.get(brokerAddr)?.dataVersion;
  }

  /** Keep-alive without a registration (QUERY_DATA_VERSION with an unchanged version). */
  touchBroker(brokerAddr: string, nowMs: number): void {
    const live = this.brokerLiveTable.get(brokerAddr);
    if (live) live.lastUpdateTimestampMs = nowMs;
  }

  private createAndUpdateQueueData(brokerName: string, tc: RegisteredTopicConfig): void {
    const qd: QueueData = {
      brokerName,
      readQueueNums: tc.readQueueNums,
      writeQueueNums: tc.writeQueueNums,
      perm: tc.perm,
      topicSysFlag: tc.topicSysFlag,
    };
    let byBroker = this.topicQueueTable.get(tc.topicName);
    if (!byBroker) this.topicQueueTable.set(tc.topicName, (byBroker = new Map()));
    byBroker.set(brokerName, qd);
  }

  unregisterBroker(clusterName: string, brokerAddr: string, brokerName: string, brokerId: number): void {
    this.brokerLiveTable.delete(brokerAddr);
    this.filterServerTable.delete(brokerAddr);
    const brokerData = this.brokerAddrTable.get(brokerName);
    if (!brokerData) return;
    brokerData.brokerAddrs.delete(brokerId);
    if (brokerData.brokerAddrs.size > 0) return;
    this.brokerAddrTable.delete(brokerName);
    const names = this.clusterAddrTable.get(clusterName);
    if (names) {
      names.delete(brokerName);
      if (names.size === 0) this.clusterAddrTable.delete(clusterName);
    }
    this.removeTopicsOfBroker(brokerName);
  }

  /**
   * A broker's connection closed: remove the broker registered on `channel`, else the one whose
   * address is `remoteAddr` (Java onChannelDestroy). Returns the removed broker address, if any.
   */
  onChannelDestroy(channel: Channel, remoteAddr: string): string | undefined {
    let found: string | undefined;
    for (const [addr, live] of this.brokerLiveTable) {
      if (live.channel === channel) {
        found = addr;
        break;
      }
    }
    if (found === undefined) {
      if (!this.brokerLiveTable.has(remoteAddr) && !this.isKnownBrokerAddr(remoteAddr)) return undefined;
      found = remoteAddr;
    }
    this.removeBrokerAddr(found);
    return found;
  }

  private isKnownBrokerAddr(addr: string): boolean {
    for (const bd of this.brokerAddrTable.values()) for (const a of bd.brokerAddrs.values()) if (a === addr) return true;
    return false;
  }

  private removeBrokerAddr(brokerAddr: string): void {
    this.brokerLiveTable.delete(brokerAddr);
    this.filterServerTable.delete(brokerAddr);
    for (const [brokerName, bd] of this.brokerAddrTable) {
      let matched = false;
      for (const [id, addr] of bd.brokerAddrs) {
        if (addr === brokerAddr) {
          bd.brokerAddrs.delete(id);
          matched = true;
          break;
        }
      }
      if (!matched) continue;
      if (bd.brokerAddrs.size === 0) {
        this.brokerAddrTable.delete(brokerName);
        for (const [cluster, names] of this.clusterAddrTable) {
          if (names.delete(brokerName) && names.size === 0) this.clusterAddrTable.delete(cluster);
        }
        this.removeTopicsOfBroker(brokerName);
      }
      return;
    }
  }

  private removeTopicsOfBroker(brokerName: string): void {
    for (const [topic, byBroker] of this.topicQueueTable) {
      byBroker.delete(brokerName);
      if (byBroker.size === 0) this.topicQueueTable.delete(topic);
    }
  }

  /** Drops brokers whose last registration is older than `expiryMs`; returns them so their channels get closed. */
  scanNotActiveBrokers(nowMs: number, expiryMs: number): Array<ExpiredBroker<Channel>> {
    const expired: Array<ExpiredBroker<Channel>> = [];
    for (const [addr, live] of this.brokerLiveTable) {
      if (live.lastUpdateTimestampMs + expiryMs < nowMs) expired.push({ brokerAddr: addr, channel: live.channel });
    }
    for (const e of expired) this.removeBrokerAddr(e.brokerAddr);
    return expired;
  }

  /** Route of `topic`, or undefined when it has no queue data or none of its brokers is registered. */
  pickupTopicRouteData(topic: string): TopicRouteData | undefined {
    const byBroker = this.topicQueueTable.get(topic);
    if (!byBroker) return undefined;
    const queueDatas = [...byBroker.values()].map((qd) => ({ ...qd }));
    const brokerDatas: BrokerData[] = [];
    const filterServerTable = new Map<string, string[]>();
    for (const brokerName of byBroker.keys()) {
      const bd = this.brokerAddrTable.get(brokerName);
      if (!bd) continue;
      // Sorted by id like Java's MapSortField output: the master (0) first.
      const brokerAddrs = new Map([...bd.brokerAddrs].sort(([a], [b]) => a - b));
      brokerDatas.push({ cluster: bd.cluster, brokerName: bd.brokerName, brokerAddrs });
      for (const addr of bd.brokerAddrs.values()) {
        const servers = this.filterServerTable.get(addr);
        if (servers) filterServerTable.set(addr, [...servers]);
      }
    }
    if (brokerDatas.length === 0) return undefined;
    return { queueDatas, brokerDatas, filterServerTable };
  }

  /** ClusterInfo body shape (protocol doc §4.2). */
  clusterInfo(): { brokerAddrTable: Map<string, BrokerData>; clusterAddrTable: Map<string, Set<string>> } {
    return { brokerAddrTable: this.brokerAddrTable, clusterAddrTable: this.clusterAddrTable };
  }

  allTopics(): string[] {
    return [...this.topicQueueTable.keys()];
  }

  /** Topics with queue data on any broker of `cluster` (empty for an unknown cluster). */
  topicsByCluster(cluster: string): string[] {
    const names = this.clusterAddrTable.get(cluster);
    if (!names) return [];
    const topics: string[] = [];
    for (const [topic, byBroker] of this.topicQueueTable) {
      for (const name of names) {
        if (byBroker.has(name)) {
          topics.push(topic);
          break;
        }
      }
    }
    return topics;
  }

  /** Cluster and broker names, plus one broker address (GET_SYSTEM_TOPIC_LIST_FROM_NS). */
  systemTopicList(): { topicList: string[]; brokerAddr?: string } {
    const topicList: string[] = [];
    for (const [cluster, names] of this.clusterAddrTable) topicList.push(cluster, ...names);
    let brokerAddr: string | undefined;
    for (const bd of this.brokerAddrTable.values()) {
      const first = bd.brokerAddrs.values().next();
      if (!first.done) {
        brokerAddr = first.value;
        break;
      }
    }
    return { topicList, brokerAddr };
  }

  /** Topics whose (first) queue data matches a TopicSysFlag predicate (unit topic lists). */
  topicsWithSysFlag(kind: "unit" | "unitSub" | "unitSubNotUnit"): string[] {
    const topics: string[] = [];
    for (const [topic, byBroker] of this.topicQueueTable) {
      const first = byBroker.values().next();
      if (first.done) continue;
      const flag = first.value.topicSysFlag;
      const unit = (flag & TopicSysFlag.UNIT) !== 0;
      const unitSub = (flag & TopicSysFlag.UNIT_SUB) !== 0;
      if ((kind === "unit" && unit) || (kind === "unitSub" && unitSub) || (kind === "unitSubNotUnit" && unitSub && !unit)) topics.push(topic);
    }
    return topics;
  }

  deleteTopic(topic: string, clusterName?: string): void {
    if (clusterName === undefined || clusterName === "") {
      this.topicQueueTable.delete(topic);
      return;
    }
    const names = this.clusterAddrTable.get(clusterName);
    const byBroker = this.topicQueueTable.get(topic);
    if (!names || !byBroker) return;
    for (const name of names) byBroker.delete(name);
    if (byBroker.size === 0) this.topicQueueTable.delete(topic);
  }

  /** Clears (wipe) or restores (add) write permission on every topic of `brokerName`; returns the topic count. */
  setWritePermOfBroker(brokerName: string, mode: "wipe" | "add"): number {
    let count = 0;
    for (const byBroker of this.topicQueueTable.values()) {
      const qd = byBroker.get(brokerName);
      if (!qd) continue;
      qd.perm = mode === "wipe" ? qd.perm & ~Perm.WRITE : Perm.READ | Perm.WRITE;
      count++;
    }
    return count;
  }
}
