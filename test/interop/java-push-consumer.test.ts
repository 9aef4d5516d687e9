// The official Java client 4.9.8's push consumer against the compiled ./tsmq: clustering with
// rebalance, broadcasting, orderly across a rebalance, retry and DLQ, start offsets, suspend and
// listener batch sizes. Counts are exact; duplicates are only tolerated where the mode allows them.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { describeJava, ensureJavaPeer, runJava, stopAllJava } from "./java-peer.ts";
import { startTsmqCluster, type TsmqCluster } from "./tsmq-cluster.ts";

/** Retries 1 and 2 use delay levels 3 and 4; one second each keeps the retry scenario short. */
const ONE_SECOND_DELAY_LEVELS = Array(18).fill("1s").join(" ");

describeJava("Java push consumer against tsmq", () => {
  let cluster: TsmqCluster;
  const namesrv = () => cluster.namesrvAddr;

  beforeAll(async () => {
    await ensureJavaPeer();
    cluster = await startTsmqCluster({ brokers: [{ name: "broker-a", props: { messageDelayLevel: ONE_SECOND_DELAY_LEVELS } }] });
  }, 600_000);

  afterAll(async () => {
    await stopAllJava();
    await cluster?.stop();
  });

  test("clustering: consumers join and leave while messages flow, queues re-split each time, none lost", async () => {
    const run = await runJava("push.rebalance", { namesrv: namesrv(), topic: "PushRebalance", perPhase: 20 });
    const { duplicates, ...result } = await run.result();
    expect(result).toMatchObject({ phases: [[4], [2, 2], [1, 1, 2], [2, 2], [4]], consumedSome: { c1: 1, c2: 1, c3: 1 } });
    expect(result.distinct).toBe(result.sent as number);
    console.log(`push.rebalance: ${result.sent} sent, ${duplicates} redelivered across the rebalances`);
  });

  test("broadcasting: each of two consumers gets every message once", async () => {
    const run = await runJava("push.broadcast", { namesrv: namesrv(), topic: "PushBroadcast", count: 100 });
    expect(await run.result()).toEqual({ sentOk: 100, consumers: { b1: { distinct: 100, deliveries: 100 }, b2: { distinct: 100, deliveries: 100 } } });
  });

  test("MessageListenerOrderly: every sharding key's steps in order across a join and a leave", async () => {
    // A queue handed over with messages still buffered is unlocked after unlockDelayTimeMills and
    // the new owner locks it at its next rebalance (waitInterval): both default to 20 s in Java.
    const systemProperties = { "rocketmq.client.unlockDelayTimeMills": "300", "rocketmq.client.rebalance.waitInterval": "1000" };
    const run = await runJava("push.orderlyRebalance", { namesrv: namesrv(), topic: "PushOrderlyRebalance", keys: 8, steps: 30 }, { systemProperties });
    const { duplicates, ...result } = await run.result();
    expect(result).toEqual({ sent: 240, distinct: 240, keysInOrder: 8, keysComplete: 8, phases: [[4], [2, 2], [4]], consumedSome: { o1: 1, o2: 1 } });
    console.log(`push.orderlyRebalance: ${duplicates} in-flight messages replayed at hand-overs`);
  });

  test("RECONSUME_LATER: maxReconsumeTimes + 1 deliveries through %RETRY%group, then %DLQ%group holds the message", async () => {
    // The new group's %RETRY% queue is taken at the first rebalance after its route is known
    // (every 20 s by default in Java).
    const systemProperties = { "rocketmq.client.rebalance.waitInterval": "1000" };
    const args = { namesrv: namesrv(), topic: "PushRetry", group: "retry_group", brokerName: "broker-a", count: 3, maxReconsume: 2 };
    const run = await runJava("push.retryDlq", args, { systemProperties });
    const dlq = ["r-0", "r-1", "r-2"].map((body) => ({ body, retryTopic: "PushRetry", reconsumeTimes: 3 }));
    expect(await run.result()).toEqual({
      sentOk: 3,
      retryQueueMessages: 6,
      dlqMessages: 3,
      reconsumeTimes: { "r-0": [0, 1, 2], "r-1": [0, 1, 2], "r-2": [0, 1, 2] },
      dlq,
    });
  });

  test("orderly SUSPEND_CURRENT_QUEUE_A_MOMENT: the queue pauses, the same message comes again before later ones", async () => {
    const run = await runJava("push.suspend", { namesrv: namesrv(), topic: "PushSuspend", count: 10, suspendAt: 4, suspendMs: 700 });
    expect(await run.result()).toEqual({
      sequence: [0, 1, 2, 3, 4, 4, 5, 6, 7, 8, 9],
      reconsumeTimes: [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0],
      pausedAtLeastSuspendMs: true,
    });
  });

  test("consumeMessageBatchMaxSize: listener batches of at most N, full ones among them", async () => {
    const run = await runJava("push.batchMax", { namesrv: namesrv(), topic: "PushBatchMax", count: 100, batchMax: 8 });
    expect(await run.result()).toEqual({ distinct: 100, deliveries: 100, largestBatch: 8, fullBatches: true });
  });
});

describeJava("Java push consumer consumeFromWhere against tsmq", () => {
  let cluster: TsmqCluster;

  beforeAll(async () => {
    await ensureJavaPeer();
    // With the default ratio (40 % of RAM) a young queue's messages count as in memory and a new
    // group starts at 0 whatever consumeFromWhere says (Java ConsumerManageProcessor); 0 makes
    // every stored message count as on disk, so the client's consumeFromWhere decides.
    cluster = await startTsmqCluster({ brokers: [{ name: "broker-a", props: { accessMessageInMemoryMaxRatio: 0 } }] });
  }, 600_000);

  afterAll(async () => {
    await stopAllJava();
    await cluster?.stop();
  });

  test("FIRST gets the history, LAST only what comes after it started, TIMESTAMP what was stored from T on", async () => {
    const run = await runJava("push.fromWhere", { namesrv: cluster.namesrvAddr, topic: "PushFromWhere", count: 20 });
    expect(await run.result()).toEqual({
      first: { old: 20, mid: 20, new: 20, deliveries: 60 },
      last: { new: 20, deliveries: 20 },
      timestamp: { mid: 20, new: 20, deliveries: 40 },
    });
  });
});
