// Names from the wire never become paths unvalidated (issue 13, item 1). The first two cases replay
// the attacks found against `./tsmq standalone`: a CONSUMER_SEND_MSG_BACK whose group `/../..` made a
// consume-queue directory outside the store (and DELETE_TOPIC_IN_BROKER on its %DLQ% topic deleted
// it), and a group `x/../../lock/a` that resolved through the store's lock file and made dispatch
// throw ENOTDIR. Every refusal is SYSTEM_ERROR (Java TopicValidator's code) with a remark naming the
// field; nothing outside the store changes and the broker keeps serving.

import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { RequestCode, ResponseCode } from "../../src/remoting/codes.ts";
import { RemotingCommand } from "../../src/remoting/command.ts";
import { heartbeatRequest, INVOKE_TIMEOUT_MS, jsonOf, makeTempDir, pullRequest, sendRequest, startTestBroker, type TestBroker } from "./helpers.ts";

let tb: TestBroker;
let base: string;
const enc = new TextEncoder();

/** The broker's store is `<base>/store`: anything else appearing under `<base>` escaped the store. */
beforeAll(async () => {
  base = makeTempDir("tsmq-hostile-");
  tb = await startTestBroker({ dir: path.join(base, "store") });
});
afterAll(async () => {
  await tb.destroy();
  fs.rmSync(base, { recursive: true, force: true });
});

function sendBack(group: string, offset = 0): RemotingCommand {
  return RemotingCommand.request(RequestCode.CONSUMER_SEND_MSG_BACK, {
    offset: String(offset),
    group,
    delayLevel: "-1", // straight to %DLQ%<group>, the path of the original attack
    originMsgId: "",
    originTopic: "T",
    unitMode: "false",
    maxReconsumeTimes: "16",
  });
}

async function invoke(request: RemotingCommand): Promise<RemotingCommand> {
  return tb.client.invoke(tb.addr, request, INVOKE_TIMEOUT_MS);
}

async function expectRefused(request: RemotingCommand, remark: RegExp): Promise<void> {
  const r = await invoke(request);
  expect({ code: r.code, remark: r.remark }).toEqual({ code: ResponseCode.SYSTEM_ERROR, remark: expect.stringMatching(remark) });
}

function storeEscapes(): string[] {
  return fs.readdirSync(base).filter((name) => name !== "store");
}

test("send-back with group /../.. is refused and creates nothing outside the store", async () => {
  const stored = await invoke(sendRequest("HostileT", "body"));
  expect(stored.code).toBe(ResponseCode.SUCCESS);
  await expectRefused(sendBack("/../..", 0), /<group>.*group\[\/\.\.\/\.\.\] contains illegal characters/);
  await expectRefused(RemotingCommand.request(RequestCode.DELETE_TOPIC_IN_BROKER, { topic: "%DLQ%/../.." }), /<topic>.*illegal characters/);
  expect(storeEscapes()).toEqual([]);
  expect(tb.broker.topics.get("%DLQ%/../..")).toBeUndefined();
  expect(tb.broker.groups.get("/../..")).toBeUndefined();
});

test("send-back with group x/../../lock/a is refused; dispatch and the store stay healthy", async () => {
  await expectRefused(sendBack("x/../../lock/a"), /<group>.*illegal characters/);
  expect(tb.broker.topics.get("%DLQ%x/../../lock/a")).toBeUndefined();
  // The broker still stores and dispatches: the queue of a fresh send advances.
  const before = tb.broker.store.getMaxOffsetInQueue("HostileT", 0);
  expect((await invoke(sendRequest("HostileT", "after"))).code).toBe(ResponseCode.SUCCESS);
  const query = await invoke(RemotingCommand.request(RequestCode.GET_MAX_OFFSET, { topic: "HostileT", queueId: "0" }));
  expect(Number(query.extFields.offset)).toBe(before + 1);
});

test("a group whose %RETRY% / %DLQ% topic would be longer than 127 is refused on send-back", async () => {
  const group = "g".repeat(125); // a valid group (<= 255) whose "%DLQ%" + group is 130 characters
  await expectRefused(sendBack(group), /retry \/ dead-letter topic of group.*longer than topic max length 127/);
  expect(storeEscapes()).toEqual([]);
});

