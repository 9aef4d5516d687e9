// `tsmq bench consume`: RocketMQ's benchmark Consumer on the tsmq push consumer: Consume TPS and
// the average / max born-to-consume and store-to-consume latency, live and in a final summary.

import type { ConsumedMessage } from "../client/consumed-message.ts";
import { PushConsumer } from "../client/push-consumer.ts";
import { LatencyHistogram } from "./latency-histogram.ts";

export interface ConsumeBenchOptions {
  namesrvAddr: string[];
  topic: string;
  group: string;
  /** Tag expression. */
  filter: string;
  /** Start a new group at the first offset (drain a backlog) instead of the last. */
  fromFirst: boolean;
  /** Stop after this many messages (undefined: run for durationMs, or until stop()). */
  count: number | undefined;
  durationMs: number | undefined;
  reportIntervalMs: number;
  serializeType: "JSON" | "ROCKETMQ";
  /** Messages handed to the listener in one call (Java consumeMessageBatchMaxSize). */
  consumeBatchSize: number;
}

export interface ConsumeSummary {
  consumed: number;
  /** From start() to the end of the run: with --count, to the last message (what draining a backlog takes). */
  elapsedMs: number;
  tps: number;
  averageBornToConsumeMs: number;
  maxBornToConsumeMs: number;
  averageStoreToConsumeMs: number;
  maxStoreToConsumeMs: number;
  /** CPU (user + system) this consumer process spent per message consumed. */
  cpuUsPerMessage: number;
}

/** Pull batch of the benchmark consumer: the broker's per-pull maximum, fewer round trips. */
const BENCH_PULL_BATCH_SIZE = 32;

export class ConsumeBench {
  private readonly opts: ConsumeBenchOptions;
  private readonly out: (line: string) => void;
  private readonly bornTotal = new LatencyHistogram();
  private readonly storeTotal = new LatencyHistogram();
  private readonly bornInterval = new LatencyHistogram();
  private readonly storeInterval = new LatencyHistogram();
  private consumed = 0;
  private intervalConsumed = 0;
  private done = false;
  /** When the run ended (count reached, duration over, or stop()). */
  private stopMs = 0;
  private finish: () => void = () => {};
  private readonly finished = new Promise<void>((resolve) => (this.finish = resolve));

  constructor(opts: ConsumeBenchOptions, out: (line: string) => void) {
    this.opts = opts;
    this.out = out;
  }

  stop(): void {
    if (this.done) return;
    this.done = true;
    this.stopMs = performance.now();
    this.finish();
  }

  async run(): Promise<ConsumeSummary> {
    const o = this.opts;
    const consumer = new PushConsumer({
      namesrvAddr: o.namesrvAddr,
      groupName: o.group,
      instanceName: `bench-consume-${process.pid}`,
      consumeFromWhere: o.fromFirst ? "CONSUME_FROM_FIRST_OFFSET" : "CONSUME_FROM_LAST_OFFSET",
      consumeMessageBatchMaxSize: o.consumeBatchSize,
      pullBatchSize: BENCH_PULL_BATCH_SIZE,
      serializeType: o.serializeType,
    });
    consumer.subscribe(o.topic, o.filter);
    consumer.registerMessageListener((msgs) => {
      this.onMessages(msgs);
      return "CONSUME_SUCCESS";
    });
    const startMs = performance.now();
    const startCpu = process.cpuUsage();
    const timer = setInterval(() => this.report(), o.reportIntervalMs);
    const deadline = o.durationMs === undefined ? undefined : setTimeout(() => this.stop(), o.durationMs);
    try {
      await consumer.start();
      await this.finished;
    } finally {
      clearInterval(timer);
      clearTimeout(deadline);
      await consumer.shutdown();
    }
    const cpu = process.cpuUsage(startCpu);
    return this.summary(this.stopMs - startMs, cpu.user + cpu.system);
  }

  private onMessages(msgs: ConsumedMessage[]): void {
    // After --count the run is over: messages still arriving while shutting down are not counted.
    if (this.done) return;
    const now = Date.now();
    for (const m of msgs) {
      const born = now - m.bornTimestamp;
      const stored = now - m.storeTimestamp;
      this.bornTotal.recordMs(born);
      this.bornInterval.recordMs(born);
      this.storeTotal.recordMs(stored);
      this.storeInterval.recordMs(stored);
    }
    this.consumed += msgs.length;
    this.intervalConsumed += msgs.length;
    if (this.opts.count !== undefined && this.consumed >= this.opts.count) this.stop();
  }

  private report(): void {
    const tps = Math.round((this.intervalConsumed * 1000) / this.opts.reportIntervalMs);
    this.out(
      `Current Time: ${new Date().toISOString()} Consume TPS: ${tps} Consumed: ${this.consumed} ` +
        `Average(B2C) RT(ms): ${this.bornInterval.averageMs.toFixed(3)} Average(S2C) RT(ms): ${this.storeInterval.averageMs.toFixed(3)} ` +
        `MAX(B2C) RT(ms): ${this.bornInterval.maxMs.toFixed(0)} MAX(S2C) RT(ms): ${this.storeInterval.maxMs.toFixed(0)}`,
    );
    this.intervalConsumed = 0;
    this.bornInterval.reset();
    this.storeInterval.reset();
  }

  private summary(elapsedMs: number, cpuUs: number): ConsumeSummary {
    return {
      consumed: this.consumed,
      elapsedMs: Math.round(elapsedMs),
      tps: elapsedMs > 0 ? Math.round((this.consumed * 1000) / elapsedMs) : 0,
      averageBornToConsumeMs: this.bornTotal.averageMs,
      maxBornToConsumeMs: this.bornTotal.maxMs,
      averageStoreToConsumeMs: this.storeTotal.averageMs,
      maxStoreToConsumeMs: this.storeTotal.maxMs,
      cpuUsPerMessage: this.consumed > 0 ? cpuUs / this.consumed : 0,
    };
  }
}

export function formatConsumeSummary(s: ConsumeSummary): string {
  return (
    `[Complete] Consumed: ${s.consumed} Elapsed(ms): ${s.elapsedMs} Consume TPS: ${s.tps} ` +
    `Average(B2C) RT(ms): ${s.averageBornToConsumeMs.toFixed(3)} MAX(B2C) RT(ms): ${s.maxBornToConsumeMs.toFixed(0)} ` +
    `Average(S2C) RT(ms): ${s.averageStoreToConsumeMs.toFixed(3)} MAX(S2C) RT(ms): ${s.maxStoreToConsumeMs.toFixed(0)} CPU(us/msg): ${s.cpuUsPerMessage.toFixed(1)}`
  );
}
