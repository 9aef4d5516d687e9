// The client library against the compiled `./tsmq standalone`: produce then consume with tags,
// keys, properties and bodies intact (plain, compressed, batched), broadcasting, retry then DLQ,
// and the lite pull consumer's seek/commit.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { AdminClient } from "../../src/client/admin.ts";
import type { ConsumedMessage } from "../../src/client/consumed-message.ts";
import { Producer } from "../../src/client/producer.ts";
import { PullConsumer } from "../../src/client/pull-consumer.ts";
import { PushConsumer } from "../../src/client/push-consumer.ts";
import { stopAllTsmq } from "./helpers.ts";
import { type Standalone, collectingLogger, startStandalone, text, waitUntil } from "../client/standalone-fixture.ts";

let sa: Standalone;
let producer: Producer;
let admin: AdminClient;
const logger = collectingLogger();
const cleanups: Array<() => Promise<unknown> | void> = [];

function common(instanceName: string) {
  return { namesrvAddr: sa.namesrvAddr, instanceName, logger, rebalanceIntervalMs: 1_000, persistConsumerOffsetIntervalMs: 500 };
}

async function createTopic(topic: string, queues = 4): Promise<void> {
  await admin.createTopic(sa.brokerAddr, { topic, readQueueNums: queues, writeQueueNums: queues });
  await waitUntil(`route of ${topic}`, async () => (await admin.inst.fetchTopicRoute(topic)) !== undefined);
}

