// The official Java client 4.9.8's delayed and transactional messages against the compiled ./tsmq.
// Delay levels 1-4 run at the default messageDelayLevel's real timing; all 18 levels run on a broker
// configured with short levels. Transactions: commit (delivered), rollback (never delivered, proven
// by the topic's offsets) and unknown (resolved by the broker's check-back, with a short interval).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseDelayLevels } from "../../src/common/delay-levels.ts";
import { describeJava, ensureJavaPeer, runJava, stopAllJava } from "./java-peer.ts";
import { startTsmqCluster, type TsmqCluster } from "./tsmq-cluster.ts";

/** Apache's default messageDelayLevel (tsmq's default too). */
const DEFAULT_DELAY_LEVELS = "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h";
/** 18 levels one second apart: every level runs in a test, and a level's messages come before the next one's. */
const SHORT_DELAY_LEVELS = Array.from({ length: 18 }, (_, i) => `${i + 1}s`).join(" ");
/**
 * Loose bound on a delayed message's lateness (schedule pass, consumer's pull, two shared cores):
 * catches a level that used a much longer delay without timing the broker.
 */
const DELAY_LATENESS_MAX_MS = 10_000;

interface DelayResult {
  received: number;
  order: string[];
  arrivalDelayMs: Record<string, number>;
  storeDelayMs: Record<string, number>;
}

function checkDelays(result: DelayResult, levels: number[], delaysMs: number[]): void {
  const names = levels.map((l) => `level-${l}`);
  expect(result.received).toBe(levels.length);
  expect(result.order).toEqual(names); // in order of level
  for (const [i, name] of names.entries()) {
    const delayMs = delaysMs[levels[i]! - 1]!;
    // Not before its level's delay: the store time in the real topic and the arrival are both measured from just before the send.
    expect({ name, early: result.storeDelayMs[name]! < delayMs }).toEqual({ name, early: false });
    expect({ name, early: result.arrivalDelayMs[name]! < delayMs }).toEqual({ name, early: false });
    expect({ name, late: result.arrivalDelayMs[name]! > delayMs + DELAY_LATENESS_MAX_MS }).toEqual({ name, late: false });
  }
}

describeJava("Java delayed and transactional messages against tsmq", () => {
  beforeAll(async () => {
    await ensureJavaPeer();
  }, 600_000);

  afterAll(async () => {
    await stopAllJava();
  });

  describe("default delay levels, transactions with a 1 s check interval", () => {
    let cluster: TsmqCluster;

    beforeAll(async () => {
      cluster = await startTsmqCluster({
        brokers: [{ name: "broker-a", props: { transactionCheckInterval: 1_000, transactionTimeOut: 1_000 } }],
      });
    }, 60_000);

    afterAll(async () => {
      await cluster?.stop();
    });

    test("delay levels 1-4 at real timing (1s 5s 10s 30s)", async () => {
      const levels = [1, 2, 3, 4];
      const run = await runJava("delay.levels", { namesrv: cluster.namesrvAddr, topic: "JavaDelayReal", levels: levels.join(","), timeoutMs: 60_000 }, { timeoutMs: 120_000 });
      checkDelays((await run.result()) as unknown as DelayResult, levels, parseDelayLevels(DEFAULT_DELAY_LEVELS));
    }, 130_000);

    test("TransactionMQProducer: commit delivered, rollback never, unknown committed at check-back", async () => {
      const run = await runJava("tx.outcomes", { namesrv: cluster.namesrvAddr, topic: "JavaTx", perOutcome: 3 });
      expect(await run.result()).toEqual({
        localStates: { COMMIT_MESSAGE: 3, ROLLBACK_MESSAGE: 3, UNKNOW: 3 },
        deliveries: 7,
        delivered: ["commit-0", "commit-1", "commit-2", "plain-0", "unknown-0", "unknown-1", "unknown-2"],
        // The real topic holds the plain message, the commits and the checked-back unknowns: no rollback.
        messagesInTopic: 7,
        checkedKeys: ["unknown-0", "unknown-1", "unknown-2"],
        checks: 3,
      });
    });
  });

  describe("all 18 delay levels with messageDelayLevel = 1s 2s ... 18s", () => {
    let cluster: TsmqCluster;

    beforeAll(async () => {
      cluster = await startTsmqCluster({ brokers: [{ name: "broker-a", props: { messageDelayLevel: SHORT_DELAY_LEVELS } }] });
    }, 60_000);

    afterAll(async () => {
      await cluster?.stop();
    });

    test("every level arrives not before its delay, in order of level", async () => {
      const levels = Array.from({ length: 18 }, (_, i) => i + 1);
      const run = await runJava("delay.levels", { namesrv: cluster.namesrvAddr, topic: "JavaDelayAll", levels: levels.join(","), timeoutMs: 60_000 }, { timeoutMs: 120_000 });
      checkDelays((await run.result()) as unknown as DelayResult, levels, parseDelayLevels(SHORT_DELAY_LEVELS));
    }, 130_000);
  });
});
