// The official Java client 4.9.8's producer against the compiled ./tsmq: send modes and message
// features, each checked by consuming exactly what was sent.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { describeJava, ensureJavaPeer, runJava, stopAllJava } from "./java-peer.ts";
import { startTsmqCluster, type TsmqCluster } from "./tsmq-cluster.ts";

describeJava("Java producer against tsmq", () => {
  let cluster: TsmqCluster;
  const namesrv = () => cluster.namesrvAddr;

  beforeAll(async () => {
    await ensureJavaPeer();
    cluster = await startTsmqCluster({ brokers: [{ name: "broker-a" }] });
  }, 600_000);

  afterAll(async () => {
    await stopAllJava();
    await cluster?.stop();
  });

  test("sync send: every message SEND_OK and consumed once", async () => {
    const run = await runJava("producer.sync", { namesrv: namesrv(), topic: "JavaSync", count: 200 });
    expect(await run.result()).toEqual({ sentOk: 200, distinct: 200, deliveries: 200 });
  });

  test("async send: every callback onSuccess, each message consumed once", async () => {
    const run = await runJava("producer.async", { namesrv: namesrv(), topic: "JavaAsync", count: 300 });
    expect(await run.result()).toEqual({ sentOk: 300, distinct: 300, deliveries: 300, failures: 0 });
  });

  test("oneway send: each message consumed once", async () => {
    const run = await runJava("producer.oneway", { namesrv: namesrv(), topic: "JavaOneway", count: 200 });
    expect(await run.result()).toEqual({ sentOk: 200, distinct: 200, deliveries: 200 });
  });

  test("batch send(Collection): one SEND_OK and one id per member, each member consumed once, a batch in one queue", async () => {
    const run = await runJava("producer.batch", { namesrv: namesrv(), topic: "JavaBatch", batches: 10, batchSize: 20 });
    expect(await run.result()).toEqual({ sentOk: 10, distinct: 200, deliveries: 200, msgIds: 200, batchesInOneQueue: 10 });
  });

  test("MessageQueueSelector: each order in its selected queue, consumed orderly in sending order", async () => {
    const run = await runJava("producer.orderly", { namesrv: namesrv(), topic: "JavaOrderly", orders: 8, steps: 10 });
    expect(await run.result()).toEqual({ sentOk: 80, wrongQueue: 0, deliveries: 80, ordersInOrder: 8, ordersInSelectedQueue: 8 });
  });

  test("tags, keys and user properties round-trip", async () => {
    const run = await runJava("producer.properties", { namesrv: namesrv(), topic: "JavaProps", count: 20 });
    expect(await run.result()).toEqual({ sentOk: 20, distinct: 20, deliveries: 20, matching: 20, mismatches: [] });
  });

  test("compressed bodies (> 4 KiB): stored compressed, consumed as the exact original bytes", async () => {
    const run = await runJava("producer.compressed", { namesrv: namesrv(), topic: "JavaCompressed" });
    expect(await run.result()).toEqual({ sentOk: 4, deliveries: 4, exactBodies: 4, compressedFlag: 4, storedSmaller: 4 });
  });
});

describeJava("Java producer against a two-broker tsmq cluster", () => {
  let cluster: TsmqCluster;

  beforeAll(async () => {
    await ensureJavaPeer();
    cluster = await startTsmqCluster({ brokers: [{ name: "broker-a" }, { name: "broker-b" }] });
  }, 600_000);

  afterAll(async () => {
    await stopAllJava();
    await cluster?.stop();
  });

  test("a broker stopped mid-run: sendMsgTimeout and retries move every send to the other broker, none lost", async () => {
    const count = 100;
    const run = await runJava("producer.failover", { namesrv: cluster.namesrvAddr, topic: "JavaFailover", count, stopBroker: "broker-a", sendMsgTimeout: 3000, retries: 2 });
    await run.event("half");
    await cluster.broker("broker-a").stop();
    run.say("stopped");
    const sent = await run.event("sent");
    await cluster.broker("broker-a").start();
    run.say("restarted");
    const result = await run.result();
    expect(sent.data.ok).toBe(count);
    const { before, failedAttempts, ...counts } = result as { before: Record<string, number>; failedAttempts: Record<string, number> };
    expect(counts).toEqual({ sentOk: count, distinct: count, deliveries: count, after: { "broker-b": count / 2 } });
    // Before the stop both brokers took sends (round robin over their 8 queues).
    expect(Object.keys(before).sort()).toEqual(["broker-a", "broker-b"]);
    expect(before["broker-a"]! + before["broker-b"]!).toBe(count / 2);
    // After it the producer's cached route still named broker-a: those attempts failed and were retried on broker-b.
    expect(Object.keys(failedAttempts)).toEqual(["broker-a"]);
    expect(failedAttempts["broker-a"]).toBeGreaterThan(0);
  });
});