function pushConsumer(group: string, instanceName: string, extra: Partial<ConstructorParameters<typeof PushConsumer>[0]> = {}): PushConsumer {
  const c = new PushConsumer({ ...common(instanceName), groupName: group, consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET", ...extra });
  cleanups.push(() => c.shutdown());
  return c;
}

beforeAll(async () => {
  sa = await startStandalone();
  admin = new AdminClient({ namesrvAddr: sa.namesrvAddr, logger });
  producer = new Producer({ ...common("e2e-producer"), groupName: "e2e_producer" }).start();
}, 120_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  await producer?.shutdown();
  admin?.close();
  await sa?.stop();
  await stopAllTsmq();
});

describe("produce and consume", () => {
  test("tags, keys, properties and bodies arrive intact; the tag filter applies", async () => {
    const topic = "E2E_Intact";
    await createTopic(topic);
    const big = "x".repeat(10_000); // over 4 KiB: sent zlib-compressed
    const sent = [
      await producer.send({ topic, body: "hello ☃", tags: "TagA", keys: ["k1", "k2"], properties: { color: "red", n: "1" } }),
      await producer.send({ topic, body: big, tags: "TagB", keys: "big" }),
      await producer.send({ topic, body: "skipped", tags: "TagC" }),
    ];
    const batch = await producer.sendBatch([1, 2, 3].map((i) => ({ topic, body: `batch-${i}`, tags: "TagA", keys: `b${i}`, properties: { i: String(i) } })));
    for (const r of sent) expect(r.sendStatus).toBe("SEND_OK");
    expect(batch.msgId.split(",")).toHaveLength(3);
    expect(batch.offsetMsgId.split(",")).toHaveLength(3);

    const got: ConsumedMessage[] = [];
    const consumer = pushConsumer("e2e_intact", "e2e-intact").subscribe(topic, "TagA || TagB");
    consumer.registerMessageListener((msgs) => {
      got.push(...msgs);
      return "CONSUME_SUCCESS";
    });
    await consumer.start();
    await waitUntil("5 TagA/TagB messages", () => got.length >= 5);
    await Bun.sleep(200); // a TagC delivery would show up here
    expect(got).toHaveLength(5);
    const byBody = new Map(got.map((m) => [text(m.body), m]));
    const first = byBody.get("hello ☃")!;
    expect(first.tags).toBe("TagA");
    expect(first.keys).toBe("k1 k2");
    expect(first.properties.color).toBe("red");
    expect(first.properties.n).toBe("1");
    expect(first.msgId).toBe(sent[0]!.msgId);
    expect(first.offsetMsgId).toBe(sent[0]!.offsetMsgId);
    expect(first.topic).toBe(topic);
    const second = byBody.get(big)!;
    expect(second.tags).toBe("TagB");
    expect(second.sysFlag & 1).toBe(1); // stored compressed, inflated by the consumer
    for (const i of [1, 2, 3]) {
      const m = byBody.get(`batch-${i}`)!;
      expect(m.keys).toBe(`b${i}`);
      expect(m.properties.i).toBe(String(i));
      expect(m.msgId).toBe(batch.msgId.split(",")[i - 1]!);
    }
  });

  test("oneway, async and ordered sends; validation errors name the problem", async () => {
    const topic = "E2E_Modes";
    await createTopic(topic, 2);
    await producer.sendOneway({ topic, body: "oneway" });
    const r = await producer.sendAsync({ topic, body: "async" });
    expect(r.sendStatus).toBe("SEND_OK");
    const q = await producer.sendOrderly({ topic, body: "ordered" }, (queues) => queues[1]!, null);
    expect(q.messageQueue.queueId).toBe(1);
    await expect(producer.send({ topic: "bad topic!", body: "x" })).rejects.toThrow(/illegal characters/);
    await expect(producer.send({ topic, body: "" })).rejects.toThrow(/body length is zero/);
    await expect(producer.send({ topic, body: new Uint8Array(4 * 1024 * 1024 + 1) })).rejects.toThrow(/body size over max/);
    await expect(producer.send({ topic: "SCHEDULE_TOPIC_XXXX", body: "x" })).rejects.toThrow(/forbidden/);
    await waitUntil("3 messages stored", async () => (await admin.topicStats(topic)).reduce((s, x) => s + x.maxOffset, 0) === 3);
  });

  test("broadcasting delivers every message to each of two consumers", async () => {
    const topic = "E2E_Broadcast";
    await createTopic(topic);
    const got = [new Set<string>(), new Set<string>()];
    for (const i of [0, 1]) {
      const c = pushConsumer("e2e_broadcast", `e2e-bc-${i}`, { messageModel: "BROADCASTING", offsetStoreDir: path.join(sa.dir, "offsets") }).subscribe(topic);
      c.registerMessageListener((msgs) => {
        for (const m of msgs) got[i]!.add(text(m.body));
        return "CONSUME_SUCCESS";
      });
      await c.start();
    }
    for (let i = 0; i < 20; i++) await producer.send({ topic, body: `bc-${i}` });
    await waitUntil("both consumers got all 20", () => got[0]!.size === 20 && got[1]!.size === 20);
    // Broadcasting offsets live in local files, one per client.
    await waitUntil("local offset files", () => fs.existsSync(path.join(sa.dir, "offsets")) && fs.readdirSync(path.join(sa.dir, "offsets")).length === 2);
  });

  test("a failing listener gets redeliveries, then the message lands in the DLQ", async () => {
    const topic = "E2E_Retry";
    const group = "e2e_retry";
    await createTopic(topic, 1);
    const attempts: number[] = [];
    const c = pushConsumer(group, "e2e-retry", { maxReconsumeTimes: 2 }).subscribe(topic);
    c.registerMessageListener((msgs, ctx) => {
      for (const m of msgs) {
        expect(m.topic).toBe(topic); // the retry topic is hidden from the listener
        attempts.push(m.reconsumeTimes);
      }
      ctx.delayLevelWhenNextConsume = 1; // retry after 1 s
      return "RECONSUME_LATER";
    });
    await c.start();
    const sent = await producer.send({ topic, body: "doomed", keys: "doomed-key" });
    await waitUntil("3 attempts", () => attempts.length >= 3, 30_000);
    expect(attempts.slice(0, 3)).toEqual([0, 1, 2]);
    const dlq = `%DLQ%${group}`;
    await waitUntil("the DLQ message", async () => {
      try {
        return (await admin.topicStats(dlq)).some((s) => s.maxOffset > 0);
      } catch {
        return false;
      }
    }, 30_000);
    const dead = await admin.queryMessageByOffset({ topic: dlq, brokerName: "broker-a", queueId: 0 }, 0);
    expect(dead && text(dead.body)).toBe("doomed");
    expect(dead!.msgId).toBe(sent.msgId);
    expect(dead!.keys).toBe("doomed-key");
  });

  test("pull consumer: poll, seek, commitSync, committed", async () => {
    const topic = "E2E_Pull";
    const group = "e2e_pull";
    await createTopic(topic, 1);
    for (let i = 0; i < 5; i++) await producer.send({ topic, body: `p-${i}` });
    const c = new PullConsumer({ ...common("e2e-pull"), groupName: group, consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET", autoCommit: false });
    cleanups.push(() => c.shutdown());
    await c.start();
    const [mq] = await c.fetchMessageQueues(topic);
    await c.assign([mq!]);
    const seen: string[] = [];
    await waitUntil("5 polled", async () => {
      for (const m of await c.poll(500)) seen.push(text(m.body));
      return seen.length >= 5;
    });
    expect(seen).toEqual(["p-0", "p-1", "p-2", "p-3", "p-4"]);
    await c.commitSync();
    expect(await c.committed(mq!)).toBe(5);
    c.seek(mq!, 3);
    const again = await c.poll(5_000);
    expect(again.map((m) => text(m.body))).toEqual(["p-3", "p-4"]);
    await c.seekToBegin(mq!);
    expect(text((await c.poll(5_000))[0]!.body)).toBe("p-0");
    await c.commitSync();
    expect(await c.committed(mq!)).toBe(5);
    expect(await c.poll(200)).toEqual([]);
  });

  test("resetOffsetByTime with a live consumer re-delivers through RESET_CONSUMER_CLIENT_OFFSET", async () => {
    const topic = "E2E_Reset";
    const group = "e2e_reset";
    await createTopic(topic, 2);
    for (let i = 0; i < 4; i++) await producer.send({ topic, body: `r-${i}` });
    const got: string[] = [];
    const c = pushConsumer(group, "e2e-reset").subscribe(topic);
    c.registerMessageListener((msgs) => {
      for (const m of msgs) got.push(text(m.body));
      return "CONSUME_SUCCESS";
    });
    await c.start();
    await waitUntil("first 4", () => got.length === 4);
    await waitUntil("offsets committed", async () => (await admin.consumeStats(group, topic)).progress.every((p) => p.consumerOffset === p.brokerOffset));
    const reset = await admin.resetOffsetByTime(group, topic, 0);
    expect(reset.map((r) => r.offset)).toEqual([0, 0]);
    await waitUntil("all 4 again", () => got.length === 8);
    expect(got.slice(4).sort()).toEqual(["r-0", "r-1", "r-2", "r-3"]);
  });

  test("a dead first NameServer fails over to the next", async () => {
    const p = new Producer({ namesrvAddr: `127.0.0.1:1;${sa.namesrvAddr}`, instanceName: "e2e-failover", groupName: "e2e_failover", logger }).start();
    cleanups.push(() => p.shutdown());
    expect((await p.send({ topic: "E2E_Intact", body: "via failover" })).sendStatus).toBe("SEND_OK");
  });

  test("delay level: the message arrives after its delay (1 s at every level here)", async () => {
    const topic = "E2E_Delay";
    await createTopic(topic, 1);
    const got: ConsumedMessage[] = [];
    const c = pushConsumer("e2e_delay", "e2e-delay").subscribe(topic);
    c.registerMessageListener((msgs) => {
      got.push(...msgs);
      return "CONSUME_SUCCESS";
    });
    await c.start();
    const sentAt = Date.now();
    await producer.send({ topic, body: "later", delayLevel: 2 });
    await waitUntil("the delayed message", () => got.length === 1);
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(900);
    expect(text(got[0]!.body)).toBe("later");
    expect(got[0]!.topic).toBe(topic);
  });

  test("batch size, concurrency limit and flow control of the push consumer", async () => {
    const topic = "E2E_Flow";
    await createTopic(topic, 1);
    for (let i = 0; i < 40; i++) await producer.send({ topic, body: `f-${i}` });
    let running = 0;
    let maxRunning = 0;
    let maxBatch = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const got = new Set<string>();
    const c = pushConsumer("e2e_flow", "e2e-flow", { consumeMessageBatchMaxSize: 3, consumeConcurrency: 2, pullBatchSize: 4, pullThresholdForQueue: 5 }).subscribe(topic);
    c.registerMessageListener(async (msgs) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      maxBatch = Math.max(maxBatch, msgs.length);
      await gate;
      for (const m of msgs) got.add(text(m.body));
      running--;
      return "CONSUME_SUCCESS" as const;
    });
    await c.start();
    await waitUntil("listeners blocked", () => running === 2);
    await Bun.sleep(300); // room for the pull loop to overfill, were flow control broken
    const cached = (c.runningInfo().mqTable as Record<string, { cachedMsgCount: number }>);
    const count = Object.entries(cached).find(([k]) => JSON.parse(k).topic === topic)![1].cachedMsgCount;
    expect(count).toBeLessThanOrEqual(5 + 4); // threshold + one pull batch
    release();
    await waitUntil("all 40", () => got.size === 40);
    expect(maxRunning).toBe(2);
    expect(maxBatch).toBe(3);
  });

  test("pull consumers in subscribe mode split the queues and resume from auto-committed offsets", async () => {
    const topic = "E2E_PullSub";
    const group = "e2e_pull_sub";
    await createTopic(topic, 4);
    for (let i = 0; i < 20; i++) await producer.send({ topic, body: `s-${i}` });
    const make = (name: string) => {
      const c = new PullConsumer({ ...common(name), groupName: group, consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET" }).subscribe(topic);
      cleanups.push(() => c.shutdown());
      return c;
    };
    const a = make("e2e-pull-a");
    const b = make("e2e-pull-b");
    await a.start();
    await b.start();
    await waitUntil("a 2/2 split", () => a.assignment().length === 2 && b.assignment().length === 2);
    const seen = new Map<string, string>();
    await waitUntil("all 20 polled", async () => {
      for (const [name, c] of [["a", a], ["b", b]] as const) for (const m of await c.poll(100)) seen.set(text(m.body), name);
      return seen.size === 20;
    });
    expect(new Set(seen.values())).toEqual(new Set(["a", "b"]));
    await a.shutdown(); // commits its positions
    await b.shutdown();
    for (let i = 20; i < 22; i++) await producer.send({ topic, body: `s-${i}` });
    const c = make("e2e-pull-c");
    await c.start();
    const later: string[] = [];
    await waitUntil("the 2 new ones", async () => {
      for (const m of await c.poll(200)) later.push(text(m.body));
      return later.length >= 2;
    });
    expect(later.sort()).toEqual(["s-20", "s-21"]);
  });
});
