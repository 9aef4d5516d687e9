// The official Java client 4.9.8's message queries against the compiled ./tsmq: viewMessage by
// the producer's msgId (the uniq key, found through the index) and by offsetMsgId, queryMessage by
// key within time ranges, and DefaultMQAdminExt.resetOffsetByTimestamp with a live consumer.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { describeJava, ensureJavaPeer, runJava, stopAllJava } from "./java-peer.ts";
import { startTsmqCluster, type TsmqCluster } from "./tsmq-cluster.ts";

describeJava("Java queries against tsmq", () => {
  let cluster: TsmqCluster;

  beforeAll(async () => {
    await ensureJavaPeer();
    cluster = await startTsmqCluster({ brokers: [{ name: "broker-a" }] });
  }, 600_000);

  afterAll(async () => {
    await stopAllJava();
    await cluster?.stop();
  });

  test("viewMessage(topic, msgId) and viewMessage(topic, offsetMsgId) find every message", async () => {
    const run = await runJava("query.viewMessage", { namesrv: cluster.namesrvAddr, topic: "JavaView", count: 5 });
    expect(await run.result()).toEqual({ sent: 5, byMsgId: 5, byOffsetMsgId: 5 });
  });

  test("queryMessage(topic, key, maxNum, begin, end) returns only the messages stored in the range", async () => {
    const run = await runJava("query.byKeyTimeRange", { namesrv: cluster.namesrvAddr, topic: "JavaQueryKey", key: "order-42", count: 3 });
    expect(await run.result()).toEqual({
      early: ["early-0", "early-1", "early-2"],
      late: ["late-0", "late-1", "late-2"],
      all: ["early-0", "early-1", "early-2", "late-0", "late-1", "late-2"],
      absent: "code 208", // ResponseCode.NO_MESSAGE: "query message by key finished, but no message"
    });
  });

  test("resetOffsetByTimestamp: the live consumer gets exactly the messages from the reset point again", async () => {
    const run = await runJava("query.resetOffsetByTimestamp", { namesrv: cluster.namesrvAddr, topic: "JavaReset", group: "reset_group", count: 5 });
    expect(await run.result()).toEqual({
      first: 10,
      resetQueue0Offset: 5,
      again: ["after-0", "after-1", "after-2", "after-3", "after-4"],
    });
  });
});
