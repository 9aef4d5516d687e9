import { describe, expect, test } from "bun:test";
import { PutLatency } from "../../src/broker/put-latency.ts";

describe("PutLatency (Java StoreStatsService put/get times)", () => {
  test("first minute: maxima count, the distribution is \"null\" and the percentiles 0.00, as Java prints them", () => {
    const l = new PutLatency();
    l.recordPut(3);
    l.recordPut(40);
    l.recordGet(7);
    expect(l.runtimeInfo()).toEqual({
      putMessageEntireTimeMax: "40",
      getMessageEntireTimeMax: "7",
      putMessageDistributeTime: "null",
      putLatency99: "0.00",
      putLatency999: "0.00",
    });
  });

  test("after a minute: Java's 13 ranges and interpolated percentiles of that minute", () => {
    const l = new PutLatency();
    for (let i = 0; i < 4; i++) l.recordPut(0);
    for (let i = 0; i < 4; i++) l.recordPut(5);
    l.recordPut(30);
    l.recordPut(12_000);
    l.rotate();
    // Apache 4.9.7 printed: "[<=0ms]:4 [0~10ms]:4 [10~50ms]:2 [50~100ms]:0 ... [10s~]:0 " (trailing space)
    expect(l.runtimeInfo().putMessageDistributeTime).toBe(
      "[<=0ms]:4 [0~10ms]:4 [10~50ms]:1 [50~100ms]:0 [100~200ms]:0 [200~500ms]:0 [500ms~1s]:0 [1~2s]:0 [2~3s]:0 [3~4s]:0 [4~5s]:0 [5~10s]:0 [10s~]:1 ",
    );
    // 10 puts: rank floor(10 * 0.99) = 9 falls in the 30 ms put's bucket (28, 30]: 28 + 2 * 1/1.
    expect(l.runtimeInfo().putLatency99).toBe("30.00");
    // An empty minute after that reports 0.
    l.rotate();
    expect(l.runtimeInfo().putLatency99).toBe("0.00");
    expect(l.runtimeInfo().putMessageEntireTimeMax).toBe("12000");
  });
});
