// The official Apache RocketMQ Go client (rocketmq-client-go/v2, test/interop/go) against the
// compiled ./tsmq: sync send, tag filtering, orderly send and consume, a push consumer fed by tsmq's
// own producer, and a consume retry, each checked with exact counts.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { AdminClient, Producer } from "../../src/index.ts";
import { describeGo, ensureGoPeer, runGo, stopAllGo } from "./go-peer.ts";
import { startTsmqCluster, type TsmqCluster } from "./tsmq-cluster.ts";

/**
 * How long the driver waits for the Go consumer to commit the end of every queue. The client first
 * persists offsets 10 s after start, then every 5 s, and its offset passes trailing filtered
 * messages only when a long-polling pull (20 s) returns: about 21 s against tsmq and 24 s against
 * the Apache 4.9.7 broker.
 */
const OFFSET_COMMIT_WAIT_MS = 45_000;
const POLL_MS = 100;

describeGo("Go client against tsmq", () => {
  let cluster: TsmqCluster;

  beforeAll(async () => {
    await ensureGoPeer();
    cluster = await startTsmqCluster({ brokers: [{ name: "broker-a" }] });
  }, 300_000);

  afterAll(async () => {
    await stopAllGo();
    await cluster?.stop();
  });

  /** Waits until `group` has committed, on every queue of `topic`, the broker's max offset. */
  async function consumedToEnd(group: string, topic: string): Promise<void> {
    const admin = new AdminClient({ namesrvAddr: cluster.namesrvAddr });
    try {
      const deadline = Date.now() + OFFSET_COMMIT_WAIT_MS;
      for (;;) {
        const { progress } = await admin.consumeStats(group, topic);
        if (progress.length > 0 && progress.every((p) => p.consumerOffset === p.brokerOffset)) return;
        if (Date.now() > deadline) throw new Error(`group ${group} did not commit the end of ${topic}: ${JSON.stringify(progress)}`);
        await Bun.sleep(POLL_MS);
      }
    } finally {
      admin.close();
    }
  }

  test("sync send: every message SEND_OK and consumed once", async () => {
    const run = await runGo("producer.sync", { namesrv: cluster.namesrvAddr, topic: "GoSync", count: 200 });
    expect(await run.result()).toEqual({ sentOk: 200, distinct: 200, deliveries: 200 });
  });

  test("tags: a consumer subscribed to TagA gets only the TagA messages", async () => {
    const group = "go_tags_consumer";
    const run = await runGo("producer.tags", { namesrv: cluster.namesrvAddr, topic: "GoTags", group, count: 90 });
    await run.event("received");
    // The group's offsets at the end of every queue show the broker passed over the TagB and
    // TagC messages, so none of them is still on its way to the listener.
    await consumedToEnd(group, "GoTags");
    run.say("done");
    expect(await run.result()).toEqual({ sentOk: 90, deliveries: 30, distinct: 30, byTag: { TagA: 30 } });
  }, 75_000);

  test("orderly: hash queue selector keeps each key on one queue, orderly consumer sees each key in order", async () => {
    const run = await runGo("producer.orderly", { namesrv: cluster.namesrvAddr, topic: "GoOrderly", keys: 5, perKey: 40 });
    expect(await run.result()).toEqual({ sentOk: 200, keysOnOneQueue: 5, deliveries: 200, distinct: 200, outOfOrder: 0 });
  }, 60_000);

  test("push consumer: messages from tsmq's producer, before and while it runs, with tag, keys and properties", async () => {
    const topic = "GoPush";
    const producer = new Producer({ namesrvAddr: cluster.namesrvAddr, groupName: "ts_push_producer" }).start();
    const send = async (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const r = await producer.send({ topic, body: `push-${i}`, tags: `T${i % 2}`, keys: `key-${i}`, properties: { seq: String(i) } });
        expect(r.sendStatus).toBe("SEND_OK");
      }
    };
    try {
      await send(0, 50);
      const run = await runGo("consumer.push", { namesrv: cluster.namesrvAddr, topic, batch1: 50, batch2: 50 });
      await run.event("firstBatch");
      await send(50, 100);
      expect(await run.result()).toEqual({ deliveries: 100, distinct: 100, fieldsOk: 100 });
    } finally {
      await producer.shutdown();
    }
  }, 60_000);

  test("retry: ConsumeRetryLater once, redelivered with reconsumeTimes 1, then success", async () => {
    const run = await runGo("consumer.retry", { namesrv: cluster.namesrvAddr, topic: "GoRetry", count: 20, timeoutMs: 80_000 });
    expect(await run.result()).toEqual({
      sentOk: 20,
      firstDeliveries: 20,
      firstDistinct: 20,
      redeliveries: 20,
      redeliveredDistinct: 20,
      reconsumeTimes: { "1": 20 },
    });
  }, 90_000);
});
