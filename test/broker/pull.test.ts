// PULL_MESSAGE over a real socket: long polling woken by arrival, timeouts, tag filtering,
// status → code mapping, subscription checks and the piggy-backed offset commit.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { decodeRecord } from "../../src/common/message-codec.ts";
import { PullSysFlag } from "../../src/common/message.ts";
import { RequestCode, ResponseCode } from "../../src/remoting/codes.ts";
import { RemotingClient } from "../../src/remoting/client.ts";
import { RemotingCommand } from "../../src/remoting/command.ts";
import { MAX_SUSPEND_TIMEOUT_MS, MAX_SUSPENDED_PULLS_PER_CONNECTION } from "../../src/broker/long-polling.ts";
import { heartbeatRequest, INVOKE_TIMEOUT_MS, pollUntil, pullRequest, sendRequest, startTestBroker, type TestBroker } from "./helpers.ts";

/** Fast sweep so timed-out pulls are answered promptly in tests. */
const HOLD_CHECK_INTERVAL_MS = 100;
/** The wake-up budget the task sets for a parked pull after a send. */
const WAKE_BUDGET_MS = 50;

let tb: TestBroker;
const invoke = (cmd: RemotingCommand, timeoutMs = INVOKE_TIMEOUT_MS) => tb.client.invoke(tb.addr, cmd, timeoutMs);
const suspendFlags = String(PullSysFlag.SUSPEND | PullSysFlag.SUBSCRIPTION);

function createTopic(topic: string, queues: number): RemotingCommand {
  return RemotingCommand.request(RequestCode.UPDATE_AND_CREATE_TOPIC, {
    topic, defaultTopic: "TBW102", readQueueNums: String(queues), writeQueueNums: String(queues), perm: "6", topicFilterType: "SINGLE_TAG", topicSysFlag: "0", order: "false",
  });
}

beforeAll(async () => {
  tb = await startTestBroker({ brokerOptions: { holdCheckIntervalMs: HOLD_CHECK_INTERVAL_MS } });
  for (const t of ["LP", "LPTag", "LPTimeout", "Status", "Subs", "Warm", "LPBody", "LPCap"]) expect((await invoke(createTopic(t, 2))).code).toBe(ResponseCode.SUCCESS);
  // The first send creates the commit-log segment; keep that out of the timed send.
  expect((await invoke(sendRequest("Warm", "w"))).code).toBe(ResponseCode.SUCCESS);
});
afterAll(async () => {
  await tb.destroy();
});

describe("long polling", () => {
  test("a waiting pull is answered within 50 ms of a send", async () => {
    let answeredAt = 0;
    const pending = invoke(pullRequest("g-lp", "LP", 0, 0, { sysFlag: suspendFlags }), 20_000).then((r) => {
      answeredAt = performance.now();
      return r;
    });
    // The pull is parked once the broker holds it.
    const deadline = Date.now() + 2_000;
    while (tb.broker.longPolling.size === 0 && Date.now() < deadline) await Bun.sleep(5);
    expect(tb.broker.longPolling.size).toBe(1);
    const sentAt = performance.now();
    const s = await invoke(sendRequest("LP", "wake", {}, { e: "0" }));
    expect(s.code).toBe(ResponseCode.SUCCESS);
    const r = await pending;
    expect(r.code).toBe(ResponseCode.SUCCESS);
    expect(answeredAt - sentAt).toBeLessThan(WAKE_BUDGET_MS);
    expect(new TextDecoder().decode(decodeRecord(r.body!, true).body)).toBe("wake");
    expect(r.extFields).toMatchObject({ nextBeginOffset: "1", minOffset: "0", maxOffset: "1", suggestWhichBrokerId: "0" });
  });

  test("a parked pull whose tag does not match stays parked; a matching message wakes it", async () => {
    const pending = invoke(pullRequest("g-tag", "LPTag", 0, 0, { sysFlag: suspendFlags, subscription: "TagA" }), 20_000);
    const deadline = Date.now() + 2_000;
    while (tb.broker.longPolling.size === 0 && Date.now() < deadline) await Bun.sleep(5);
    await invoke(sendRequest("LPTag", "b", { TAGS: "TagB" }, { e: "0" }));
    await Bun.sleep(HOLD_CHECK_INTERVAL_MS * 2); // at least one sweep passes over the TagB entry
    expect(tb.broker.longPolling.size).toBe(1);
    await invoke(sendRequest("LPTag", "a", { TAGS: "TagA" }, { e: "0" }));
    const r = await pending;
    expect(r.code).toBe(ResponseCode.SUCCESS);
    const m = decodeRecord(r.body!, true);
    expect(m.properties.TAGS).toBe("TagA");
    expect(r.extFields.nextBeginOffset).toBe("2");
  });

  test("a parked pull times out with PULL_NOT_FOUND after suspendTimeoutMillis", async () => {
    const start = performance.now();
    const r = await invoke(pullRequest("g-to", "LPTimeout", 0, 0, { sysFlag: suspendFlags, suspendTimeoutMillis: "300" }), 5_000);
    const elapsed = performance.now() - start;
    expect(r.code).toBe(ResponseCode.PULL_NOT_FOUND);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(300 + HOLD_CHECK_INTERVAL_MS * 3);
    expect(r.extFields).toMatchObject({ nextBeginOffset: "0", maxOffset: "0", minOffset: "0", suggestWhichBrokerId: "0" });
  });
});

