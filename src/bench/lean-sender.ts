// The bench's lean path (`tsmq bench produce --lean`): the same SEND_MESSAGE_V2 request the Producer
// sends, built from a per-topic template and sent straight over a RemotingClient: no per-message
// validation, retry loop, latency-fault bookkeeping or publish-info lookups. Comparing it with the
// Producer measures what the client library costs per message.

import { Prop, propertiesToString } from "../common/message.ts";
import { SystemTopic } from "../common/topic.ts";
import { AdminClient } from "../client/admin.ts";
import { MQBrokerError, MQClientError } from "../client/errors.ts";
import { DEFAULT_TOPIC_QUEUE_NUMS, SEND_MSG_TIMEOUT_MS } from "../client/producer.ts";
import { MASTER_ID, publishQueues } from "../client/route.ts";
import { uniqueIds } from "../client/unique-id.ts";
import { RemotingClient } from "../remoting/client.ts";
import { RequestCode, ResponseCode } from "../remoting/codes.ts";
import { RemotingCommand, SerializeType } from "../remoting/command.ts";

/** Queues per topic the Producer asks for when the broker auto-creates one (header field d). */
const DEFAULT_TOPIC_QUEUE_NUMS_TEXT = String(DEFAULT_TOPIC_QUEUE_NUMS);

export interface LeanMessage {
  body: Uint8Array;
  keys?: string;
  tags?: string;
  delayLevel?: number;
}

interface Target {
  brokerName: string;
  addr: string;
  queueId: string;
}

export class LeanSender {
  private readonly remoting: RemotingClient;
  private next = 0;

  private constructor(
    private readonly group: string,
    private readonly topic: string,
    private readonly targets: Target[],
    serializeType: "JSON" | "ROCKETMQ",
  ) {
    this.remoting = new RemotingClient({ serializeType: serializeType === "ROCKETMQ" ? SerializeType.ROCKETMQ : SerializeType.JSON });
  }

  /** Resolves the topic's writable master queues once (the topic must exist: send through a Producer first). */
  static async open(namesrvAddr: string[], group: string, topic: string, serializeType: "JSON" | "ROCKETMQ"): Promise<LeanSender> {
    const admin = new AdminClient({ namesrvAddr, instanceName: `bench-lean-admin-${process.pid}` });
    try {
      const route = await admin.topicRoute(topic);
      // The Producer's publish queues: writable queues of brokers with a master.
      const targets: Target[] = [];
      for (const q of publishQueues(topic, route).queues) {
        const addr = route.brokerDatas.find((b) => b.brokerName === q.brokerName)?.brokerAddrs[MASTER_ID];
        if (addr !== undefined) targets.push({ brokerName: q.brokerName, addr, queueId: String(q.queueId) });
      }
      if (targets.length === 0) throw new MQClientError(`topic ${topic} has no writable master queue`);
      return new LeanSender(group, topic, targets, serializeType);
    } finally {
      admin.close();
    }
  }

  /** Sends one message to the next queue (round robin); throws MQBrokerError on a non-success answer. */
  async send(m: LeanMessage): Promise<void> {
    const target = this.targets[this.next]!;
    this.next = (this.next + 1) % this.targets.length;
    const properties: Record<string, string> = {};
    if (m.keys !== undefined) properties[Prop.KEYS] = m.keys;
    if (m.tags !== undefined) properties[Prop.TAGS] = m.tags;
    if (m.delayLevel !== undefined && m.delayLevel > 0) properties[Prop.DELAY] = String(m.delayLevel);
    properties[Prop.UNIQ_KEY] = uniqueIds.next();
    properties[Prop.WAIT] = "true";
    const header = {
      a: this.group,
      b: this.topic,
      c: SystemTopic.AUTO_CREATE,
      d: DEFAULT_TOPIC_QUEUE_NUMS_TEXT,
      e: target.queueId,
      f: "0",
      g: String(Date.now()),
      h: "0",
      i: propertiesToString(properties),
      j: "0",
      k: "false",
      m: "false",
      n: target.brokerName,
    };
    const response = await this.remoting.invoke(target.addr, RemotingCommand.request(RequestCode.SEND_MESSAGE_V2, header, m.body), SEND_MSG_TIMEOUT_MS);
    if (response.code !== ResponseCode.SUCCESS) throw new MQBrokerError(response.code, response.remark, target.addr);
  }

  close(): void {
    this.remoting.close();
  }
}
