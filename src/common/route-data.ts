// Topic route data (Java QueueData, BrokerData, TopicRouteData; protocol doc 4.1): built by the
// NameServer, read by the clients from GET_ROUTEINFO_BY_TOPIC.

/** brokerId of a master (Java MixAll.MASTER_ID). */
export const MASTER_BROKER_ID = 0;

/** One broker's queues of a topic. */
export interface QueueData {
  brokerName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  topicSysFlag: number;
}

/**
 * A broker group: brokerId → "ip:port", 0 is the master. `Addrs` is the JSON object the clients
 * receive (ids as string keys) unless a holder says otherwise (the namesrv keeps a Map).
 */
export interface BrokerData<Addrs = Record<string, string>> {
  cluster: string;
  brokerName: string;
  brokerAddrs: Addrs;
}

export interface TopicRouteData<Addrs = Record<string, string>> {
  orderTopicConf?: string;
  queueDatas: QueueData[];
  brokerDatas: BrokerData<Addrs>[];
}
