// The TPS and daily totals of GET_BROKER_RUNTIME_INFO (Java StoreStatsService sampling and
// BrokerStats): puts and transferred (pulled) messages are sampled once a second, TPS is reported
// over the last 10, 60 and 600 seconds, and the totals are recorded every midnight (UTC). Also the
// per-group pull TPS of GET_CONSUME_STATS (Java BrokerStatsManager GROUP_GET_NUMS, by minute).
// Gets are counted found / missed for getFoundTps, getMissTps and getTotalTps; put and get times
// go to PutLatency, whose minute turns every 60 samples.

import { PutLatency } from "./put-latency.ts";

import { guardedTask } from "../common/guarded-task.ts";

/** Java FREQUENCY_OF_SAMPLING. */
export const SAMPLE_INTERVAL_MS = 1_000;
/** Java MAX_RECORDS_OF_SAMPLING: 600 one-second intervals (the longest window). */
const MAX_SAMPLES = 601;
/** The windows of the "putTps" / "getTransferedTps" strings, in samples (seconds). */
const TPS_WINDOWS = [10, 60, 600] as const;
const DAY_MS = 24 * 60 * 60 * 1000;
/** Java StatsItem samples its minute window every 10 s and keeps 7 samples (one minute). */
const GROUP_SAMPLE_EVERY_SECONDS = 10;
const GROUP_SAMPLES_MAX = 7;
/**
 * topic@group pairs tracked (Java keeps one StatsItem per pair, unbounded). Past this, new pairs
 * report 0 TPS: the table cannot grow without bound from clients inventing group names.
 */
const GROUP_STATS_KEYS_MAX = 100_000;
/** Java printTPSInterval: the latency distribution covers one minute of samples. */
const LATENCY_MINUTE_SAMPLES = 60;

interface GroupCounter {
  total: number;
  /** [atMs, total] pairs, oldest first, at most GROUP_SAMPLES_MAX. */
  samples: Array<[number, number]>;
}

interface Sample {
  atMs: number;
  puts: number;
  transferred: number;
  found: number;
  missed: number;
}

export interface RuntimeStatsSource {
  /** The store's putMessageTimesTotal. */
  putTimesTotal(): number;
  now(): number;
}

export class RuntimeStats {
  private transferredTotal = 0;
  private getsFound = 0;
  private getsMissed = 0;
  private readonly latency = new PutLatency();
  /** Ring of the latest MAX_SAMPLES samples; `head` is the oldest. */
  private readonly samples: Sample[] = [];
  private head = 0;
  private putsTodayMorning = 0;
  private putsYesterdayMorning = 0;
  private transferredTodayMorning = 0;
  private transferredYesterdayMorning = 0;
  private readonly groupCounters = new Map<string, GroupCounter>();
  private samplesTaken = 0;
  private sampleTimer: ReturnType<typeof setInterval> | undefined;
  private morningTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly source: RuntimeStatsSource) {}

  /** Messages handed to consumers by pulls (Java getMessageTransferedMsgCount). */
  addTransferred(group: string, topic: string, count: number): void {
    this.transferredTotal += count;
    const key = `${topic}@${group}`;
    let counter = this.groupCounters.get(key);
    if (counter === undefined) {
      if (this.groupCounters.size >= GROUP_STATS_KEYS_MAX) return;
      counter = { total: 0, samples: [] };
      this.groupCounters.set(key, counter);
    }
    counter.total += count;
  }

  /** One store put took `elapsedMs` (flush wait included, as Java's putMessageEntireTime). */
  recordPut(elapsedMs: number): void {
    this.latency.recordPut(elapsedMs);
  }

  /** One store read (a pull): found messages or not (Java getMessageTimesTotalFound / Miss). */
  recordGet(found: boolean, elapsedMs: number): void {
    if (found) this.getsFound++;
    else this.getsMissed++;
    this.latency.recordGet(elapsedMs);
  }

  /** Messages per second pulled by `group` from `topic` over the last minute (Java tpsGroupGetNums). */
  groupTransferredTps(group: string, topic: string): number {
    const samples = this.groupCounters.get(`${topic}@${group}`)?.samples;
    if (samples === undefined || samples.length < 2) return 0;
    const [firstMs, firstTotal] = samples[0]!;
    const [lastMs, lastTotal] = samples[samples.length - 1]!;
    return lastMs > firstMs ? ((lastTotal - firstTotal) * 1000) / (lastMs - firstMs) : 0;
  }

  start(): void {
    this.sample();
    this.sampleTimer = setInterval(guardedTask("runtime stats sample", () => this.sample()), SAMPLE_INTERVAL_MS);
    this.sampleTimer.unref();
    this.scheduleMorning();
  }

  stop(): void {
    clearInterval(this.sampleTimer);
    clearTimeout(this.morningTimer);
  }

  /** Takes one sample (the timer calls it each second; tests call it directly). */
  sample(): void {
    const s: Sample = { atMs: this.source.now(), puts: this.source.putTimesTotal(), transferred: this.transferredTotal, found: this.getsFound, missed: this.getsMissed };
    if (this.samples.length < MAX_SAMPLES) this.samples.push(s);
    else {
      this.samples[this.head] = s;
      this.head = (this.head + 1) % MAX_SAMPLES;
    }
    if (this.samplesTaken > 0 && this.samplesTaken % LATENCY_MINUTE_SAMPLES === 0) this.latency.rotate();
    if (this.samplesTaken++ % GROUP_SAMPLE_EVERY_SECONDS === 0) {
      for (const counter of this.groupCounters.values()) {
        counter.samples.push([s.atMs, counter.total]);
        if (counter.samples.length > GROUP_SAMPLES_MAX) counter.samples.shift();
      }
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
      getFoundTps: this.tpsString((s) => s.found),
      getMissTps: this.tpsString((s) => s.missed),
      getTotalTps: this.tpsString((s) => s.found + s.missed),
      ...this.latency.runtimeInfo(),
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

  /**
   * At the next midnight UTC, like tsmq's log timestamps (Java uses local midnight; local time
   * would load the time-zone database into every broker, ~2.4 MiB).
   */
  private scheduleMorning(): void {
    const nowMs = this.source.now();
    const nextMidnightMs = (Math.floor(nowMs / DAY_MS) + 1) * DAY_MS;
    this.morningTimer = setTimeout(() => {
      guardedTask("runtime stats midnight sample", () => this.recordMorning())();
      this.scheduleMorning();
    }, nextMidnightMs - nowMs);
    this.morningTimer.unref();
  }
}

/** Java's Double.toString for the values seen here: integral values keep a ".0". */
function javaDouble(x: number): string {
  return Number.isInteger(x) ? `${x}.0` : String(x);
}
