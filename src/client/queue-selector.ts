// Producer queue selection (protocol doc 6.3 step 6, 6.4): round robin over the publish queues,
// skipping brokers inside a latency penalty window and, on a retry, the broker that just failed.

import type { MessageQueue } from "./message-queue.ts";

/** Latency thresholds (ms) and the penalty (ms) each earns (Java MQFaultStrategy latencyMax / notAvailableDuration). */
const LATENCY_THRESHOLDS_MS = [50, 100, 550, 1_000, 2_000, 3_000, 15_000];
const PENALTY_DURATIONS_MS = [0, 0, 30_000, 60_000, 120_000, 180_000, 600_000];
/** A failed attempt counts as this latency (Java: isolation → 30 000 ms → 10 min penalty). */
export const FAILED_ATTEMPT_LATENCY_MS = 30_000;

export function penaltyForLatencyMs(latencyMs: number): number {
  for (let i = LATENCY_THRESHOLDS_MS.length - 1; i >= 0; i--) {
    if (latencyMs >= LATENCY_THRESHOLDS_MS[i]!) return PENALTY_DURATIONS_MS[i]!;
  }
  return 0;
}

/** Per-broker latency record (Java LatencyFaultToleranceImpl). */
export class LatencyFaultTolerance {
  private readonly items = new Map<string, { latencyMs: number; availableAtMs: number }>();

  update(brokerName: string, latencyMs: number, failed: boolean, nowMs = Date.now()): void {
    const effective = failed ? FAILED_ATTEMPT_LATENCY_MS : latencyMs;
    const availableAtMs = nowMs + penaltyForLatencyMs(effective);
    const item = this.items.get(brokerName);
    if (item === undefined) {
      this.items.set(brokerName, { latencyMs: effective, availableAtMs });
      return;
    }
    // Updated in place: this runs once per send.
    item.latencyMs = effective;
    item.availableAtMs = availableAtMs;
  }

  isAvailable(brokerName: string, nowMs = Date.now()): boolean {
    const item = this.items.get(brokerName);
    return !item || nowMs >= item.availableAtMs;
  }

  /** Among penalised brokers, the one that becomes available soonest (then lowest latency). */
  leastBad(candidates: Iterable<string>, nowMs = Date.now()): string | undefined {
    let best: string | undefined;
    let bestKey: [number, number] = [Infinity, Infinity];
    for (const name of candidates) {
      const item = this.items.get(name);
      const key: [number, number] = item ? [Math.max(0, item.availableAtMs - nowMs), item.latencyMs] : [0, 0];
      if (key[0] < bestKey[0] || (key[0] === bestKey[0] && key[1] < bestKey[1])) {
        best = name;
        bestKey = key;
      }
    }
    return best;
  }
}

/** Publish queues of one topic with the round-robin counter (Java TopicPublishInfo). */
export class TopicPublishInfo {
  readonly queues: MessageQueue[];
  readonly orderTopic: boolean;
  private counter: number;

  constructor(queues: MessageQueue[], orderTopic: boolean, counterStart = Math.floor(Math.random() * 1024)) {
    this.queues = queues;
    this.orderTopic = orderTopic;
    this.counter = counterStart;
  }

  private nextIndex(): number {
    this.counter = (this.counter + 1) & 0x7fffffff;
    return this.counter;
  }

  /**
   * Next queue in round-robin order whose broker is available and differs from `lastBrokerName`;
   * relaxes those preferences in turn when no queue satisfies them.
   */
  select(fault: LatencyFaultTolerance | undefined, lastBrokerName?: string): MessageQueue {
    const n = this.queues.length;
    if (n === 0) throw new Error("no publish queue to select from");
    const start = this.nextIndex();
    const now = Date.now();
    // The usual case first, without closures: the next queue is on an available other broker.
    for (let i = 0; i < n; i++) {
      const mq = this.queues[(start + i) % n]!;
      if (mq.brokerName !== lastBrokerName && (!fault || fault.isAvailable(mq.brokerName, now))) return mq;
    }
    const pick = (ok: (mq: MessageQueue) => boolean): MessageQueue | undefined => {
      for (let i = 0; i < n; i++) {
        const mq = this.queues[(start + i) % n]!;
        if (ok(mq)) return mq;
      }
      return undefined;
    };
    const available = (mq: MessageQueue) => !fault || fault.isAvailable(mq.brokerName, now);
    const preferred = pick(available);
    if (preferred) return preferred;
    // Every broker is penalised: take the one whose penalty ends first.
    const least = fault?.leastBad(new Set(this.queues.map((q) => q.brokerName)), now);
    return pick((mq) => mq.brokerName === least) ?? this.queues[start % n]!;
  }
}
