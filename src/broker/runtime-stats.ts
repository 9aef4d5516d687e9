// The TPS and daily totals of GET_BROKER_RUNTIME_INFO (Java StoreStatsService sampling and
// BrokerStats): puts and transferred (pulled) messages are sampled once a second, TPS is reported
// over the last 10, 60 and 600 seconds, and the totals are recorded every morning.

/** Java FREQUENCY_OF_SAMPLING. */
export const SAMPLE_INTERVAL_MS = 1_000;
/** Java MAX_RECORDS_OF_SAMPLING: 600 one-second intervals (the longest window). */
const MAX_SAMPLES = 601;
/** The windows of the "putTps" / "getTransferedTps" strings, in samples (seconds). */
const TPS_WINDOWS = [10, 60, 600] as const;
const DAY_MS = 24 * 60 * 60 * 1000;

interface Sample {
  atMs: number;
  puts: number;
  transferred: number;
}

export interface RuntimeStatsSource {
  /** The store's putMessageTimesTotal. */
  putTimesTotal(): number;
  now(): number;
}

export class RuntimeStats {
  private transferredTotal = 0;
  /** Ring of the latest MAX_SAMPLES samples; `head` is the oldest. */
  private readonly samples: Sample[] = [];
  private head = 0;
  private putsTodayMorning = 0;
  private putsYesterdayMorning = 0;
  private transferredTodayMorning = 0;
  private transferredYesterdayMorning = 0;
  private sampleTimer: ReturnType<typeof setInterval> | undefined;
  private morningTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly source: RuntimeStatsSource) {}

  /** Messages handed to consumers by pulls (Java getMessageTransferedMsgCount). */
  addTransferred(count: number): void {
    this.transferredTotal += count;
  }

  start(): void {
    this.sample();
    this.sampleTimer = setInterval(() => this.sample(), SAMPLE_INTERVAL_MS);
    this.sampleTimer.unref();
    this.scheduleMorning();
  }

  stop(): void {
    clearInterval(this.sampleTimer);
    clearTimeout(this.morningTimer);
  }

  /** Takes one sample (the timer calls it each second; tests call it directly). */
  sample(): void {
    const s: Sample = { atMs: this.source.now(), puts: this.source.putTimesTotal(), transferred: this.transferredTotal };
    if (this.samples.length < MAX_SAMPLES) this.samples.push(s);
    else {
      this.samples[this.head] = s;
      this.head = (this.head + 1) % MAX_SAMPLES;
    }
  }

  /** Java BrokerStats.record(), run at each midnight: today's morning totals become yesterday's. */
  recordMorning(): void {
    this.putsYesterdayMorning = this.putsTodayMorning;
    this.transferredYesterdayMorning = this.transferredTodayMorning;
    this.putsTodayMorning = this.source.putTimesTotal();
    this.transferredTodayMorning = this.transferredTotal;
  }

  runtimeInfo(): Record<string, string> {
    return {
      putTps: this.tpsString((s) => s.puts),
      getTransferedTps: this.tpsString((s) => s.transferred),
      msgPutTotalTodayNow: String(this.source.putTimesTotal()),
      msgGetTotalTodayNow: String(this.transferredTotal),
      msgPutTotalTodayMorning: String(this.putsTodayMorning),
      msgPutTotalYesterdayMorning: String(this.putsYesterdayMorning),
      msgGetTotalTodayMorning: String(this.transferredTodayMorning),
      msgGetTotalYesterdayMorning: String(this.transferredYesterdayMorning),
    };
  }

  /** "tps10 tps60 tps600"; a window longer than the samples taken so far is empty, as in Java. */
  private tpsString(value: (s: Sample) => number): string {
    const n = this.samples.length;
    if (n === 0) return "  ";
    const at = (i: number) => this.samples[(this.head + i) % n]!;
    const last = at(n - 1);
    return TPS_WINDOWS.map((window) => {
      if (n <= window) return "";
      const before = at(n - 1 - window);
      const elapsedMs = last.atMs - before.atMs;
      return javaDouble(elapsedMs > 0 ? ((value(last) - value(before)) / elapsedMs) * 1000 : 0);
    }).join(" ");
  }

  private scheduleMorning(): void {
    const now = new Date(this.source.now());
    const nextMidnight = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1).getTime();
    this.morningTimer = setTimeout(() => {
      this.recordMorning();
      this.scheduleMorning();
    }, Math.min(DAY_MS, Math.max(0, nextMidnight - now.getTime())));
    this.morningTimer.unref();
  }
}

/** Java's Double.toString for the values seen here: integral values keep a ".0". */
function javaDouble(x: number): string {
  return Number.isInteger(x) ? `${x}.0` : String(x);
}
