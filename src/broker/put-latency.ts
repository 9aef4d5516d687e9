// Put and get latencies of GET_BROKER_RUNTIME_INFO (Java StoreStatsService): the longest put and
// get so far, the per-minute distribution of put times ("putMessageDistributeTime") and the 99th /
// 99.9th percentile put time of the last full minute ("putLatency99", "putLatency999").

/** Java PUT_MESSAGE_ENTIRE_TIME_MAX_DESC: the distribution's ranges, in order. */
const DISTRIBUTION_LABELS = ["[<=0ms]", "[0~10ms]", "[10~50ms]", "[50~100ms]", "[100~200ms]", "[200~500ms]", "[500ms~1s]", "[1~2s]", "[2~3s]", "[3~4s]", "[4~5s]", "[5~10s]", "[10s~]"];
/** Exclusive upper bounds (ms) of the distribution's ranges after "[<=0ms]"; the last is open. */
const DISTRIBUTION_BOUNDS_MS = [10, 50, 100, 200, 500, 1_000, 2_000, 3_000, 4_000, 5_000, 10_000];
/**
 * Java PUT_MESSAGE_ENTIRE_TIME_BUCKETS, [step ms, count]: 1 ms up to 20 ms, 2 ms to 50, 5 ms to
 * 100, 10 ms to 200, 50 ms to 500, 100 ms to 1 s, 1 s to 10 s; then one open bucket.
 */
const PERCENTILE_STEPS: Array<[number, number]> = [[1, 20], [2, 15], [5, 10], [10, 10], [50, 6], [100, 5], [1_000, 9]];

/** Inclusive upper bounds (ms) of the percentile buckets, ascending; the last is Infinity. */
const PERCENTILE_BOUNDS_MS: number[] = (() => {
  const bounds: number[] = [];
  let at = 0;
  for (const [step, count] of PERCENTILE_STEPS) {
    for (let i = 0; i < count; i++) bounds.push((at += step));
  }
  bounds.push(Infinity);
  return bounds;
})();

function distributionIndex(elapsedMs: number): number {
  if (elapsedMs <= 0) return 0;
  const i = DISTRIBUTION_BOUNDS_MS.findIndex((bound) => elapsedMs < bound);
  return i === -1 ? DISTRIBUTION_LABELS.length - 1 : i + 1;
}

function percentileIndex(elapsedMs: number): number {
  return PERCENTILE_BOUNDS_MS.findIndex((bound) => elapsedMs <= bound);
}

export class PutLatency {
  private putMaxMs = 0;
  private getMaxMs = 0;
  private distribution = new Array<number>(DISTRIBUTION_LABELS.length).fill(0);
  /** The last full minute's distribution; undefined during the first minute (Java prints "null"). */
  private lastDistribution: number[] | undefined;
  private buckets = new Array<number>(PERCENTILE_BOUNDS_MS.length).fill(0);
  private lastBuckets = new Array<number>(PERCENTILE_BOUNDS_MS.length).fill(0);

  recordPut(elapsedMs: number): void {
    this.distribution[distributionIndex(elapsedMs)]!++;
    this.buckets[percentileIndex(elapsedMs)]!++;
    if (elapsedMs > this.putMaxMs) this.putMaxMs = elapsedMs;
  }

  recordGet(elapsedMs: number): void {
    if (elapsedMs > this.getMaxMs) this.getMaxMs = elapsedMs;
  }

  /** Once a minute (Java printTps): the current minute becomes the reported one. */
  rotate(): void {
    this.lastDistribution = this.distribution;
    this.distribution = new Array<number>(DISTRIBUTION_LABELS.length).fill(0);
    this.lastBuckets = this.buckets;
    this.buckets = new Array<number>(PERCENTILE_BOUNDS_MS.length).fill(0);
  }

  runtimeInfo(): Record<string, string> {
    return {
      putMessageEntireTimeMax: String(this.putMaxMs),
      getMessageEntireTimeMax: String(this.getMaxMs),
      putMessageDistributeTime: this.lastDistribution ? this.lastDistribution.map((n, i) => `${DISTRIBUTION_LABELS[i]}:${n} `).join("") : "null",
      putLatency99: this.percentileMs(0.99).toFixed(2),
      putLatency999: this.percentileMs(0.999).toFixed(2),
    };
  }

  /** Java findPutMessageEntireTimePX: linear interpolation inside the bucket holding the rank. */
  percentileMs(px: number): number {
    const total = this.lastBuckets.reduce((a, b) => a + b, 0);
    const rank = Math.floor(total * px);
    let passed = 0;
    for (let i = 0; i < this.lastBuckets.length; i++) {
      const count = this.lastBuckets[i]!;
      if (rank <= passed + count) {
        const within = count === 0 ? 0 : (rank - passed) / count;
        const lower = i === 0 ? 0 : PERCENTILE_BOUNDS_MS[i - 1]!;
        // The open last bucket has no width to interpolate over: report its lower bound.
        const upper = Number.isFinite(PERCENTILE_BOUNDS_MS[i]!) ? PERCENTILE_BOUNDS_MS[i]! : lower;
        return lower + (upper - lower) * within;
      }
      passed += count;
    }
    return 0;
  }
}
