// Request–reply (RocketMQ 4.6+) against the compiled ./tsmq: the official Java client 4.9.8 as
// requester (sync and async `request`) and as replier (MessageUtil.createReplyMessage), and the
// tsmq client in either role. Every request must get its own reply, matched by body.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { AdminClient } from "../../src/client/admin.ts";
import { Producer } from "../../src/client/producer.ts";
import { PushConsumer } from "../../src/client/push-consumer.ts";
import { createReplyMessage } from "../../src/client/request-reply.ts";
import { waitUntil } from "../wait-until.ts";
import { describeJava, ensureJavaPeer, runJava, stopAllJava, type JavaRun } from "./java-peer.ts";
import { startTsmqCluster, type TsmqCluster } from "./tsmq-cluster.ts";

const REQUESTS = 30;
const ROUTE_WAIT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 5_000;
const quiet = { warn: () => {}, info: () => {} };
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describeJava("request–reply against tsmq", () => {
  let cluster: TsmqCluster;
  let admin: AdminClient;

  beforeAll(async () => {
    await ensureJavaPeer();
    cluster = await startTsmqCluster({ brokers: [{ name: "broker-a" }] });
    admin = new AdminClient({ namesrvAddr: cluster.namesrvAddr, logger: quiet });
  }, 600_000);

  afterAll(async () => {
    await stopAllJava();
    admin?.close();
    await cluster?.stop();
  });

  /** Creates the request topic and waits until the NameServer routes it, so consumers find it at once. */
  async function requestTopic(topic: string): Promise<string> {
    await admin.createTopic(cluster.broker("broker-a").addr, { topic, readQueueNums: 4, writeQueueNums: 4 });
    await waitUntil(`route of ${topic}`, async () => (await admin.topicRoute(topic).catch(() => undefined)) !== undefined, ROUTE_WAIT_MS);
    return topic;
  }

  async function javaReplier(topic: string, group: string): Promise<JavaRun> {
    const replier = await runJava("reply.replier", { namesrv: cluster.namesrvAddr, topic, group, instance: `replier-${group}` });
    await replier.event("subscribed");
    return replier;
  }

  /** A tsmq-client replier answering "reply-" + body, like the Java one. */
  async function tsmqReplier(topic: string, group: string) {
    const namesrvAddr = cluster.namesrvAddr;
    const producer = new Producer({ namesrvAddr, instanceName: `ts-replier-${group}`, groupName: `${group}_producer`, logger: quiet }).start();
    const consumer = new PushConsumer({ namesrvAddr, instanceName: `ts-replier-${group}`, groupName: group, consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET", logger: quiet });
    const requests = new Set<string>();
    let replied = 0;
    consumer.subscribe(topic, "*").registerMessageListener(async (msgs) => {
      for (const m of msgs) {
        requests.add(text(m.body));
        const r = await producer.send(createReplyMessage(m, `reply-${text(m.body)}`));
        if (r.sendStatus === "SEND_OK") replied++;
      }
      return "CONSUME_SUCCESS" as const;
    });
    await consumer.start();
    return {
      counts: () => ({ replied, requests: requests.size }),
      async stop() {
        await consumer.shutdown();
        await producer.shutdown();
      },
    };
  }

  for (const mode of ["sync", "async"]) {
    test(`Java ${mode} requester × Java replier`, async () => {
      const topic = await requestTopic(`ReqJava_${mode}`);
      const replier = await javaReplier(topic, `G_reply_java_${mode}`);
      const requester = await runJava("reply.requester", { namesrv: cluster.namesrvAddr, topic, mode, count: REQUESTS, group: `G_request_java_${mode}` });
      expect(await requester.result()).toEqual({ requests: REQUESTS, replies: REQUESTS, mismatched: 0, errors: 0 });
      replier.say("stop");
      expect(await replier.result()).toEqual({ replied: REQUESTS, failed: 0, requests: REQUESTS });
    }, 120_000);
  }

  test("Java requester × tsmq-client replier", async () => {
    const topic = await requestTopic("ReqJavaToTs");
    const replier = await tsmqReplier(topic, "G_reply_ts");
    try {
      const requester = await runJava("reply.requester", { namesrv: cluster.namesrvAddr, topic, mode: "sync", count: REQUESTS, group: "G_request_java_ts" });
      expect(await requester.result()).toEqual({ requests: REQUESTS, replies: REQUESTS, mismatched: 0, errors: 0 });
      expect(replier.counts()).toEqual({ replied: REQUESTS, requests: REQUESTS });
    } finally {
      await replier.stop();
    }
  }, 120_000);

  test("compressed bodies (20 KB): Java requester × Java replier and × tsmq-client replier", async () => {
    const topic = await requestTopic("ReqBig");
    const count = 5;
    const javaReplierRun = await javaReplier(topic, "G_reply_java_big");
    const javaToJava = await runJava("reply.requester", { namesrv: cluster.namesrvAddr, topic, mode: "sync", count, padBytes: 20_000, group: "G_request_java_big" });
    expect(await javaToJava.result()).toEqual({ requests: count, replies: count, mismatched: 0, errors: 0 });
    javaReplierRun.say("stop");
    expect(await javaReplierRun.result()).toEqual({ replied: count, failed: 0, requests: count });

    const bigTopic = await requestTopic("ReqBigTs");
    const replier = await tsmqReplier(bigTopic, "G_reply_ts_big");
    try {
      const javaToTs = await runJava("reply.requester", { namesrv: cluster.namesrvAddr, topic: bigTopic, mode: "sync", count, padBytes: 20_000, group: "G_request_java_big_ts" });
      expect(await javaToTs.result()).toEqual({ requests: count, replies: count, mismatched: 0, errors: 0 });
    } finally {
      await replier.stop();
    }
  }, 120_000);

  test("tsmq-client requester × Java replier", async () => {
    const topic = await requestTopic("ReqTsToJava");
    const replier = await javaReplier(topic, "G_reply_java_for_ts");
    const requester = new Producer({ namesrvAddr: cluster.namesrvAddr, instanceName: "ts-requester", groupName: "G_request_ts", logger: quiet }).start();
    try {
      // The last one 20 KB: compressed both ways, the Java replier's reply inflated by tsmq.
      const bodies = Array.from({ length: REQUESTS }, (_, i) => `req-${i}${i === REQUESTS - 1 ? "x".repeat(20_000) : ""}`);
      const half = REQUESTS / 2;
      // Half one after the other, half at once.
      const replies: string[] = [];
      for (const body of bodies.slice(0, half)) replies.push(text((await requester.request({ topic, body }, REQUEST_TIMEOUT_MS)).body));
      const concurrent = await Promise.all(bodies.slice(half).map((body) => requester.request({ topic, body }, REQUEST_TIMEOUT_MS)));
      replies.push(...concurrent.map((r) => text(r.body)));
      expect(replies).toEqual(bodies.map((b) => `reply-${b}`));
    } finally {
      await requester.shutdown();
    }
    replier.say("stop");
    expect(await replier.result()).toEqual({ replied: REQUESTS, failed: 0, requests: REQUESTS });
  }, 120_000);
});
