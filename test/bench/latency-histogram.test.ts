import { describe, expect, test } from "bun:test";
import { LatencyHistogram } from "../../src/bench/latency-histogram.ts";

describe("LatencyHistogram", () => {
  test("empty histogram reports zeros", () => {
    const h = new LatencyHistogram();
    expect(h.count).toBe(0);
    expect(h.averageMs).toBe(0);
    expect(h.percentileMs(0.99)).toBe(0);
    expect(h.maxMs).toBe(0);
  });

  test("percentiles of 1..10000 µs are within the bucket precision and never below the true value", () => {
    const h = new LatencyHistogram();
    for (let us = 1; us <= 10_000; us++) h.recordMs(us / 1000);
    expect(h.count).toBe(10_000);
    expect(h.averageMs).toBeCloseTo(5.0005, 6);
    expect(h.maxMs).toBe(10);
    for (const [fraction, exactMs] of [[0.5, 5], [0.99, 9.9], [0.999, 9.99], [1, 10]] as const) {
      const p = h.percentileMs(fraction);
      expect(p).toBeGreaterThanOrEqual(exactMs);
      // 64 sub-buckets per power of two: under 1/64 relative error.
      expect(p).toBeLessThanOrEqual(exactMs * (1 + 1 / 64));
    }
  });

  test("small values are exact, a single outlier is the max and the p100", () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 999; i++) h.recordMs(0.05); // 50 µs
    h.recordMs(1234.5);
    expect(h.percentileMs(0.5)).toBe(0.05);
    expect(h.percentileMs(0.999)).toBe(0.05);
    expect(h.percentileMs(1)).toBe(1234.5);
    expect(h.maxMs).toBe(1234.5);
  });

  test("reset clears everything and percentiles reject fractions outside (0, 1]", () => {
    const h = new LatencyHistogram();
    h.recordMs(3);
    h.reset();
    expect(h.count).toBe(0);
    expect(h.maxMs).toBe(0);
    expect(() => h.percentileMs(0)).toThrow(/out of/);
    expect(() => h.percentileMs(1.5)).toThrow(/out of/);
  });
});
