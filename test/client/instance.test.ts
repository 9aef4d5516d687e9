// The client instance and push consumer against a fake NameServer + broker built on RemotingServer:
// NameServer failover, fastjson route bodies, heartbeat contents, requests from the broker
// (running info, consume directly, ids changed, unknown codes), pull-body decoding with
// zlib bodies and client-side tag re-filtering, unregister at shutdown.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { deflateSync } from "node:zlib";
import { encodeRecord } from "../../src/common/message-codec.ts";
import { type MessageInner, propertiesToString, tagsHashCode } from "../../src/common/message.ts";
import type { ConsumedMessage } from "../../src/client/consumed-message.ts";
import { Producer } from "../../src/client/producer.ts";
import { PushConsumer } from "../../src/client/push-consumer.ts";
import { RequestCode, ResponseCode } from "../../src/remoting/codes.ts";
import { RemotingCommand } from "../../src/remoting/command.ts";
import type { Connection } from "../../src/remoting/connection.ts";
import { RemotingServer } from "../../src/remoting/server.ts";
import { collectingLogger, text, waitUntil } from "./standalone-fixture.ts";

const TOPIC = "FakeTopic";
const GROUP = "fake_group";
let server: RemotingServer;
let addr: string;
const seen: RemotingCommand[] = [];
let clientConn: Connection | undefined;
/** Groups that got their one batch of messages; later pulls are held. */
const pulled = new Set<string>();
const RETRY_GROUP = "fake_retry_group";
/** SYSTEM_ERROR answers given so far to the "fail-twice" message. */
let failures = 0;

function record(body: Uint8Array, tag: string, queueOffset: number, sysFlag = 0): Uint8Array {
  const properties = { TAGS: tag, UNIQ_KEY: `U${queueOffset}`, KEYS: `key${queueOffset}` };
  const msg: MessageInner = {
    topic: TOPIC,
    queueId: 0,
    flag: 0,
    body,
    properties,
    propertiesString: propertiesToString(properties),
    tagsCode: tagsHashCode(tag),
    sysFlag,
    bornTimestamp: 1,
    bornHost: "127.0.0.1:1000",
    storeHost: addr,
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
  };
  return encodeRecord(msg, queueOffset, 1000 + queueOffset, 2);
}

function handler(req: RemotingCommand, conn: Connection): RemotingCommand | null {
  seen.push(req);
  const ok = (ext: Record<string, string> = {}, body?: Uint8Array) => {
    const r = RemotingCommand.responseTo(req, ResponseCode.SUCCESS, undefined, ext);
    r.body = body;
    return r;
  };
  switch (req.code) {
    case RequestCode.GET_ROUTEINFO_BY_TOPIC: {
      if (req.extFields.topic !== TOPIC && req.extFields.topic !== `%RETRY%${RETRY_GROUP}`) {
        return RemotingCommand.responseTo(req, ResponseCode.TOPIC_NOT_EXIST, "no route");
      }
      // fastjson default mode: the brokerAddrs key is a bare number.
      const json = `{"brokerDatas":[{"brokerAddrs":{0:"${addr}"},"brokerName":"fake-b","cluster":"C"}],"filterServerTable":{},"queueDatas":[{"brokerName":"fake-b","perm":6,"readQueueNums":1,"topicSysFlag":0,"writeQueueNums":1}]}`;
      return ok({}, new TextEncoder().encode(json));
    }
    case RequestCode.HEART_BEAT:
      clientConn = conn;
      return ok();
    case RequestCode.GET_CONSUMER_LIST_BY_GROUP:
      return ok({}, new TextEncoder().encode(JSON.stringify({ consumerIdList: ["127.0.0.1@fake-instance"] })));
    case RequestCode.CONSUMER_SEND_MSG_BACK:
      return RemotingCommand.responseTo(req, ResponseCode.SYSTEM_ERROR, "send back refused by the fake");
    case RequestCode.SEND_MESSAGE_V2:
    case RequestCode.SEND_BATCH_MESSAGE: {
      const body = req.body ? text(req.body) : "";
      if (body === "illegal") return RemotingCommand.responseTo(req, ResponseCode.MESSAGE_ILLEGAL, "illegal on purpose");
      if (body === "fail-twice" && failures++ < 2) return RemotingCommand.responseTo(req, ResponseCode.SYSTEM_ERROR, "transient");
      return ok({ msgId: "7F0000010000000000000000000000FF", queueId: req.extFields.e!, queueOffset: "7" });
    }
    case RequestCode.QUERY_CONSUMER_OFFSET:
      return RemotingCommand.responseTo(req, ResponseCode.QUERY_NOT_FOUND, "not found");
    case RequestCode.PULL_MESSAGE: {
      const group = req.extFields.consumerGroup!;
      if (req.extFields.topic !== TOPIC || pulled.has(group)) return null; // hold: long polling that never wakes
      pulled.add(group);
      const big = new TextEncoder().encode("z".repeat(5000));
      const body = Buffer.concat([
        record(new TextEncoder().encode("wanted"), "Aa", 0),
        record(new TextEncoder().encode("collision"), "BB", 1), // "BB".hashCode() == "Aa".hashCode()
        record(deflateSync(big), "Aa", 2, 0x1 | 0x300),
      ]);
      return ok({ nextBeginOffset: "3", minOffset: "0", maxOffset: "3", suggestWhichBrokerId: "0" }, body);
    }
    case RequestCode.UPDATE_CONSUMER_OFFSET:
    case RequestCode.UNREGISTER_CLIENT:
      return ok();
    default:
      return RemotingCommand.responseTo(req, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, "not in the fake");
  }
}

