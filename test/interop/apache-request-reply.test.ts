// The tsmq client's request–reply against the released Apache RocketMQ 4.9.7 NameServer and broker:
// tsmq requester and tsmq replier, so the reply the Java broker pushes (its ReplyMessageRequestHeader
// encoding) is what tsmq's client instance decodes. Every request gets its own reply, matched by body.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { AdminClient } from "../../src/client/admin.ts";
import { Producer } from "../../src/client/producer.ts";
import { PushConsumer } from "../../src/client/push-consumer.ts";
import { createReplyMessage } from "../../src/client/request-reply.ts";
import { waitUntil } from "../wait-until.ts";
import { startApacheCluster, type ApacheCluster } from "./apache-cluster.ts";
import { describeJava } from "./java-peer.ts";

const TOPIC = "ReqOnApache";
const REQUESTS = 20;
const REQUEST_TIMEOUT_MS = 5_000;
const ROUTE_WAIT_MS = 20_000;
const quiet = { warn: () => {}, info: () => {} };
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describeJava("tsmq client request–reply against Apache RocketMQ 4.9.7", () => {
  let apache: ApacheCluster;
  let admin: AdminClient;
  let requester: Producer;
  let replyProducer: Producer;
  let replier: PushConsumer;
  let replied = 0;

  beforeAll(async () => {
    apache = await startApacheCluster({ brokers: [{ name: "broker-a" }] });
    const namesrvAddr = apache.namesrvAddr;
    admin = new AdminClient({ namesrvAddr, logger: quiet });
    await admin.createTopic(apache.broker("broker-a").addr, { topic: TOPIC, readQueueNums: 4, writeQueueNums: 4 });
    await waitUntil(`route of ${TOPIC}`, async () => (await admin.topicRoute(TOPIC).catch(() => undefined)) !== undefined, ROUTE_WAIT_MS);

    replyProducer = new Producer({ namesrvAddr, instanceName: "apache-replier", groupName: "G_apache_reply_producer", logger: quiet }).start();
    replier = new PushConsumer({ namesrvAddr, instanceName: "apache-replier", groupName: "G_apache_replier", consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET", logger: quiet });
    replier.subscribe(TOPIC, "*").registerMessageListener(async (msgs) => {
      for (const m of msgs) {
        await replyProducer.send(createReplyMessage(m, `reply-${text(m.body)}`));
        replied++;
      }
      return "CONSUME_SUCCESS" as const;
    });
    await replier.start();
    requester = new Producer({ namesrvAddr, instanceName: "apache-requester", groupName: "G_apache_requester", logger: quiet }).start();
  }, 600_000);

  afterAll(async () => {
    await requester?.shutdown();
    await replier?.shutdown();
    await replyProducer?.shutdown();
    admin?.close();
    await apache?.stop();
  });

  test("request: sequential, concurrent and a compressed one each resolve with their own reply", async () => {
    const first = await requester.request({ topic: TOPIC, body: "first" }, REQUEST_TIMEOUT_MS);
    expect(text(first.body)).toBe("reply-first");
    expect(first.topic).toBe("DefaultCluster_REPLY_TOPIC");
    expect(first.storeHost).toBe(apache.broker("broker-a").addr);
    expect(first.properties.PUSH_REPLY_TIME).toBeDefined();

    const bodies = Array.from({ length: REQUESTS }, (_, i) => `par-${i}${i === 0 ? "x".repeat(20_000) : ""}`);
    const replies = await Promise.all(bodies.map((body) => requester.request({ topic: TOPIC, body }, REQUEST_TIMEOUT_MS)));
    expect(replies.map((r) => text(r.body))).toEqual(bodies.map((b) => `reply-${b}`));
    // The broker pushes a reply before it answers the replier's send: the count catches up after.
    await waitUntil("the replier's sends answered", () => replied >= REQUESTS + 1);
    expect(replied).toBe(REQUESTS + 1);
  }, 60_000);
});
