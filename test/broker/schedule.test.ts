// Delayed messages over a real socket: a delay-level-2 message (5 s) is delivered no earlier than
// 5 s after the send, and delivery progress (delayOffset.json) survives a restart.

import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { decodeRecord } from "../../src/common/message-codec.ts";
import { PullSysFlag } from "../../src/common/message.ts";
import { RequestCode, ResponseCode } from "../../src/remoting/codes.ts";
import { RemotingCommand } from "../../src/remoting/command.ts";
import { INVOKE_TIMEOUT_MS, jsonOf, makeTempDir, pullRequest, sendRequest, startTestBroker } from "./helpers.ts";

/** Level 2 of the default messageDelayLevel. */
const LEVEL_2_DELAY_MS = 5_000;
/** Timer granularity plus scheduling slack on a busy 2-core machine. */
const DELIVERY_SLACK_MS = 1_500;

describe("scheduled messages", () => {
  test("delay level 2 is delivered after 5 s and not again after a restart", async () => {
    const dir = makeTempDir("tsmq-schedule-");
    try {
      const tb = await startTestBroker({ dir });
      let sentAt = 0;
      try {
        sentAt = Date.now();
        const s = await tb.client.invoke(tb.addr, sendRequest("DelayTopic", "later", { DELAY: "2" }, { e: "0", c: "TBW102" }), INVOKE_TIMEOUT_MS);
        expect(s.code).toBe(ResponseCode.SUCCESS);
        const flags = String(PullSysFlag.SUSPEND | PullSysFlag.SUBSCRIPTION);
        const p = await tb.client.invoke(tb.addr, pullRequest("G-delay", "DelayTopic", 0, 0, { sysFlag: flags, suspendTimeoutMillis: "10000" }), 15_000);
        const arrivedAt = Date.now();
        expect(p.code).toBe(ResponseCode.SUCCESS);
        const m = decodeRecord(p.body!, true);
        expect(new TextDecoder().decode(m.body)).toBe("later");
        expect(m.properties).toMatchObject({ REAL_TOPIC: "DelayTopic", REAL_QID: "0" });
        expect(m.properties.DELAY).toBeUndefined();
        expect(arrivedAt - sentAt).toBeGreaterThanOrEqual(LEVEL_2_DELAY_MS);
        expect(arrivedAt - sentAt).toBeLessThan(LEVEL_2_DELAY_MS + DELIVERY_SLACK_MS);
        const offsets = await tb.client.invoke(tb.addr, RemotingCommand.request(RequestCode.GET_ALL_DELAY_OFFSET), INVOKE_TIMEOUT_MS);
        expect(jsonOf(offsets).offsetTable["2"]).toBe(1);
      } finally {
        await tb.stop();
      }
      expect(fs.readFileSync(path.join(dir, "config", "delayOffset.json"), "utf8")).toContain('"2": 1');

      const again = await startTestBroker({ dir });
      try {
        expect(again.broker.schedule.offsetTable.get(2)).toBe(1);
        // Give the level timers (first run after 1 s) a chance to misbehave.
        await Bun.sleep(1_300);
        expect(again.broker.store.getMaxOffsetInQueue("DelayTopic", 0)).toBe(1);
      } finally {
        await again.stop();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);
});