describe("long polling bounds", () => {
  test("a parked pull keeps no body and at most MAX_SUSPEND_TIMEOUT_MS of suspendTimeoutMillis", async () => {
    // The hostile pull: a 1 MiB body and a 9e11 ms hold (it once pinned its body for 28 years).
    const request = pullRequest("g-body", "LPBody", 0, 0, { sysFlag: suspendFlags, suspendTimeoutMillis: "900000000000", junk: "x".repeat(1000) });
    request.body = new Uint8Array(1024 * 1024).fill(7);
    const pending = invoke(request, 20_000);
    await pollUntil(() => tb.broker.longPolling.size === 1 || undefined);
    const [parked] = [...tb.broker.longPolling.parked()];
    expect(parked!.timeoutMs).toBe(MAX_SUSPEND_TIMEOUT_MS);
    expect(parked!.request.body).toBeUndefined();
    expect(parked!.request.extFields.junk).toBeUndefined();
    expect(parked!.request.extFields.topic).toBe("LPBody");
    expect((await invoke(sendRequest("LPBody", "wake", {}, { e: "0" }))).code).toBe(ResponseCode.SUCCESS);
    const r = await pending;
    expect(r.code).toBe(ResponseCode.SUCCESS);
    expect(new TextDecoder().decode(decodeRecord(r.body!, true).body)).toBe("wake");
  });

  test("past MAX_SUSPENDED_PULLS_PER_CONNECTION a pull answers SYSTEM_BUSY; other connections still park", async () => {
    const greedy = new RemotingClient();
    try {
      const pulls = Array.from({ length: MAX_SUSPENDED_PULLS_PER_CONNECTION }, () =>
        greedy.invoke(tb.addr, pullRequest("g-cap", "LPCap", 0, 0, { sysFlag: suspendFlags }), 20_000),
      );
      await pollUntil(() => tb.broker.longPolling.size === MAX_SUSPENDED_PULLS_PER_CONNECTION || undefined, 10_000);
      const refused = await greedy.invoke(tb.addr, pullRequest("g-cap", "LPCap", 0, 0, { sysFlag: suspendFlags }), 5_000);
      expect(refused.code).toBe(ResponseCode.SYSTEM_BUSY);
      expect(refused.remark).toContain(`too many suspended pulls (${MAX_SUSPENDED_PULLS_PER_CONNECTION} on this connection)`);
      const other = invoke(pullRequest("g-cap", "LPCap", 1, 0, { sysFlag: suspendFlags }), 20_000);
      await pollUntil(() => tb.broker.longPolling.size === MAX_SUSPENDED_PULLS_PER_CONNECTION + 1 || undefined);
      expect((await invoke(sendRequest("LPCap", "q0", {}, { e: "0" }))).code).toBe(ResponseCode.SUCCESS);
      expect((await invoke(sendRequest("LPCap", "q1", {}, { e: "1" }))).code).toBe(ResponseCode.SUCCESS);
      const answered = await Promise.all(pulls);
      expect(answered.filter((r) => r.code === ResponseCode.SUCCESS).length).toBe(MAX_SUSPENDED_PULLS_PER_CONNECTION);
      expect((await other).code).toBe(ResponseCode.SUCCESS);
      expect(tb.broker.longPolling.size).toBe(0);
    } finally {
      greedy.close();
    }
  });
});

