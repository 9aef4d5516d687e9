// Request–reply (RocketMQ 4.6+) against the compiled ./tsmq: the official Java client 4.9.8 as
// requester (sync and async `request`) and as replier (MessageUtil.createReplyMessage), and the
// tsmq client in either role. Every request must get its own reply, matched by body.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { AdminClient } from "../../src/client/admin.ts";
import { waitUntil } from "../wait-until.ts";
import { describeJava, ensureJavaPeer, runJava, stopAllJava, type JavaRun } from "./java-peer.ts";
import { startTsmqCluster, type TsmqCluster } from "./tsmq-cluster.ts";

const REQUESTS = 30;
const ROUTE_WAIT_MS = 10_000;

describeJava("request–reply against tsmq", () => {
  let cluster: TsmqCluster;
  let admin: AdminClient;

  beforeAll(async () => {
    await ensureJavaPeer();
    cluster = await startTsmqCluster({ brokers: [{ name: "broker-a" }] });
    admin = new AdminClient({ namesrvAddr: cluster.namesrvAddr, logger: { warn: () => {}, info: () => {} } });
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
});
