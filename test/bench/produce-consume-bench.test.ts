// The produce and consume benches against a real in-process NameServer + broker.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ConsumeBench, type ConsumeBenchOptions } from "../../src/bench/consume-bench.ts";
import { ProduceBench, type ProduceBenchOptions } from "../../src/bench/produce-bench.ts";
import { startTestBroker, type TestBroker } from "./broker-fixture.ts";

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker?.stop();
});

function produceOptions(topic: string, over: Partial<ProduceBenchOptions> = {}): ProduceBenchOptions {
  return {
    namesrvAddr: [broker.namesrvAddr],
    topic,
    senders: 4,
    messageSizeBytes: 1024,
    keys: false,
    tagCount: 0,
    async: false,
    batchSize: 1,
    delayLevel: 0,
    count: 200,
    durationMs: undefined,
    reportIntervalMs: 60_000,
    serializeType: "JSON",
    lean: false,
    ...over,
  };
}

function consumeOptions(topic: string, count: number, over: Partial<ConsumeBenchOptions> = {}): ConsumeBenchOptions {
  return {
    namesrvAddr: [broker.namesrvAddr],
    topic,
    group: `bench_test_${topic}`,
    filter: "*",
    fromFirst: true,
    count,
    durationMs: undefined,
    reportIntervalMs: 60_000,
    serializeType: "JSON",
    consumeBatchSize: 1,
    ...over,
  };
}

describe("ProduceBench", () => {
  test("sends exactly --count messages with sync senders and reports RT percentiles in order", async () => {
    const lines: string[] = [];
    const s = await new ProduceBench(produceOptions("BenchSync"), (l) => lines.push(l)).run();
    expect(s.sent).toBe(200);
    expect(s.sendFailed + s.responseFailed).toBe(0);
    expect(s.tps).toBeGreaterThan(0);
    expect(s.p50RtMs).toBeGreaterThan(0);
    expect(s.p50RtMs).toBeLessThanOrEqual(s.p99RtMs);
    expect(s.p99RtMs).toBeLessThanOrEqual(s.p999RtMs);
    expect(s.p999RtMs).toBeLessThanOrEqual(s.maxRtMs);
    expect(s.cpuUsPerMessage).toBeGreaterThan(0);
  });

  test("async sends, batches, keys, tags and the ROCKETMQ header all reach the broker", async () => {
    const asyncRun = await new ProduceBench(produceOptions("BenchMixed", { async: true, senders: 16, keys: true, tagCount: 3 }), () => {}).run();
    expect(asyncRun.sent).toBe(200);
    const batchRun = await new ProduceBench(produceOptions("BenchMixed", { batchSize: 32, count: 100 }), () => {}).run();
    // 100 = 3 batches of 32 + one of 4.
    expect(batchRun.sent).toBe(100);
    const binaryRun = await new ProduceBench(produceOptions("BenchMixed", { serializeType: "ROCKETMQ", count: 50 }), () => {}).run();
    expect(binaryRun.sent).toBe(50);
    expect(asyncRun.sendFailed + batchRun.sendFailed + binaryRun.sendFailed + asyncRun.responseFailed + batchRun.responseFailed + binaryRun.responseFailed).toBe(0);

    // Everything is in the topic: 3 warm-up sends + 200 + 100 + 50, consumed over the ROCKETMQ header.
    const c = await new ConsumeBench(consumeOptions("BenchMixed", 353, { serializeType: "ROCKETMQ", consumeBatchSize: 8 }), () => {}).run();
    expect(c.consumed).toBe(353);
  });

  test("the lean path sends the same requests without the Producer, in JSON and ROCKETMQ headers", async () => {
    const json = await new ProduceBench(produceOptions("BenchLean", { lean: true, senders: 8, keys: true, tagCount: 2 }), () => {}).run();
    const binary = await new ProduceBench(produceOptions("BenchLean", { lean: true, count: 100, serializeType: "ROCKETMQ" }), () => {}).run();
    expect(json.sent).toBe(200);
    expect(binary.sent).toBe(100);
    expect(json.sendFailed + json.responseFailed + binary.sendFailed + binary.responseFailed).toBe(0);
    // 2 warm-up sends + 300 lean ones, all stored and consumable.
    const c = await new ConsumeBench(consumeOptions("BenchLean", 302), () => {}).run();
    expect(c.consumed).toBe(302);
  });

  test("a duration run stops by itself and prints live lines", async () => {
    const lines: string[] = [];
    const s = await new ProduceBench(produceOptions("BenchTimed", { count: undefined, durationMs: 700, reportIntervalMs: 200 }), (l) => lines.push(l)).run();
    expect(s.sent).toBeGreaterThan(0);
    expect(s.elapsedMs).toBeGreaterThanOrEqual(650);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines[0]).toMatch(/Send TPS: \d+ Max RT\(ms\): [\d.]+ Average RT\(ms\): [\d.]+ .*Send Failed: 0 Response Failed: 0/);
  });
});

describe("ConsumeBench", () => {
  test("drains a backlog from the first offset and measures born/store-to-consume latency", async () => {
    const started = Date.now();
    await new ProduceBench(produceOptions("BenchDrain", { count: 300, senders: 8 }), () => {}).run();
    const lines: string[] = [];
    const s = await new ConsumeBench(consumeOptions("BenchDrain", 301, { reportIntervalMs: 100 }), (l) => lines.push(l)).run();
    expect(s.consumed).toBe(301);
    expect(s.tps).toBeGreaterThan(0);
    expect(s.maxBornToConsumeMs).toBeGreaterThanOrEqual(s.averageBornToConsumeMs);
    expect(s.maxStoreToConsumeMs).toBeGreaterThanOrEqual(s.averageStoreToConsumeMs);
    // A message is born (client clock) before it is stored (broker clock, same host).
    expect(s.averageBornToConsumeMs).toBeGreaterThanOrEqual(s.averageStoreToConsumeMs);
    expect(s.maxBornToConsumeMs).toBeLessThanOrEqual(Date.now() - started);
    expect(lines.every((l) => /Consume TPS: \d+ Consumed: \d+/.test(l))).toBe(true);
  });

  test("stop() ends a run that has no count", async () => {
    const bench = new ConsumeBench(consumeOptions("BenchIdle", 0, { count: undefined, fromFirst: false }), () => {});
    const run = bench.run();
    setTimeout(() => bench.stop(), 300);
    const s = await run;
    expect(s.consumed).toBe(0);
    expect(s.tps).toBe(0);
  });
});