test("every request carrying a topic, group or client id refuses a bad one where it enters", async () => {
  const longTopic = "t".repeat(4 * 1024 * 1024); // the 4 MiB topic of the UPDATE_CONSUMER_OFFSET
  const subGroupBody = enc.encode(JSON.stringify({ groupName: "../escape", retryQueueNums: 1 }));
  const cases: Array<[string, RemotingCommand, RegExp]> = [
    ["send topic", sendRequest("../x", "b"), /topic\[\.\.\/x\] contains illegal characters/],
    ["pull group", pullRequest("../g", "HostileT", 0, 0), /<consumerGroup>.*illegal characters/],
    ["pull topic", pullRequest("G", "a/b", 0, 0), /<topic>.*illegal characters/],
    ["create group body", RemotingCommand.request(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, subGroupBody), /groupName.*illegal characters/],
    ["delete group", RemotingCommand.request(RequestCode.DELETE_SUBSCRIPTIONGROUP, { groupName: "a b" }), /<groupName>.*illegal/],
    ["create topic", RemotingCommand.request(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic: "x/..", readQueueNums: "1", writeQueueNums: "1", perm: "6" }), /illegal characters/],
    ["commit offset 4 MiB topic", RemotingCommand.request(RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: "G", topic: longTopic, queueId: "0", commitOffset: "1" }), /<topic>.*longer than topic max length 127/],
    ["commit offset group", RemotingCommand.request(RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: "g".repeat(256), topic: "T", queueId: "0", commitOffset: "1" }), /longer than group max length 255/],
    ["query offset", RemotingCommand.request(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: "G", topic: "..", queueId: "0" }), /<topic>/],
    ["max offset", RemotingCommand.request(RequestCode.GET_MAX_OFFSET, { topic: "../../etc", queueId: "0" }), /<topic>/],
    ["query message", RemotingCommand.request(RequestCode.QUERY_MESSAGE, { topic: "a.b", key: "k", maxNum: "1", beginTimestamp: "0", endTimestamp: "1" }), /<topic>/],
    ["consumer list", RemotingCommand.request(RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: "" }), /group is blank/],
    ["reset offset", RemotingCommand.request(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, { topic: "T", group: "g/h", timestamp: "0", isForce: "true" }), /<group>/],
    ["unregister client id", RemotingCommand.request(RequestCode.UNREGISTER_CLIENT, { clientID: "a\nb" }), /client id.*control characters/],
    ["heartbeat group", heartbeatRequest("127.0.0.1@1", "../g", [{ topic: "T" }]), /consumerDataSet\[0\]\.groupName.*illegal/],
    ["heartbeat topic", heartbeatRequest("127.0.0.1@1", "G", [{ topic: "T/../x" }]), /subscriptionDataSet\[0\]\.topic.*illegal/],
    ["heartbeat client id", heartbeatRequest("x".repeat(300), "G", []), /clientID.*longer than 255/],
    ["lock body topic", RemotingCommand.request(RequestCode.LOCK_BATCH_MQ, {}, enc.encode(JSON.stringify({ consumerGroup: "G", clientId: "c", mqSet: [{ topic: "../t", brokerName: "b", queueId: 0 }] }))), /mqSet\[0\]\.topic/],
  ];
  for (const [name, request, remark] of cases) {
    const r = await invoke(request);
    expect({ name, code: r.code }).toEqual({ name, code: ResponseCode.SYSTEM_ERROR });
    expect(r.remark ?? "").toMatch(remark);
    expect((r.remark ?? "").length).toBeLessThan(400); // a refused name is cut, never echoed whole
  }
  expect(storeEscapes()).toEqual([]);
  expect(tb.broker.offsets.table.size).toBe(0);
  expect(jsonOf(await invoke(RemotingCommand.request(RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG))).subscriptionGroupTable["../escape"]).toBeUndefined();
  // Valid names still work.
  expect((await invoke(heartbeatRequest("127.0.0.1@1", "G_ok-1|x", [{ topic: "HostileT" }]))).code).toBe(ResponseCode.SUCCESS);
});

test("a heartbeat over the group bound is refused whole, not silently cut", async () => {
  const body = { clientID: "127.0.0.1@bound", consumerDataSet: Array.from({ length: 1_001 }, (_, i) => ({ groupName: `BG${i}`, subscriptionDataSet: [] })), producerDataSet: [] };
  const r = await invoke(RemotingCommand.request(RequestCode.HEART_BEAT, {}, enc.encode(JSON.stringify(body))));
  expect({ code: r.code, remark: r.remark }).toEqual({ code: ResponseCode.SYSTEM_ERROR, remark: "heartbeat consumerDataSet has 1001 entries, more than 1000" });
  expect(tb.broker.groups.get("BG0")).toBeUndefined();
});
