// `tsmq bench produce`: RocketMQ's benchmark Producer (example/.../benchmark/Producer.java) on the
// tsmq client: N senders each waiting for its ack (or one async issuer keeping N in flight), a live
// line every few seconds and a final summary with RT percentiles.

import assert from "node:assert";
import { MQBrokerError } from "../client/errors.ts";
import type { MessageInput } from "../client/message-builder.ts";
import { Producer } from "../client/producer.ts";
import { LatencyHistogram } from "./latency-histogram.ts";
import { LeanSender } from "./lean-sender.ts";

/** Java benchmark's producer group. */
export const BENCH_PRODUCER_GROUP = "benchmark_producer";
/** Pause of a sender after a failed send, so a dead broker is not hammered (Java sleeps 3 s). */
const SEND_FAILURE_BACKOFF_MS = 1_000;
/** Most senders / in-flight sends: bounds memory and the broker's per-connection in-flight limit. */
export const MAX_SENDERS = 8_192;
/** Characters of the random body, like Java's RandomStringUtils.randomAlphanumeric. */
const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

export interface ProduceBenchOptions {
  namesrvAddr: string[];
  topic: string;
  /** Sync: sender loops, each awaiting its ack. Async: sends kept in flight by one issuer. */
  senders: number;
  messageSizeBytes: number;
  /** Set KEYS to the send second, like Java's -k. */
  keys: boolean;
  /** Tags tag0..tag(n-1) by send time, like Java's -l; 0 = no tag. */
  tagCount: number;
  async: boolean;
  /** Messages per SEND_BATCH_MESSAGE; 1 = single sends. */
  batchSize: number;
  delayLevel: number;
  /** Stop after this many messages (undefined: run for durationMs, or until stop()). */
  count: number | undefined;
  durationMs: number | undefined;
  reportIntervalMs: number;
  /** Header serialization of the producer's requests. */
  serializeType: "JSON" | "ROCKETMQ";
  /** Send through LeanSender (same request, no Producer machinery) after the Producer's warm-up. */
  lean: boolean;
}

export interface ProduceSummary {
  sent: number;
  sendFailed: number;
  responseFailed: number;
  elapsedMs: number;
  tps: number;
  averageRtMs: number;
  p50RtMs: number;
  p99RtMs: number;
  p999RtMs: number;
  maxRtMs: number;
  /** CPU (user + system) this load generator spent per message sent: its share of the cost. */
  cpuUsPerMessage: number;
}

export function randomBody(sizeBytes: number): Uint8Array {
  const body = new Uint8Array(sizeBytes);
  for (let i = 0; i < sizeBytes; i++) body[i] = ALPHANUMERIC.charCodeAt(Math.floor(Math.random() * ALPHANUMERIC.length));
  return body;
}

export class ProduceBench {
  private readonly opts: ProduceBenchOptions;
  private readonly out: (line: string) => void;
  private readonly body: Uint8Array;
  private readonly total = new LatencyHistogram();
  private readonly interval = new LatencyHistogram();
  private intervalMessages = 0;
  private sent = 0;
  private sendFailed = 0;
  private responseFailed = 0;
  /** Messages claimed by senders (bounded by opts.count). */
  private claimed = 0;
  private stopping = false;
  private lean: LeanSender | undefined;

  constructor(opts: ProduceBenchOptions, out: (line: string) => void) {
    assert(opts.senders >= 1 && opts.senders <= MAX_SENDERS, `senders ${opts.senders} out of 1..${MAX_SENDERS}`);
    assert(opts.batchSize >= 1, "batch size must be positive");
    assert(!(opts.lean && opts.batchSize > 1), "the lean path sends single messages");
    this.opts = opts;
    this.out = out;
    this.body = randomBody(opts.messageSizeBytes);
  }

  /** Ends the run: senders finish the send they are in and return. */
  stop(): void {
    this.stopping = true;
  }

  async run(): Promise<ProduceSummary> {
    const o = this.opts;
    const producer = new Producer({
      namesrvAddr: o.namesrvAddr,
      groupName: BENCH_PRODUCER_GROUP,
      instanceName: `bench-${process.pid}-${Date.now()}`,
      serializeType: o.serializeType,
      // Java's benchmark turns compression off; bodies are random text anyway.
      compressMsgBodyOverHowmuchBytes: Number.MAX_SAFE_INTEGER,
    });
    producer.start();
    try {
      // One untimed send resolves the route (and auto-creates the topic) before the clock starts.
      await producer.send(this.message());
      if (o.lean) this.lean = await LeanSender.open(o.namesrvAddr, BENCH_PRODUCER_GROUP, o.topic, o.serializeType);
      const startMs = performance.now();
      const startCpu = process.cpuUsage();
      const timer = setInterval(() => this.report(), o.reportIntervalMs);
      const deadline = o.durationMs === undefined ? undefined : setTimeout(() => this.stop(), o.durationMs);
      try {
        const loops = o.async ? [this.asyncIssuer(producer)] : Array.from({ length: o.senders }, () => this.syncSender(producer));
        await Promise.all(loops);
      } finally {
        clearInterval(timer);
        clearTimeout(deadline);
      }
      const elapsedMs = performance.now() - startMs;
      const cpu = process.cpuUsage(startCpu);
      return this.summary(elapsedMs, cpu.user + cpu.system);
    } finally {
      this.lean?.close();
      await producer.shutdown();
    }
  }

