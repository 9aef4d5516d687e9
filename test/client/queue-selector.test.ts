import { describe, expect, test } from "bun:test";
import type { MessageQueue } from "../../src/client/message-queue.ts";
import { LatencyFaultTolerance, TopicPublishInfo, penaltyForLatencyMs } from "../../src/client/queue-selector.ts";
import { type TopicRouteData, publishQueues } from "../../src/client/route.ts";

const queues = (brokers: string[], n: number): MessageQueue[] => brokers.flatMap((b) => Array.from({ length: n }, (_, i) => ({ topic: "T", brokerName: b, queueId: i })));
const name = (mq: MessageQueue) => `${mq.brokerName}:${mq.queueId}`;

describe("queue selection", () => {
  test("round robin over every queue", () => {
    const info = new TopicPublishInfo(queues(["a", "b"], 2), false, 0);
    expect([1, 2, 3, 4, 5].map(() => name(info.select(undefined)))).toEqual(["a:1", "b:0", "b:1", "a:0", "a:1"]);
  });
  test("a retry avoids the broker that just failed", () => {
    const info = new TopicPublishInfo(queues(["a", "b"], 2), false, 0);
    for (let i = 0; i < 10; i++) expect(info.select(undefined, "a").brokerName).toBe("b");
  });
  test("a penalised broker is skipped until its penalty ends, and used when it is the only one", () => {
    const fault = new LatencyFaultTolerance();
    fault.update("a", 0, true);
    const info = new TopicPublishInfo(queues(["a", "b"], 2), false, 0);
    for (let i = 0; i < 10; i++) expect(info.select(fault).brokerName).toBe("b");
    expect(fault.isAvailable("a", Date.now() + 600_001)).toBe(true);
    const single = new TopicPublishInfo(queues(["a"], 2), false, 0);
    expect(single.select(fault).brokerName).toBe("a");
  });
  test("latency penalties follow the Java table", () => {
    expect([0, 99, 550, 999, 1000, 3000, 15_000, 30_000].map(penaltyForLatencyMs)).toEqual([0, 0, 30_000, 30_000, 60_000, 180_000, 600_000, 600_000]);
  });
  test("publish queues: writable brokers with a master, sorted by name; orderTopicConf wins", () => {
    const route: TopicRouteData = {
      queueDatas: [
        { brokerName: "b", readQueueNums: 2, writeQueueNums: 2, perm: 6, topicSysFlag: 0 },
        { brokerName: "a", readQueueNums: 1, writeQueueNums: 1, perm: 6, topicSysFlag: 0 },
        { brokerName: "c", readQueueNums: 1, writeQueueNums: 1, perm: 4, topicSysFlag: 0 },
        { brokerName: "d", readQueueNums: 1, writeQueueNums: 1, perm: 6, topicSysFlag: 0 },
      ].sort((x, y) => x.brokerName.localeCompare(y.brokerName)),
      brokerDatas: [
        { cluster: "C", brokerName: "a", brokerAddrs: { "0": "h:1" } },
        { cluster: "C", brokerName: "b", brokerAddrs: { "0": "h:2" } },
        { cluster: "C", brokerName: "c", brokerAddrs: { "0": "h:3" } },
        { cluster: "C", brokerName: "d", brokerAddrs: { "1": "h:4" } },
      ],
    };
    expect(publishQueues("T", route).queues.map(name)).toEqual(["a:0", "b:0", "b:1"]);
    expect(publishQueues("T", { ...route, orderTopicConf: "x:2" }).queues.map(name)).toEqual(["x:0", "x:1"]);
  });
});
