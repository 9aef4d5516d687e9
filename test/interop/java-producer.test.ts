// The official Java client 4.9.8's producer against the compiled ./tsmq: send modes and message
// features, each checked by consuming exactly what was sent.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { describeJava, ensureJavaPeer, runJava, stopAllJava } from "./java-peer.ts";
import { startTsmqCluster, type TsmqCluster } from "./tsmq-cluster.ts";

describeJava("Java producer against tsmq", () => {
  let cluster: TsmqCluster;

  beforeAll(async () => {
    await ensureJavaPeer();
    cluster = await startTsmqCluster({ brokers: [{ name: "broker-a" }] });
  }, 600_000);

  afterAll(async () => {
    await stopAllJava();
    await cluster?.stop();
  });

  test("sync send: every message SEND_OK and consumed once", async () => {
    const run = await runJava("producer.sync", { namesrv: cluster.namesrvAddr, topic: "JavaSync", count: 200 });
    expect(await run.result()).toEqual({ sentOk: 200, distinct: 200, deliveries: 200 });
  });
});