beforeAll(async () => {
  server = new RemotingServer({ port: 0, host: "127.0.0.1", name: "fake" });
  for (const code of Object.values(RequestCode)) server.registerProcessor(code, handler);
  await server.start();
  addr = `127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server.stop();
});

test("consumer instance against a fake namesrv and broker", async () => {
  const logger = collectingLogger();
  const got: ConsumedMessage[] = [];
  const consumer = new PushConsumer({
    namesrvAddr: `127.0.0.1:1;${addr}`, // the first NameServer is down
    clientIP: "127.0.0.1",
    instanceName: "fake-instance",
    groupName: GROUP,
    consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET",
    logger,
  }).subscribe(TOPIC, "Aa");
  consumer.registerMessageListener((msgs) => {
    got.push(...msgs);
    return "CONSUME_SUCCESS";
  });
  try {
    await consumer.start();
    await waitUntil("two messages", () => got.length >= 2);
    expect(got.map((m) => [m.tags, m.queueOffset, m.msgId])).toEqual([["Aa", 0, "U0"], ["Aa", 2, "U2"]]);
    expect(text(got[0]!.body)).toBe("wanted");
    expect(text(got[1]!.body)).toBe("z".repeat(5000));
    expect(got[1]!.properties.MAX_OFFSET).toBe("3");

    const hb = seen.find((r) => r.code === RequestCode.HEART_BEAT)!;
    const data = JSON.parse(text(hb.body!));
    expect(data.clientID).toBe("127.0.0.1@fake-instance");
    expect(data.consumerDataSet[0]).toMatchObject({ groupName: GROUP, consumeType: "CONSUME_PASSIVELY", messageModel: "CLUSTERING", consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET" });
    expect(data.consumerDataSet[0].subscriptionDataSet.map((s: { topic: string }) => s.topic).sort()).toEqual([`%RETRY%${GROUP}`, TOPIC]);
    const pull = seen.find((r) => r.code === RequestCode.PULL_MESSAGE)!;
    expect(pull.extFields).toMatchObject({ consumerGroup: GROUP, topic: TOPIC, queueId: "0", queueOffset: "0", maxMsgNums: "32", sysFlag: "6", subscription: "Aa", suspendTimeoutMillis: "15000" });

    // Requests the broker sends on the client's connection.
    const info = await clientConn!.invoke(RemotingCommand.request(RequestCode.GET_CONSUMER_RUNNING_INFO, { consumerGroup: GROUP, clientId: "x" }), 3000);
    expect(info.code).toBe(ResponseCode.SUCCESS);
    const running = JSON.parse(text(info.body!));
    expect(running.properties.PROP_CONSUME_TYPE).toBe("CONSUME_PASSIVELY");
    expect(Object.keys(running.mqTable).map((k) => JSON.parse(k).topic)).toContain(TOPIC);
    const unknownGroup = await clientConn!.invoke(RemotingCommand.request(RequestCode.GET_CONSUMER_RUNNING_INFO, { consumerGroup: "nope", clientId: "x" }), 3000);
    expect(unknownGroup.code).toBe(ResponseCode.SYSTEM_ERROR);
    const direct = await clientConn!.invoke(
      RemotingCommand.request(RequestCode.CONSUME_MESSAGE_DIRECTLY, { consumerGroup: GROUP, brokerName: "fake-b" }, record(new TextEncoder().encode("direct"), "Aa", 9)),
      3000,
    );
    expect(JSON.parse(text(direct.body!))).toMatchObject({ consumeResult: "CR_SUCCESS", order: false, autoCommit: true });
    expect(got.some((m) => text(m.body) === "direct")).toBe(true);
    const unsupported = await clientConn!.invoke(RemotingCommand.request(999, {}), 3000);
    expect(unsupported.code).toBe(ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
    const listsBefore = seen.filter((r) => r.code === RequestCode.GET_CONSUMER_LIST_BY_GROUP).length;
    clientConn!.invokeOneway(RemotingCommand.request(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, { consumerGroup: GROUP }));
    await waitUntil("a rebalance after NOTIFY_CONSUMER_IDS_CHANGED", () => seen.filter((r) => r.code === RequestCode.GET_CONSUMER_LIST_BY_GROUP).length > listsBefore);
  } finally {
    await consumer.shutdown();
  }
  const unregister = seen.find((r) => r.code === RequestCode.UNREGISTER_CLIENT)!;
  expect(unregister.extFields).toMatchObject({ clientID: "127.0.0.1@fake-instance", consumerGroup: GROUP });
  // The shutdown commit is synchronous and carries the consumed position.
  const commits = seen.filter((r) => r.code === RequestCode.UPDATE_CONSUMER_OFFSET && r.extFields.topic === TOPIC);
  expect(commits.at(-1)!.extFields.commitOffset).toBe("3");
});

test("a failed send-back falls back to the retry topic through the internal producer", async () => {
  const logger = collectingLogger();
  const deliveries: string[] = [];
  const consumer = new PushConsumer({
    namesrvAddr: addr,
    clientIP: "127.0.0.1",
    instanceName: "fake-instance",
    groupName: RETRY_GROUP,
    consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET",
    logger,
  }).subscribe(TOPIC, "Aa");
  consumer.registerMessageListener((msgs) => {
    for (const m of msgs) deliveries.push(text(m.body));
    return msgs.some((m) => text(m.body) === "wanted") ? "RECONSUME_LATER" : "CONSUME_SUCCESS";
  });
  try {
    await consumer.start();
    await waitUntil("the retry-topic send", () => seen.some((r) => r.code === RequestCode.SEND_MESSAGE_V2));
  } finally {
    await consumer.shutdown();
  }
  const back = seen.find((r) => r.code === RequestCode.CONSUMER_SEND_MSG_BACK)!;
  expect(back.extFields).toMatchObject({ group: RETRY_GROUP, offset: "1000", delayLevel: "0", originMsgId: "U0", originTopic: TOPIC, maxReconsumeTimes: "16" });
  const send = seen.find((r) => r.code === RequestCode.SEND_MESSAGE_V2)!;
  expect(send.extFields).toMatchObject({ a: "CLIENT_INNER_PRODUCER", b: `%RETRY%${RETRY_GROUP}`, j: "1", l: "16" });
  const props = Object.fromEntries(send.extFields.i!.split("\u0002").map((kv) => kv.split("\u0001")));
  expect(props).toMatchObject({ RETRY_TOPIC: TOPIC, ORIGIN_MESSAGE_ID: "U0", UNIQ_KEY: "U0", DELAY: "3", TAGS: "Aa", KEYS: "key0" });
  expect(props.RECONSUME_TIME).toBeUndefined(); // moved into header j
  // Handed to the retry topic, the message counts as consumed: the commit moves past all three.
  const commits = seen.filter((r) => r.code === RequestCode.UPDATE_CONSUMER_OFFSET && r.extFields.consumerGroup === RETRY_GROUP && r.extFields.topic === TOPIC);
  expect(commits.at(-1)!.extFields.commitOffset).toBe("3");
});

test("producer: retries on retriable codes, fails fast on others, compresses, batches", async () => {
  const logger = collectingLogger();
  const producer = new Producer({ namesrvAddr: addr, clientIP: "127.0.0.1", instanceName: "fake-producer", groupName: "fake_pg", logger }).start();
  const sends = () => seen.filter((r) => r.code === RequestCode.SEND_MESSAGE_V2);
  try {
    const before = sends().length;
    const r = await producer.send({ topic: TOPIC, body: "fail-twice", tags: "T", keys: "K" });
    expect(r).toMatchObject({ sendStatus: "SEND_OK", offsetMsgId: "7F0000010000000000000000000000FF", queueOffset: 7 });
    expect(r.messageQueue).toEqual({ topic: TOPIC, brokerName: "fake-b", queueId: 0 });
    expect(sends().length - before).toBe(3); // 1 + retryTimesWhenSendFailed (2)
    const header = sends().at(-1)!.extFields;
    expect(header).toMatchObject({ a: "fake_pg", b: TOPIC, c: "TBW102", d: "4", e: "0", f: "0", h: "0", j: "0", k: "false", m: "false", n: "fake-b" });
    expect(header.i).toContain(`UNIQ_KEY\u0001${r.msgId}`);
    expect(header.i).toContain("TAGS\u0001T");

    const beforeIllegal = sends().length;
    await expect(producer.send({ topic: TOPIC, body: "illegal" })).rejects.toMatchObject({ code: ResponseCode.MESSAGE_ILLEGAL, remark: "illegal on purpose" });
    expect(sends().length - beforeIllegal).toBe(1);

    await producer.send({ topic: TOPIC, body: "q".repeat(5_000) });
    expect(sends().at(-1)!.extFields.f).toBe(String(0x1 | 0x300)); // zlib-compressed
    expect(sends().at(-1)!.body!.length).toBeLessThan(5_000);

    const batch = await producer.sendBatch([{ topic: TOPIC, body: "b1" }, { topic: TOPIC, body: "b2" }]);
    const req = seen.filter((x) => x.code === RequestCode.SEND_BATCH_MESSAGE).at(-1)!;
    expect(req.extFields.m).toBe("true");
    expect(req.extFields.i).toBe("WAIT\u0001true");
    expect(batch.msgId.split(",")).toHaveLength(2);
    await expect(producer.sendBatch([{ topic: TOPIC, body: "x", delayLevel: 2 }])).rejects.toThrow(/not supported for batching/);
  } finally {
    await producer.shutdown();
  }
});
