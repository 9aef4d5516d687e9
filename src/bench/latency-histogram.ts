// Latency recording for the benchmarks: a fixed-size log-linear histogram (HdrHistogram-like, ~1.6%
// precision), so recording is O(1) without allocation and percentiles need no stored samples.

import assert from "node:assert";

/** Sub-buckets per power of two: values v are kept in buckets of width v/64 at most (under 1/64 error). */
const SUB_BUCKETS = 64;
const SUB_BUCKET_BITS = 6;
/** Values are recorded in microseconds; 2^36 µs (~19 hours) is far past any timeout. */
const MAX_VALUE_BITS = 36;
const BUCKET_COUNT = (MAX_VALUE_BITS - SUB_BUCKET_BITS + 2) * SUB_BUCKETS;

/**
 * Index of the bucket holding `us` (a non-negative integer): values below 128 are exact, larger
 * ones keep their top 7 significant bits. index = e*64 + floor(us / 2^e), e = max(0, log2(us) - 6).
 */
function bucketOf(us: number): number {
  if (us < 2 * SUB_BUCKETS) return us;
  const log2 = us < 2 ** 32 ? 31 - Math.clz32(us) : Math.floor(Math.log2(us));
  const e = log2 - SUB_BUCKET_BITS;
  return Math.min(e * SUB_BUCKETS + Math.floor(us / 2 ** e), BUCKET_COUNT - 1);
}

/** Highest value that lands in bucket `index` (what a percentile reports: never optimistic). */
function bucketUpperUs(index: number): number {
  if (index < 2 * SUB_BUCKETS) return index;
  const e = Math.floor(index / SUB_BUCKETS) - 1;
  const sub = index - e * SUB_BUCKETS;
  return (sub + 1) * 2 ** e - 1;
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKET_COUNT);
  count = 0;
  sumUs = 0;
  maxUs = 0;

  /** Records one latency in milliseconds (fractional, e.g. from performance.now()). */
  recordMs(ms: number): void {
    const us = ms <= 0 ? 0 : Math.round(ms * 1000);
    this.counts[bucketOf(us)]!++;
    this.count++;
    this.sumUs += us;
    if (us > this.maxUs) this.maxUs = us;
  }

  get averageMs(): number {
    return this.count === 0 ? 0 : this.sumUs / this.count / 1000;
  }

  get maxMs(): number {
    return this.maxUs / 1000;
  }

  /** The latency (ms) that `fraction` (0..1] of recordings do not exceed. */
  percentileMs(fraction: number): number {
    assert(fraction > 0 && fraction <= 1, `percentile fraction ${fraction} out of (0, 1]`);
    if (this.count === 0) return 0;
    const rank = Math.ceil(fraction * this.count);
    let seen = 0;
    for (let i = 0; i < BUCKET_COUNT; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(bucketUpperUs(i), this.maxUs) / 1000;
    }
    return this.maxMs;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sumUs = 0;
    this.maxUs = 0;
  }
}
