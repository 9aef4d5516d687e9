// CONSUMER_SEND_MSG_BACK over a real socket: %RETRY% routing with delay level 3 + reconsumeTimes,
// re-delivery to %RETRY%group through the schedule topic, and %DLQ% after maxReconsumeTimes.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { decodeRecord } from "../../src/common/message-codec.ts";
import { PullSysFlag } from "../../src/common/message.ts";
import { RequestCode, ResponseCode } from "../../src/remoting/codes.ts";
import { RemotingCommand } from "../../src/remoting/command.ts";
import { INVOKE_TIMEOUT_MS, pullRequest, sendRequest, startTestBroker, type TestBroker } from "./helpers.ts";

/** Every level 1 s so a retry comes back within the test's time budget. */
const SHORT_DELAY_LEVELS = "1s 1s 1s 1s 1s";

let tb: TestBroker;
const invoke = (cmd: RemotingCommand, timeoutMs = INVOKE_TIMEOUT_MS) => tb.client.invoke(tb.addr, cmd, timeoutMs);

async function sendAndPull(topic: string, body: string) {
  const s = await invoke(sendRequest(topic, body, { TAGS: "TagR", KEYS: "rk" }, { e: "0" }));
  expect(s.code).toBe(ResponseCode.SUCCESS);
  const p = await invoke(pullRequest("G-retry", topic, 0, Number(s.extFields.queueOffset)));
  expect(p.code).toBe(ResponseCode.SUCCESS);
  return decodeRecord(p.body!, true);
}

function sendBack(offset: number, delayLevel: number, maxReconsumeTimes = 16, originMsgId = "") {
  return RemotingCommand.request(RequestCode.CONSUMER_SEND_MSG_BACK, {
    offset: String(offset),
    group: "G-retry",
    delayLevel: String(delayLevel),
    originMsgId,
    originTopic: "RetryTopic",
    unitMode: "false",
    maxReconsumeTimes: String(maxReconsumeTimes),
  });
}

beforeAll(async () => {
  tb = await startTestBroker({ overrides: { messageDelayLevel: SHORT_DELAY_LEVELS } });
});
afterAll(async () => {
  await tb.destroy();
});

describe("consumer send-back", () => {
  test("goes to %RETRY%group after the delay, with RETRY_TOPIC, ORIGIN_MESSAGE_ID and reconsumeTimes+1", async () => {
    const original = await sendAndPull("RetryTopic", "fail-me");
    const r = await invoke(sendBack(original.commitLogOffset, 0, 16, original.msgId));
    expect(r.code).toBe(ResponseCode.SUCCESS);
    expect(tb.broker.topics.get("%RETRY%G-retry")).toMatchObject({ writeQueueNums: 1, perm: 6 });
    // Parked at level 3 (= 3 + reconsumeTimes 0), queue 2 of the schedule topic.
    expect(tb.broker.store.getMaxOffsetInQueue("SCHEDULE_TOPIC_XXXX", 2)).toBe(1);

    const flags = String(PullSysFlag.SUSPEND | PullSysFlag.SUBSCRIPTION);
    const p = await invoke(pullRequest("G-retry", "%RETRY%G-retry", 0, 0, { sysFlag: flags, suspendTimeoutMillis: "5000" }), 10_000);
    expect(p.code).toBe(ResponseCode.SUCCESS);
    const retried = decodeRecord(p.body!, true);
    expect(retried.topic).toBe("%RETRY%G-retry");
    expect(retried.reconsumeTimes).toBe(1);
    expect(retried.properties).toMatchObject({ RETRY_TOPIC: "RetryTopic", ORIGIN_MESSAGE_ID: original.msgId, TAGS: "TagR", KEYS: "rk" });
    expect(retried.properties.DELAY).toBeUndefined();
    expect(new TextDecoder().decode(retried.body)).toBe("fail-me");

    // The retried message failing again keeps the first ORIGIN_MESSAGE_ID and uses level 3 + 1.
    const again = await invoke(sendBack(retried.commitLogOffset, 0, 16, retried.msgId));
    expect(again.code).toBe(ResponseCode.SUCCESS);
    expect(tb.broker.store.getMaxOffsetInQueue("SCHEDULE_TOPIC_XXXX", 3)).toBe(1);
  });

  test("reconsumeTimes >= maxReconsumeTimes, or a negative delay level, goes to %DLQ%group", async () => {
    const a = await sendAndPull("RetryTopic", "dlq-by-count");
    expect((await invoke(sendBack(a.commitLogOffset, 0, 0))).code).toBe(ResponseCode.SUCCESS);
    const b = await sendAndPull("RetryTopic", "dlq-by-level");
    expect((await invoke(sendBack(b.commitLogOffset, -1))).code).toBe(ResponseCode.SUCCESS);
    expect(tb.broker.topics.get("%DLQ%G-retry")).toMatchObject({ writeQueueNums: 1, perm: 6 });
    const p = await invoke(pullRequest("G-dlq-reader", "%DLQ%G-retry", 0, 0));
    expect(p.code).toBe(ResponseCode.SUCCESS);
    expect(p.extFields.maxOffset).toBe("2");
    const dead = decodeRecord(p.body!, true);
    expect(dead.properties).toMatchObject({ RETRY_TOPIC: "RetryTopic", ORIGIN_MESSAGE_ID: a.msgId });
    expect(dead.reconsumeTimes).toBe(1);
  });

  test("an offset with no message: SYSTEM_ERROR naming the offset", async () => {
    const r = await invoke(sendBack(987_654_321, 0));
    expect(r.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(r.remark).toBe("look message by offset failed, 987654321");
  });
});
