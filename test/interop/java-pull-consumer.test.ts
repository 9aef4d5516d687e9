// The official Java client 4.9.8's pull consumers against the compiled ./tsmq: DefaultLitePullConsumer
// in subscribe mode (commitSync and auto-commit, resuming at the committed offset after a restart)
// and assign mode (seek, commitSync, committed), and DefaultMQPullConsumer (pull, updateConsumeOffset,
// fetchConsumeOffset from the broker).

import { afterAll, beforeAll, expect, test } from "bun:test";
import { describeJava, ensureJavaPeer, runJava, stopAllJava } from "./java-peer.ts";
import { startTsmqCluster, type TsmqCluster } from "./tsmq-cluster.ts";

describeJava("Java pull consumers against tsmq", () => {
  let cluster: TsmqCluster;

  beforeAll(async () => {
    await ensureJavaPeer();
    cluster = await startTsmqCluster({ brokers: [{ name: "broker-a" }] });
  }, 600_000);

  afterAll(async () => {
    await stopAllJava();
    await cluster?.stop();
  });

  for (const autoCommit of [false, true]) {
    test(`lite pull, subscribe, ${autoCommit ? "auto-commit" : "commitSync"}: a restarted consumer resumes at the committed offset`, async () => {
      const run = await runJava("pull.liteSubscribeRestart", {
        namesrv: cluster.namesrvAddr,
        topic: `JavaLite${autoCommit ? "Auto" : "Sync"}`,
        group: `lite_${autoCommit ? "auto" : "sync"}`,
        autoCommit,
        perQueue: 3,
      });
      // 4 queues x 3 messages per batch.
      expect(await run.result()).toEqual({ first: 12, committed: 12, second: 12, firstAgain: 0 });
    });
  }

  test("lite pull, assign: seek to offset 2 polls exactly the rest; commitSync; committed = the queue ends", async () => {
    const run = await runJava("pull.liteAssignSeek", { namesrv: cluster.namesrvAddr, topic: "JavaLiteAssign", group: "lite_assign", perQueue: 5, seekTo: 2 });
    expect(await run.result()).toEqual({ received: 12, distinct: 12, belowSeek: 0, committed: { 0: 5, 1: 5, 2: 5, 3: 5 } });
  });

  test("DefaultMQPullConsumer: pull, updateConsumeOffset, fetchConsumeOffset from the broker", async () => {
    const run = await runJava("pull.defaultPull", { namesrv: cluster.namesrvAddr, topic: "JavaDefaultPull", group: "default_pull", perQueue: 4 });
    expect(await run.result()).toEqual({
      queues: 4,
      initialOffsetSum: 0, // a new group on young queues (first message still in memory): 0, as Apache answers
      pulled: 16,
      tagA: 8, // bodies 0 and 2 of each queue
      tagAOnly: true,
      stored: { 0: 4, 1: 4, 2: 4, 3: 4 },
    });
  });
});