describe("pull statuses", () => {
  beforeAll(async () => {
    for (let i = 0; i < 3; i++) expect((await invoke(sendRequest("Status", `m${i}`, {}, { e: "0" }))).code).toBe(ResponseCode.SUCCESS);
  });
  test("empty queue at offset 0: PULL_NOT_FOUND; at offset 5: PULL_OFFSET_MOVED", async () => {
    expect((await invoke(pullRequest("g-st", "Status", 1, 0))).code).toBe(ResponseCode.PULL_NOT_FOUND);
    const moved = await invoke(pullRequest("g-st", "Status", 1, 5));
    expect(moved.code).toBe(ResponseCode.PULL_OFFSET_MOVED);
    expect(moved.extFields.nextBeginOffset).toBe("0");
  });
  test("offset == max: PULL_NOT_FOUND; offset > max: PULL_OFFSET_MOVED to max", async () => {
    const one = await invoke(pullRequest("g-st", "Status", 0, 3));
    expect(one.code).toBe(ResponseCode.PULL_NOT_FOUND);
    expect(one.remark).toBe("OFFSET_OVERFLOW_ONE");
    const badly = await invoke(pullRequest("g-st", "Status", 0, 10));
    expect(badly.code).toBe(ResponseCode.PULL_OFFSET_MOVED);
    expect(badly.extFields.nextBeginOffset).toBe("3");
  });
  test("FOUND returns every stored record back to back", async () => {
    const r = await invoke(pullRequest("g-st", "Status", 0, 0));
    expect(r.code).toBe(ResponseCode.SUCCESS);
    const bodies: string[] = [];
    let pos = 0;
    while (pos < r.body!.length) {
      const size = new DataView(r.body!.buffer, r.body!.byteOffset + pos).getInt32(0);
      bodies.push(new TextDecoder().decode(decodeRecord(r.body!.subarray(pos, pos + size), true).body));
      pos += size;
    }
    expect(bodies).toEqual(["m0", "m1", "m2"]);
  });
  test("commit-offset flag stores the consumer offset", async () => {
    const flags = String(PullSysFlag.COMMIT_OFFSET | PullSysFlag.SUBSCRIPTION);
    await invoke(pullRequest("g-commit", "Status", 0, 0, { sysFlag: flags, commitOffset: "2" }));
    const q = await invoke(RemotingCommand.request(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: "g-commit", topic: "Status", queueId: "0" }));
    expect(q.code).toBe(ResponseCode.SUCCESS);
    expect(q.extFields.offset).toBe("2");
  });
  test("errors: unknown topic, illegal queue, bad subscription", async () => {
    expect((await invoke(pullRequest("g", "NoSuchTopic", 0, 0))).code).toBe(ResponseCode.TOPIC_NOT_EXIST);
    const illegal = await invoke(pullRequest("g", "Status", 9, 0));
    expect(illegal.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(illegal.remark).toContain("queueId[9] is illegal");
    expect((await invoke(pullRequest("g", "Status", 0, 0, { subscription: "||" }))).code).toBe(ResponseCode.SUBSCRIPTION_PARSE_FAILED);
  });
});

describe("subscription from heartbeat", () => {
  test("no heartbeat: SUBSCRIPTION_NOT_EXIST; after it: FOUND; newer subVersion: NOT_LATEST", async () => {
    const noSub = { sysFlag: "0", subVersion: "1" };
    expect((await invoke(pullRequest("g-hb", "Subs", 0, 0, noSub))).code).toBe(ResponseCode.SUBSCRIPTION_NOT_EXIST);
    expect((await invoke(heartbeatRequest("127.0.0.1@hb", "g-hb", [{ topic: "Subs" }]))).code).toBe(ResponseCode.SUCCESS);
    await invoke(sendRequest("Subs", "s", {}, { e: "0" }));
    expect((await invoke(pullRequest("g-hb", "Subs", 0, 0, noSub))).code).toBe(ResponseCode.SUCCESS);
    const future = String(Date.now() + 1_000_000);
    expect((await invoke(pullRequest("g-hb", "Subs", 0, 0, { sysFlag: "0", subVersion: future }))).code).toBe(ResponseCode.SUBSCRIPTION_NOT_LATEST);
    // The heartbeat also created the group's retry topic.
    expect(tb.broker.topics.get("%RETRY%g-hb")).toMatchObject({ readQueueNums: 1, writeQueueNums: 1, perm: 6 });
  });
});
