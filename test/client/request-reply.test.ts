// Request–reply with the tsmq client on both sides, against an in-process NameServer and broker over
// real sockets: request / requestAsync / requestOrderly each get their own reply (matched by body),
// a request nobody answers times out, and the pieces (RequestTable, createReplyMessage, the pushed
// reply's decoding) on their own.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { deflateSync } from "node:zlib";
import path from "node:path";
import { propertiesToString } from "../../src/common/message.ts";
import { encodeReplyMessageHeader } from "../../src/common/reply-message-header.ts";
import { newTopicConfig } from "../../src/common/topic.ts";
import { parseNamesrvConfig } from "../../src/config/namesrv-config.ts";
import { NameServer } from "../../src/namesrv/namesrv.ts";
import { RequestCode } from "../../src/remoting/codes.ts";
import { RemotingCommand } from "../../src/remoting/command.ts";
import { Producer } from "../../src/client/producer.ts";
import { PushConsumer } from "../../src/client/push-consumer.ts";
import { createReplyMessage, MAX_PENDING_REQUESTS, replyMessageFromPush, type ReplyMessage, RequestTable, RequestTimeoutError } from "../../src/client/request-reply.ts";
import { makeTempDir, startTestBroker, type TestBroker } from "../broker/helpers.ts";
import { collectingLogger } from "./standalone-fixture.ts";

