import { afterAll, describe, expect, test } from "bun:test";
import { RuntimeStats } from "../../src/broker/runtime-stats.ts";
import { decodeFastjson } from "../../src/common/fastjson.ts";
import { RequestCode, ResponseCode } from "../../src/remoting/codes.ts";
import { RemotingCommand } from "../../src/remoting/command.ts";
import { INVOKE_TIMEOUT_MS, jsonOf, pullRequest, sendRequest, startTestBroker, type TestBroker } from "./helpers.ts";

function fakeSource() {
  const state = { puts: 0, nowMs: 1_000_000 };
  return { state, source: { putTimesTotal: () => state.puts, now: () => state.nowMs } };
}

describe("RuntimeStats", () => {
  test("TPS over 10/60/600 samples, empty while a window is longer than the samples taken (as Java)", () => {
    const { state, source } = fakeSource();
    const stats = new RuntimeStats(source);
    stats.sample();
    expect(stats.runtimeInfo().putTps).toBe("  ");
    // 100 puts and 40 transferred per second for 61 seconds.
    for (let s = 1; s <= 61; s++) {
      state.nowMs += 1_000;
      state.puts += 100;
      stats.addTransferred("G", "T", 40);
      stats.sample();
    }
    expect(stats.runtimeInfo().putTps).toBe("100.0 100.0 ");
    expect(stats.runtimeInfo().getTransferedTps).toBe("40.0 40.0 ");
    // Fill the ring past 600 samples; the oldest drop out, rates stay right.
    for (let s = 0; s < 700; s++) {
      state.nowMs += 1_000;
      state.puts += s % 2 === 0 ? 3 : 0;
      stats.sample();
    }
    expect(stats.runtimeInfo().putTps).toBe("1.5 1.5 1.5");
    expect(stats.runtimeInfo().getTransferedTps).toBe("0.0 0.0 0.0");
  });

  test("getFoundTps / getMissTps / getTotalTps count store reads found or not; latencies turn every minute", () => {
    const { state, source } = fakeSource();
    const stats = new RuntimeStats(source);
    stats.sample();
    // 3 found and 1 missed read per second for 61 seconds; one put of 25 ms.
    stats.recordPut(25);
    for (let s = 1; s <= 61; s++) {
      state.nowMs += 1_000;
      for (let i = 0; i < 3; i++) stats.recordGet(true, 2);
      stats.recordGet(false, 0);
      stats.sample();
    }
    const info = stats.runtimeInfo();
    expect([info.getFoundTps, info.getMissTps, info.getTotalTps]).toEqual(["3.0 3.0 ", "1.0 1.0 ", "4.0 4.0 "]);
    expect([info.putMessageEntireTimeMax, info.getMessageEntireTimeMax]).toEqual(["25", "2"]);
    // The 60th sample closed the first minute: its distribution is reported.
    expect(info.putMessageDistributeTime).toStartWith("[<=0ms]:0 [0~10ms]:0 [10~50ms]:1 ");
  });

  test("per-group pull TPS over the last minute, sampled every 10 s (GET_CONSUME_STATS consumeTps)", () => {
    const { state, source } = fakeSource();
    const stats = new RuntimeStats(source);
    expect(stats.groupTransferredTps("G", "T")).toBe(0);
    // 50 messages per second to G on T, 10 per second to H on T, for 90 seconds.
    for (let s = 0; s < 90; s++) {
      stats.addTransferred("G", "T", 50);
      stats.addTransferred("H", "T", 10);
      stats.sample();
      state.nowMs += 1_000;
    }
    expect(stats.groupTransferredTps("G", "T")).toBe(50);
    expect(stats.groupTransferredTps("H", "T")).toBe(10);
    expect(stats.groupTransferredTps("G", "other")).toBe(0);
  });

  test("daily totals: now, this morning and yesterday morning", () => {
    const { state, source } = fakeSource();
    const stats = new RuntimeStats(source);
    state.puts = 7;
    stats.addTransferred("G", "T", 3);
    stats.recordMorning();
    state.puts = 20;
    stats.addTransferred("G", "T", 5);
    stats.recordMorning();
    state.puts = 25;
    expect(stats.runtimeInfo()).toMatchObject({
      msgPutTotalTodayNow: "25",
      msgPutTotalTodayMorning: "20",
      msgPutTotalYesterdayMorning: "7",
      msgGetTotalTodayNow: "8",
      msgGetTotalTodayMorning: "8",
      msgGetTotalYesterdayMorning: "3",
    });
  });
});

describe("GET_BROKER_RUNTIME_INFO counts puts and pulled messages", () => {
  let tb: TestBroker;
  afterAll(async () => {
    await tb?.destroy();
  });

  test("msgPutTotalTodayNow and msgGetTotalTodayNow follow sends and pulls", async () => {
    tb = await startTestBroker();
    for (let i = 0; i < 5; i++) expect((await tb.client.invoke(tb.addr, sendRequest("StatsTopic", `m${i}`), INVOKE_TIMEOUT_MS)).code).toBe(ResponseCode.SUCCESS);
    const pulled = await tb.client.invoke(tb.addr, pullRequest("G-stats", "StatsTopic", 0, 0), INVOKE_TIMEOUT_MS);
    expect(pulled.code).toBe(ResponseCode.SUCCESS);
    const table = jsonOf(await tb.client.invoke(tb.addr, RemotingCommand.request(RequestCode.GET_BROKER_RUNTIME_INFO, {}), INVOKE_TIMEOUT_MS)).table;
    expect(table.msgPutTotalTodayNow).toBe("5");
    expect(table.msgGetTotalTodayNow).toBe("5");
    expect(typeof table.putTps).toBe("string");
    const consumeStats = await tb.client.invoke(tb.addr, RemotingCommand.request(RequestCode.GET_CONSUME_STATS, { consumerGroup: "G-stats", topic: "StatsTopic" }), INVOKE_TIMEOUT_MS);
    expect(typeof (decodeFastjson(consumeStats.body!) as { consumeTps: unknown }).consumeTps).toBe("number");
  });
});
