// Orderly consumption against the compiled `./tsmq standalone`: messages of one order go to one
// queue (hash selector), and each order's steps are seen in sequence while a second consumer joins
// the group and takes over queues (broker locks, unlock on drop).

import { afterAll, beforeAll, expect, test } from "bun:test";
import { AdminClient } from "../../src/client/admin.ts";
import { Producer, selectByHash } from "../../src/client/producer.ts";
import { PushConsumer } from "../../src/client/push-consumer.ts";
import { stopAllTsmq } from "./helpers.ts";
import { type Standalone, collectingLogger, startStandalone, text, waitUntil } from "../client/standalone-fixture.ts";

const TOPIC = "E2E_Orderly";
const GROUP = "e2e_orderly";
const ORDERS = 8;
const STEPS = 25;

let sa: Standalone;
const logger = collectingLogger();
const consumers: PushConsumer[] = [];

beforeAll(async () => {
  sa = await startStandalone();
}, 120_000);

afterAll(async () => {
  for (const c of consumers) await c.shutdown();
  await sa?.stop();
  await stopAllTsmq();
});

test("per-order sequence holds while a second consumer joins", async () => {
  const admin = new AdminClient({ namesrvAddr: sa.namesrvAddr, logger });
  await admin.createTopic(sa.brokerAddr, { topic: TOPIC, readQueueNums: 4, writeQueueNums: 4, order: true });
  await waitUntil("route", async () => (await admin.inst.fetchTopicRoute(TOPIC)) !== undefined);
  admin.close();

  const producer = new Producer({ namesrvAddr: sa.namesrvAddr, instanceName: "orderly-producer", groupName: "e2e_orderly_producer", logger }).start();
  for (let step = 0; step < STEPS; step++) {
    for (let order = 0; order < ORDERS; order++) {
      await producer.sendOrderly({ topic: TOPIC, body: `${order}:${step}`, keys: `order-${order}` }, selectByHash, order);
    }
  }
  await producer.shutdown();

  const events: Array<{ order: number; step: number; consumer: number; queueId: number }> = [];
  const makeConsumer = (index: number) => {
    const c = new PushConsumer({
      namesrvAddr: sa.namesrvAddr,
      instanceName: `orderly-${index}`,
      groupName: GROUP,
      consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET",
      rebalanceIntervalMs: 500,
      logger,
    }).subscribe(TOPIC);
    c.registerOrderlyListener(async (msgs, ctx) => {
      for (const m of msgs) {
        const [order, step] = text(m.body).split(":").map(Number) as [number, number];
        events.push({ order, step, consumer: index, queueId: ctx.messageQueue.queueId });
      }
      await Bun.sleep(2); // slow enough that the second consumer joins mid-stream
      return "SUCCESS" as const;
    });
    consumers.push(c);
    return c;
  };

  await makeConsumer(0).start();
  await waitUntil("first consumer under way", () => events.length >= 20);
  await makeConsumer(1).start();
  const distinct = () => new Set(events.map((e) => `${e.order}:${e.step}`)).size;
  await waitUntil("every step of every order", () => distinct() === ORDERS * STEPS, 60_000);

  // Each order lives on one queue, and no step is seen before its predecessor was.
  const maxSeen = new Map<number, number>();
  const queueOf = new Map<number, number>();
  for (const e of events) {
    expect(e.step).toBeLessThanOrEqual((maxSeen.get(e.order) ?? -1) + 1);
    maxSeen.set(e.order, Math.max(maxSeen.get(e.order) ?? -1, e.step));
    expect(queueOf.get(e.order) ?? e.queueId).toBe(e.queueId);
    queueOf.set(e.order, e.queueId);
  }
  // The second consumer took over some queues.
  expect(events.some((e) => e.consumer === 1)).toBe(true);
}, 90_000);
