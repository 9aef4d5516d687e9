// Latency recording for the benchmarks: a fixed-size log-linear histogram (HdrHistogram-like, ~1.6%
// precision), so recording is O(1) without allocation and percentiles need no stored samples.

import assert from "node:assert";

/** Sub-buckets per power of two: 64 gives a relative error under 1/64. */
const SUB_BUCKETS = 64;
const SUB_BUCKET_BITS = 6;
/** Values are recorded in microseconds; 2^36 µs (~19 hours) is far past any timeout. */
const MAX_EXPONENT = 36;
const BUCKET_COUNT = (MAX_EXPONENT + 1) * SUB_BUCKETS;

/** Index of the bucket holding `us` (non-negative integer microseconds). */
function bucketOf(us: number): number {
  if (us < SUB_BUCKETS) return us;
  const exponent = Math.floor(Math.log2(us)) - SUB_BUCKET_BITS + 1;
  const sub = Math.floor(us / 2 ** exponent);
  const index = exponent * SUB_BUCKETS + sub;
  return Math.min(index, BUCKET_COUNT - 1);
}

/** Highest value that lands in bucket `index` (what a percentile reports: never optimistic). */
function bucketUpperUs(index: number): number {
  if (index < SUB_BUCKETS) return index;
  const exponent = Math.floor(index / SUB_BUCKETS);
  const sub = index % SUB_BUCKETS;
  return (sub + 1) * 2 ** exponent - 1;
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