  private message(): MessageInput {
    const now = Date.now();
    const msg: MessageInput = { topic: this.opts.topic, body: this.body };
    if (this.opts.keys) msg.keys = String(Math.floor(now / 1000));
    if (this.opts.tagCount > 0) msg.tags = `tag${now % this.opts.tagCount}`;
    if (this.opts.delayLevel > 0) msg.delayLevel = this.opts.delayLevel;
    return msg;
  }

  /** Claims the next request's messages; 0 when the run is over. */
  private claim(): number {
    if (this.stopping) return 0;
    const want = this.opts.batchSize;
    if (this.opts.count === undefined) return want;
    const n = Math.min(want, this.opts.count - this.claimed);
    if (n <= 0) return 0;
    this.claimed += n;
    return n;
  }

  private sendOnce(producer: Producer, n: number): Promise<unknown> {
    if (this.lean) {
      const m = this.message();
      return this.lean.send({ body: this.body, keys: m.keys as string | undefined, tags: m.tags, delayLevel: m.delayLevel });
    }
    if (this.opts.batchSize === 1) return this.opts.async ? producer.sendAsync(this.message()) : producer.send(this.message());
    return producer.sendBatch(Array.from({ length: n }, () => this.message()));
  }

  private async syncSender(producer: Producer): Promise<void> {
    for (;;) {
      const n = this.claim();
      if (n === 0) return;
      const begin = performance.now();
      try {
        await this.sendOnce(producer, n);
        this.recordSuccess(n, performance.now() - begin);
      } catch (err) {
        this.recordFailure(err);
        if (!this.stopping) await Bun.sleep(SEND_FAILURE_BACKOFF_MS);
      }
    }
  }

  /** Keeps `senders` sends in flight from one loop, like Java's async mode with its queue bound. */
  private async asyncIssuer(producer: Producer): Promise<void> {
    let inFlight = 0;
    let failedSinceLastIssue = false;
    let wake: (() => void) | undefined;
    const slotFreed = () => new Promise<void>((resolve) => (wake = resolve));
    for (;;) {
      while (inFlight >= this.opts.senders) await slotFreed();
      // A failing broker is not hammered: the issuer pauses like a failed sync sender does.
      if (failedSinceLastIssue && !this.stopping) await Bun.sleep(SEND_FAILURE_BACKOFF_MS);
      failedSinceLastIssue = false;
      const n = this.claim();
      if (n === 0) break;
      const begin = performance.now();
      inFlight++;
      void this.sendOnce(producer, n)
        .then(
          () => this.recordSuccess(n, performance.now() - begin),
          (err) => {
            this.recordFailure(err);
            failedSinceLastIssue = true;
          },
        )
        .finally(() => {
          inFlight--;
          const w = wake;
          wake = undefined;
          w?.();
        });
    }
    while (inFlight > 0) await slotFreed();
  }

  private recordSuccess(messages: number, rtMs: number): void {
    this.sent += messages;
    this.intervalMessages += messages;
    this.total.recordMs(rtMs);
    this.interval.recordMs(rtMs);
  }

  private recordFailure(err: unknown): void {
    const cause = err instanceof Error && err.cause !== undefined ? err.cause : err;
    if (err instanceof MQBrokerError || cause instanceof MQBrokerError) this.responseFailed++;
    else this.sendFailed++;
  }

  private report(): void {
    const tps = Math.round((this.intervalMessages * 1000) / this.opts.reportIntervalMs);
    const h = this.interval;
    this.out(
      `Current Time: ${new Date().toISOString()} Send TPS: ${tps} Max RT(ms): ${h.maxMs.toFixed(3)} Average RT(ms): ${h.averageMs.toFixed(3)} ` +
        `p99 RT(ms): ${h.percentileMs(0.99).toFixed(3)} Send Failed: ${this.sendFailed} Response Failed: ${this.responseFailed}`,
    );
    this.intervalMessages = 0;
    h.reset();
  }

  private summary(elapsedMs: number, cpuUs: number): ProduceSummary {
    const h = this.total;
    return {
      sent: this.sent,
      sendFailed: this.sendFailed,
      responseFailed: this.responseFailed,
      elapsedMs: Math.round(elapsedMs),
      tps: elapsedMs > 0 ? Math.round((this.sent * 1000) / elapsedMs) : 0,
      averageRtMs: h.averageMs,
      p50RtMs: h.percentileMs(0.5),
      p99RtMs: h.percentileMs(0.99),
      p999RtMs: h.percentileMs(0.999),
      maxRtMs: h.maxMs,
      cpuUsPerMessage: this.sent > 0 ? cpuUs / this.sent : 0,
    };
  }
}

export function formatProduceSummary(s: ProduceSummary): string {
  const ms = (v: number) => v.toFixed(3);
  return (
    `[Complete] Send Total: ${s.sent + s.sendFailed + s.responseFailed} Send TPS: ${s.tps} Max RT(ms): ${ms(s.maxRtMs)} Average RT(ms): ${ms(s.averageRtMs)} ` +
    `p50(ms): ${ms(s.p50RtMs)} p99(ms): ${ms(s.p99RtMs)} p999(ms): ${ms(s.p999RtMs)} Send Failed: ${s.sendFailed} Response Failed: ${s.responseFailed} Elapsed(ms): ${s.elapsedMs} CPU(us/msg): ${s.cpuUsPerMessage.toFixed(1)}`
  );
}