const TOPIC = "RequestTopic";
const SILENT_TOPIC = "NobodyAnswers";
const QUEUES = 4;
const REQUESTS = 20;
const REQUEST_TIMEOUT_MS = 5_000;
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe("tsmq requester × tsmq replier", () => {
  let namesrv: NameServer;
  let tb: TestBroker;
  let requester: Producer;
  let replyProducer: Producer;
  let replier: PushConsumer;
  /** Queue id of every request the replier got, by body. */
  const requestQueues = new Map<string, number>();
  const logger = collectingLogger();

  beforeAll(async () => {
    namesrv = new NameServer({ config: parseNamesrvConfig(new Map(), { listenPort: 0, kvConfigPath: path.join(makeTempDir("tsmq-rr-ns-"), "kvConfig.json") }).config, host: "127.0.0.1" });
    await namesrv.start();
    const namesrvAddr = `127.0.0.1:${namesrv.port}`;
    tb = await startTestBroker({ overrides: { namesrvAddr } });
    for (const topic of [TOPIC, SILENT_TOPIC]) tb.broker.topics.update(newTopicConfig(topic, { readQueueNums: QUEUES, writeQueueNums: QUEUES }));
    await tb.broker.registerBrokerAll();

    replyProducer = new Producer({ namesrvAddr, instanceName: "replier", groupName: "G_reply_producer", logger }).start();
    replier = new PushConsumer({ namesrvAddr, instanceName: "replier", groupName: "G_replier", consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET", logger, rebalanceIntervalMs: 500 });
    replier.subscribe(TOPIC, "*").registerMessageListener(async (msgs) => {
      for (const m of msgs) {
        requestQueues.set(text(m.body), m.queueId);
        await replyProducer.send(createReplyMessage(m, `reply-${text(m.body)}`));
      }
      return "CONSUME_SUCCESS" as const;
    });
    await replier.start();
    requester = new Producer({ namesrvAddr, instanceName: "requester", groupName: "G_requester", logger }).start();
  });

  afterAll(async () => {
    await requester?.shutdown();
    await replier?.shutdown();
    await replyProducer?.shutdown();
    await tb?.destroy();
    await namesrv?.shutdown();
  });

  test("request: every request, sequential and concurrent, resolves with its own reply", async () => {
    const first = await requester.request({ topic: TOPIC, body: "seq-0" }, REQUEST_TIMEOUT_MS);
    expect(text(first.body)).toBe("reply-seq-0");
    expect(first.topic).toBe("DefaultCluster_REPLY_TOPIC");
    expect(first.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.properties.REPLY_TO_CLIENT).toBe(requester.clientId);
    expect(Number(first.properties.ARRIVE_TIME)).toBeGreaterThan(0);

    const bodies = Array.from({ length: REQUESTS }, (_, i) => `par-${i}`);
    const replies = await Promise.all(bodies.map((body) => requester.request({ topic: TOPIC, body }, REQUEST_TIMEOUT_MS)));
    expect(replies.map((r) => text(r.body))).toEqual(bodies.map((b) => `reply-${b}`));
    expect(new Set(replies.map((r) => r.correlationId)).size).toBe(REQUESTS);
  });

  test("requestAsync: each callback gets its own reply, once", async () => {
    const got = new Map<string, string[]>();
    const errors: Error[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const body = `cb-${i}`;
      requester.requestAsync(
        { topic: TOPIC, body },
        {
          onSuccess: (reply) => got.set(body, [...(got.get(body) ?? []), text(reply.body)]),
          onException: (err) => errors.push(err),
        },
        REQUEST_TIMEOUT_MS,
      );
    }
    const deadline = Date.now() + REQUEST_TIMEOUT_MS * 2;
    while (got.size + errors.length < REQUESTS && Date.now() < deadline) await Bun.sleep(5);
    expect(errors).toEqual([]);
    expect(got.size).toBe(REQUESTS);
    for (const [body, seen] of got) expect(seen).toEqual([`reply-${body}`]);
  });

  test("requestOrderly: the selector's queue carries the request", async () => {
    for (let q = 0; q < QUEUES; q++) {
      const body = `sel-${q}`;
      const reply: ReplyMessage = await requester.requestOrderly({ topic: TOPIC, body }, (queues, _m, arg) => queues.find((mq) => mq.queueId === arg)!, q, REQUEST_TIMEOUT_MS);
      expect(text(reply.body)).toBe(`reply-${body}`);
      expect(requestQueues.get(body)).toBe(q);
    }
  });

  test("requestToQueue: that queue; a queue of another topic fails the request at once", async () => {
    const reply = await requester.requestToQueue({ topic: TOPIC, body: "to-q2" }, { topic: TOPIC, brokerName: "broker-test", queueId: 2 }, REQUEST_TIMEOUT_MS);
    expect(text(reply.body)).toBe("reply-to-q2");
    expect(requestQueues.get("to-q2")).toBe(2);
    const err = await requester.requestToQueue({ topic: TOPIC, body: "x" }, { topic: "Other", brokerName: "broker-test", queueId: 0 }, REQUEST_TIMEOUT_MS).catch((e) => e);
    expect(err.message).toBe(`send request message to <${TOPIC}> fail`);
    expect(err.cause.message).toBe(`message topic ${TOPIC} differs from queue topic Other`);
  });

  test("large bodies: request and reply compressed on the wire, inflated on arrival", async () => {
    const body = "x".repeat(20_000);
    const reply = await requester.request({ topic: TOPIC, body }, REQUEST_TIMEOUT_MS);
    expect(reply.sysFlag & 0x1).toBe(0x1); // the replier's producer compressed it
    expect(text(reply.body)).toBe(`reply-${body}`);
  });

  test("no replier: RequestTimeoutError after the timeout", async () => {
    const started = Date.now();
    const err = await requester.request({ topic: SILENT_TOPIC, body: "unanswered" }, 300).catch((e) => e);
    expect(err).toBeInstanceOf(RequestTimeoutError);
    expect(err.code).toBe(10006);
    expect(err.message).toBe(`send request message to <${SILENT_TOPIC}> OK, but wait reply message timeout, 300 ms.`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });
});

describe("request-reply pieces", () => {
  test("createReplyMessage: the cluster's reply topic, correlation id, requester and TTL carried back", () => {
    const request = { properties: { CLUSTER: "C1", CORRELATION_ID: "id-1", REPLY_TO_CLIENT: "10.0.0.1@req", TTL: "3000", KEYS: "k" } };
    expect(createReplyMessage(request, "pong")).toEqual({
      topic: "C1_REPLY_TOPIC",
      body: "pong",
      properties: { MSG_TYPE: "reply", CORRELATION_ID: "id-1", REPLY_TO_CLIENT: "10.0.0.1@req", TTL: "3000" },
    });
    expect(() => createReplyMessage({ properties: {} }, "x")).toThrow("property[CLUSTER] is null");
  });

  test("a pushed reply is decoded from Java's ReplyMessageRequestHeader; a zlib body inflated", () => {
    const header = encodeReplyMessageHeader({
      producerGroup: "G",
      topic: "DefaultCluster_REPLY_TOPIC",
      defaultTopic: "TBW102",
      defaultTopicQueueNums: 4,
      queueId: 0,
      sysFlag: 0x301, // COMPRESSED | zlib
      bornTimestamp: 1_796_677_001_890,
      flag: 0,
      properties: propertiesToString({ CORRELATION_ID: "c-9", MSG_TYPE: "reply" }),
      reconsumeTimes: 0,
      unitMode: false,
      bornHost: "192.0.2.2:40000",
      storeHost: "192.0.2.1:10911",
      storeTimestamp: 1_796_677_001_900,
    });
    const push = RemotingCommand.request(RequestCode.PUSH_REPLY_MESSAGE_TO_CLIENT, header, new Uint8Array(deflateSync("big reply")));
    const reply = replyMessageFromPush(push, 42);
    expect(text(reply.body)).toBe("big reply");
    expect(reply).toMatchObject({ correlationId: "c-9", bornHost: "192.0.2.2:40000", storeHost: "192.0.2.1:10911", storeTimestamp: 1_796_677_001_900 });
    expect(reply.properties.ARRIVE_TIME).toBe("42");
    delete push.extFields.storeHost;
    expect(() => replyMessageFromPush(push, 0)).toThrow("<storeHost>");
  });

  test("RequestTable: bounded, a reply ends its request once, a failed send fails it", async () => {
    const table = new RequestTable();
    const handles = Array.from({ length: MAX_PENDING_REQUESTS }, (_, i) => table.add(`id-${i}`, "T", 60_000));
    expect(() => table.add("one-more", "T", 60_000)).toThrow(`${MAX_PENDING_REQUESTS} requests already wait`);
    const reply = { correlationId: "id-0" } as ReplyMessage;
    expect(table.complete(reply)).toBe(true);
    expect(table.complete(reply)).toBe(false);
    expect(await handles[0]!.reply).toBe(reply);
    handles[1]!.sendFailed(new Error("broker down"));
    expect(await handles[1]!.reply.catch((e) => e.message)).toBe("send request message to <T> fail");
    table.failAll(new Error("closed"));
    expect(table.size).toBe(0);
    await Promise.all(handles.slice(2).map((h) => h.reply.catch(() => undefined)));
  });
});
