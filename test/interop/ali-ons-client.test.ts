// The tsmq client library and ali-ons 3.12.0 through the tsmq broker (compiled `./tsmq standalone`),
// both directions: keys, tags, user properties and bodies (plain and compressed) arrive intact.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { AdminClient } from "../../src/client/admin.ts";
import type { ConsumedMessage } from "../../src/client/consumed-message.ts";
import { Producer } from "../../src/client/producer.ts";
import { PushConsumer } from "../../src/client/push-consumer.ts";
import { stopAllTsmq } from "../e2e/helpers.ts";
import { type Standalone, collectingLogger, startStandalone, text, waitUntil } from "../client/standalone-fixture.ts";

const ons = require("ali-ons") as {
  Producer: new (opts: Record<string, unknown>) => OnsProducer;
  Consumer: new (opts: Record<string, unknown>) => OnsConsumer;
  Message: new (topic: string, tags: string, body: string | Buffer) => OnsMessage;
};
interface OnsMessage {
  topic: string;
  tags: string;
  keys: string | string[];
  body: Buffer;
  properties: Record<string, string>;
  msgId: string;
}
interface OnsProducer {
  on(event: "error", fn: (err: Error) => void): void;
  ready(): Promise<void>;
  send(msg: OnsMessage): Promise<{ sendStatus: string; msgId: string }>;
  close(): Promise<void>;
}
interface OnsConsumer {
  subscribe(topic: string, expr: string, handler: (msg: OnsMessage) => Promise<unknown>): void;
  on(event: "error", fn: (err: Error) => void): void;
  ready(): Promise<void>;
  close(): Promise<void>;
}

const quietLogger = { info() {}, warn() {}, debug() {}, error() {} };
const logger = collectingLogger();
let sa: Standalone;
const cleanups: Array<() => Promise<unknown>> = [];

function onsOptions(): Record<string, unknown> {
  return { httpclient: {}, nameSrv: sa.namesrvAddr, logger: quietLogger, rebalanceInterval: 1_000, persistConsumerOffsetInterval: 1_000 };
}

beforeAll(async () => {
  sa = await startStandalone();
  const admin = new AdminClient({ namesrvAddr: sa.namesrvAddr, logger });
  for (const topic of ["OnsToTsmq", "TsmqToOns"]) await admin.createTopic(sa.brokerAddr, { topic, readQueueNums: 2, writeQueueNums: 2 });
  await waitUntil("routes", async () => (await admin.inst.fetchTopicRoute("TsmqToOns")) !== undefined);
  admin.close();
}, 120_000);

/**
 * A producer's or consumer's error listener goes when it closes, but the MQClient they share (an
 * ali-ons internal) can still report a failed reconnect after that: listen there as well.
 */
function listenOnSharedClient(client: object): void {
  const shared = (client as { _mqClient?: { on(event: "error", listener: (err: Error) => void): void } })._mqClient;
  shared?.on("error", (err) => logger.warn(err.message));
}

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  await sa?.stop();
  await stopAllTsmq();
});

test("tsmq producer → ali-ons consumer", async () => {
  const producer = new Producer({ namesrvAddr: sa.namesrvAddr, instanceName: "interop-p", groupName: "interop_tsmq_producer", logger }).start();
  cleanups.push(() => producer.shutdown());
  const big = "z".repeat(8_000); // compressed by the tsmq producer, inflated by ali-ons
  const sent = [
    await producer.send({ topic: "TsmqToOns", body: "from tsmq", tags: "TagA", keys: ["ka", "kb"], properties: { color: "blue" } }),
    await producer.send({ topic: "TsmqToOns", body: big, tags: "TagA", keys: "big" }),
    await producer.send({ topic: "TsmqToOns", body: "filtered out", tags: "TagB" }),
  ];
  const got: OnsMessage[] = [];
  const consumer = new ons.Consumer({ ...onsOptions(), consumerGroup: "CID_interop_ons", consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET" });
  consumer.on("error", (err) => logger.warn(err.message));
  listenOnSharedClient(consumer);
  cleanups.push(() => consumer.close());
  consumer.subscribe("TsmqToOns", "TagA", async (msg) => {
    got.push(msg);
  });
  await consumer.ready();
  await waitUntil("2 TagA messages at ali-ons", () => got.length >= 2, 30_000);
  const first = got.find((m) => m.body.toString() === "from tsmq")!;
  expect(first.tags).toBe("TagA");
  expect(first.keys).toBe("ka kb");
  expect(first.properties.color).toBe("blue");
  expect(first.properties.UNIQ_KEY).toBe(sent[0]!.msgId);
  expect(got.some((m) => m.body.toString() === big)).toBe(true);
  expect(got.every((m) => m.tags === "TagA")).toBe(true);
}, 60_000);

test("ali-ons producer → tsmq consumer", async () => {
  const producer = new ons.Producer({ ...onsOptions(), producerGroup: "PID_interop_ons" });
  producer.on("error", () => {}); // connection errors after close are ali-ons events, not failures
  listenOnSharedClient(producer);
  cleanups.push(() => producer.close());
  await producer.ready();
  const msg = new ons.Message("OnsToTsmq", "TagX", "from ali-ons");
  msg.keys = ["k1", "k2"];
  msg.properties.size = "L";
  expect((await producer.send(msg)).sendStatus).toBe("SEND_OK");
  const big = new ons.Message("OnsToTsmq", "TagX", "y".repeat(9_000)); // ali-ons compresses with sysFlag 0x1 only
  expect((await producer.send(big)).sendStatus).toBe("SEND_OK");

  const got: ConsumedMessage[] = [];
  const consumer = new PushConsumer({ namesrvAddr: sa.namesrvAddr, instanceName: "interop-c", groupName: "interop_tsmq_consumer", consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET", logger }).subscribe("OnsToTsmq", "TagX");
  cleanups.push(() => consumer.shutdown());
  consumer.registerMessageListener((msgs) => {
    got.push(...msgs);
    return "CONSUME_SUCCESS";
  });
  await consumer.start();
  await waitUntil("2 messages at tsmq", () => got.length >= 2, 30_000);
  const m = got.find((x) => text(x.body) === "from ali-ons")!;
  expect(m.tags).toBe("TagX");
  expect(m.keys).toBe("k1 k2");
  expect(m.properties.size).toBe("L");
  // ali-ons sets no UNIQ_KEY, so the consumer's msgId is the offset msgId.
  expect(m.msgId).toBe(m.offsetMsgId);
  expect(got.some((x) => text(x.body) === "y".repeat(9_000))).toBe(true);
}, 60_000);
