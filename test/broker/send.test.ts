// SEND_MESSAGE / SEND_MESSAGE_V2 / SEND_BATCH_MESSAGE over a real socket: every validation error
// code, stored properties, batches, delay and %RETRY% → %DLQ% routing.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { decodeRecord } from "../../src/common/message-codec.ts";
import { propertiesToString } from "../../src/common/message.ts";
import { RequestCode, ResponseCode } from "../../src/remoting/codes.ts";
import { RemotingCommand } from "../../src/remoting/command.ts";
import { INVOKE_TIMEOUT_MS, pullRequest, sendRequest, startTestBroker, type TestBroker } from "./helpers.ts";

/** Small limit so the oversize case stays cheap. */
const MAX_MESSAGE_SIZE_BYTES = 1_024;

let tb: TestBroker;
const invoke = (cmd: RemotingCommand) => tb.client.invoke(tb.addr, cmd, INVOKE_TIMEOUT_MS);

function createTopic(topic: string, queues: number, perm = 6): RemotingCommand {
  return RemotingCommand.request(RequestCode.UPDATE_AND_CREATE_TOPIC, {
    topic,
    defaultTopic: "TBW102",
    readQueueNums: String(queues),
    writeQueueNums: String(queues),
    perm: String(perm),
    topicFilterType: "SINGLE_TAG",
    topicSysFlag: "0",
    order: "false",
  });
}

function updateConfig(text: string): RemotingCommand {
  return RemotingCommand.request(RequestCode.UPDATE_BROKER_CONFIG, {}, new TextEncoder().encode(text));
}

async function pullOne(topic: string, queueId: number, offset: number) {
  const r = await invoke(pullRequest("send-test-reader", topic, queueId, offset));
  expect(r.code).toBe(ResponseCode.SUCCESS);
  return decodeRecord(r.body!, true);
}

beforeAll(async () => {
  tb = await startTestBroker({ overrides: { maxMessageSize: MAX_MESSAGE_SIZE_BYTES } });
  expect((await invoke(createTopic("Four", 4))).code).toBe(ResponseCode.SUCCESS);
  expect((await invoke(createTopic("ReadOnly", 1, 4))).code).toBe(ResponseCode.SUCCESS);
});
afterAll(async () => {
  await tb.destroy();
});

describe("send validation", () => {
  const cases: Array<[string, () => RemotingCommand, number, RegExp]> = [
    ["blank-free illegal topic", () => sendRequest("bad topic", "x"), ResponseCode.SYSTEM_ERROR, /illegal characters/],
    ["topic longer than 127", () => sendRequest("t".repeat(128), "x"), ResponseCode.SYSTEM_ERROR, /longer than topic max length/],
    ["system topic clients may not write", () => sendRequest("SCHEDULE_TOPIC_XXXX", "x"), ResponseCode.NO_PERMISSION, /forbidden/],
    ["unknown topic without an inheritable template", () => sendRequest("Unknown1", "x", {}, { c: "NoTemplate" }), ResponseCode.TOPIC_NOT_EXIST, /not exist, apply first/],
    ["queueId beyond the topic's queues", () => sendRequest("Four", "x", {}, { e: "4" }), ResponseCode.SYSTEM_ERROR, /queueId\[4\] is illegal/],
    ["body larger than maxMessageSize", () => sendRequest("Four", new Uint8Array(MAX_MESSAGE_SIZE_BYTES + 1)), ResponseCode.MESSAGE_ILLEGAL, /exceeds maxMessageSize/],
    ["properties over 32767 bytes", () => sendRequest("Four", "x", { KEYS: "k".repeat(33_000) }), ResponseCode.MESSAGE_ILLEGAL, /properties length/],
    ["topic without write permission", () => sendRequest("ReadOnly", "x"), ResponseCode.NO_PERMISSION, /ReadOnly.*forbidden/],
    ["missing required header field", () => {
      const r = sendRequest("Four", "x");
      delete r.extFields.b;
      return r;
    }, ResponseCode.SYSTEM_ERROR, /the custom field <b> is null/], // V2 short key, as Java names it
  ];
  for (const [name, build, code, remark] of cases) {
    test(name, async () => {
      const r = await invoke(build());
      expect(r.code).toBe(code);
      expect(r.remark ?? "").toMatch(remark);
    });
  }

  test("broker without write permission answers NO_PERMISSION", async () => {
    expect((await invoke(updateConfig("brokerPermission=4\n"))).code).toBe(ResponseCode.SUCCESS);
    try {
      const r = await invoke(sendRequest("Four", "x"));
      expect(r.code).toBe(ResponseCode.NO_PERMISSION);
    } finally {
      expect((await invoke(updateConfig("brokerPermission=6\n"))).code).toBe(ResponseCode.SUCCESS);
    }
  });

  test("%RETRY% send for an unknown group with auto-create off: SUBSCRIPTION_GROUP_NOT_EXIST", async () => {
    expect((await invoke(updateConfig("autoCreateSubscriptionGroup=false\n"))).code).toBe(ResponseCode.SUCCESS);
    try {
      const r = await invoke(sendRequest("%RETRY%NoSuchGroup", "x", {}, { e: "0" }));
      expect(r.code).toBe(ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST);
      expect(r.remark).toContain("NoSuchGroup");
    } finally {
      await invoke(updateConfig("autoCreateSubscriptionGroup=true\n"));
    }
  });
});

describe("send success", () => {
  test("V2 send: header, stored properties without WAIT and with CLUSTER", async () => {
    const r = await invoke(sendRequest("Four", "hello", { TAGS: "TagA", KEYS: "k1" }, { e: "2" }));
    expect(r.code).toBe(ResponseCode.SUCCESS);
    expect(r.extFields).toMatchObject({ MSG_REGION: "DefaultRegion", TRACE_ON: "true", queueId: "2", queueOffset: "0" });
    expect(r.extFields.msgId).toMatch(/^[0-9A-F]{32}$/);
    const m = await pullOne("Four", 2, 0);
    expect(m.properties).toEqual({ TAGS: "TagA", KEYS: "k1", CLUSTER: "DefaultCluster" });
    expect(m.msgId).toBe(r.extFields.msgId!);
    expect(new TextDecoder().decode(m.body)).toBe("hello");
  });

  test("V1 SEND_MESSAGE with long field names", async () => {
    const v1 = RemotingCommand.request(
      RequestCode.SEND_MESSAGE,
      { producerGroup: "pg", topic: "Four", defaultTopic: "TBW102", defaultTopicQueueNums: "4", queueId: "3", sysFlag: "0", bornTimestamp: String(Date.now()), flag: "7", properties: "" },
      new TextEncoder().encode("v1"),
    );
    const r = await invoke(v1);
    expect(r.code).toBe(ResponseCode.SUCCESS);
    expect((await pullOne("Four", 3, Number(r.extFields.queueOffset))).flag).toBe(7);
  });

  test("auto-create from TBW102 and random queue for a negative queueId", async () => {
    const r = await invoke(sendRequest("AutoCreated", "x", {}, { e: "-1", d: "4" }));
    expect(r.code).toBe(ResponseCode.SUCCESS);
    expect(tb.broker.topics.get("AutoCreated")).toMatchObject({ writeQueueNums: 4, perm: 6 });
    expect(Number(r.extFields.queueId)).toBeLessThan(4);
  });

  test("batch: consecutive queue offsets, comma-joined ids, batch properties appended", async () => {
    const enc = new TextEncoder();
    const member = (body: string, props: string) => {
      const b = enc.encode(body);
      const p = enc.encode(props);
      const out = new Uint8Array(20 + b.length + 2 + p.length);
      const v = new DataView(out.buffer);
      v.setInt32(0, out.length); // TOTALSIZE
      v.setInt32(12, 0); // FLAG
      v.setInt32(16, b.length); // body length
      out.set(b, 20);
      v.setInt16(20 + b.length, p.length); // properties length
      out.set(p, 22 + b.length);
      return out;
    };
    // The third member's properties end with 0x02 and hold UTF-8, as ali-ons may send them.
    const body = Buffer.concat([member("b1", propertiesToString({ KEYS: "x1" })), member("b2", propertiesToString({ KEYS: "x2" })), member("b3", "KEYS\u0001clé\u0002")]);
    const req = sendRequest("Four", body, {}, { e: "1", m: "true" });
    req.code = RequestCode.SEND_BATCH_MESSAGE;
    const r = await invoke(req);
    expect(r.code).toBe(ResponseCode.SUCCESS);
    const ids = r.extFields.msgId!.split(",");
    expect(ids.length).toBe(3);
    const first = Number(r.extFields.queueOffset);
    const m2 = await pullOne("Four", 1, first + 1);
    expect(m2.properties).toMatchObject({ KEYS: "x2", WAIT: "true", CLUSTER: "DefaultCluster" });
    expect(m2.msgId).toBe(ids[1]!);
    const m3 = await pullOne("Four", 1, first + 2);
    expect([new TextDecoder().decode(m3.body), m3.propertiesString]).toEqual(["b3", "KEYS\u0001clé\u0002WAIT\u0001true\u0002CLUSTER\u0001DefaultCluster"]);

    const delayed = sendRequest("Four", member("b", propertiesToString({ DELAY: "2" })), {}, { e: "1", m: "true" });
    delayed.code = RequestCode.SEND_BATCH_MESSAGE;
    expect((await invoke(delayed)).code).toBe(ResponseCode.MESSAGE_ILLEGAL);
  });

  test("delayed send is parked in SCHEDULE_TOPIC_XXXX queue level-1; the answer names the real queue", async () => {
    const r = await invoke(sendRequest("Four", "later", { DELAY: "3" }, { e: "0" }));
    expect(r.code).toBe(ResponseCode.SUCCESS);
    expect(r.extFields.queueId).toBe("0");
    expect(tb.broker.store.getMaxOffsetInQueue("SCHEDULE_TOPIC_XXXX", 2)).toBe(1);
    const parked = tb.broker.store.lookMessageByOffset(tb.broker.store.getCommitLogOffsetInQueue("SCHEDULE_TOPIC_XXXX", 2, 0))!;
    expect(parked.properties).toMatchObject({ REAL_TOPIC: "Four", REAL_QID: "0", DELAY: "3" });
  });

  test("%RETRY% send at maxReconsumeTimes goes to %DLQ% queue 0", async () => {
    const r = await invoke(sendRequest("%RETRY%GroupX", "dead", { DELAY: "3" }, { e: "0", j: "16", l: "16" }));
    expect(r.code).toBe(ResponseCode.SUCCESS);
    expect(tb.broker.topics.get("%DLQ%GroupX")).toMatchObject({ writeQueueNums: 1, perm: 6 });
    const m = await pullOne("%DLQ%GroupX", 0, 0);
    expect(m.reconsumeTimes).toBe(16);
    expect(m.properties.DELAY).toBeUndefined();
  });
});
