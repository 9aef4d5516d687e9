// Suspended pulls (Java PullRequestHoldService, storage doc §12.5): a pull that found nothing waits
// here keyed by topic@queueId until a matching message arrives or its timeout passes; then it is
// re-executed once without suspension and answered on its connection.

import type { RemotingCommand } from "../remoting/command.ts";
import type { Connection } from "../remoting/connection.ts";
import type { MessageFilter } from "../store/store-types.ts";
import { guardedTask } from "../common/guarded-task.ts";

export interface SuspendedPull {
  /** The request without its body (parkedRequest): a parked pull keeps only what re-running it needs. */
  request: RemotingCommand;
  conn: Connection;
  suspendedAtMs: number;
  timeoutMs: number;
  /** The queue offset the pull asked for: it is answered once the queue grows past it. */
  pullFromOffset: number;
  filter: MessageFilter | undefined;
}

/** Sweep period: timed-out pulls are answered at most this late, and missed wake-ups recovered. */
export const HOLD_CHECK_INTERVAL_MS = 1_000;

/** Bound on parked pulls per broker; beyond it pulls are answered SYSTEM_BUSY (the client retries later). */
export const MAX_SUSPENDED_PULLS = 100_000;
/**
 * Bound on parked pulls per connection, so one peer cannot take the whole table. A Java client
 * instance shares one connection per broker and parks one pull per assigned queue, so this is
 * thousands of queues per client process.
 */
export const MAX_SUSPENDED_PULLS_PER_CONNECTION = 4_096;
/**
 * Longest hold, whatever suspendTimeoutMillis says: Java consumers ask 15 s (push) or 20 s (pull)
 * and time the request out at 30 s; an unbounded hold pins the pull's memory for as long as asked.
 */
export const MAX_SUSPEND_TIMEOUT_MS = 30_000;

/** Why a pull was not parked: the broker-wide or the per-connection bound. */
export type SuspendRefusal = "broker" | "connection";

/** The sweep checks at most this many new entries against a parked pull's tag filter; a longer backlog wakes it. */
const SWEEP_MAX_ENTRIES_CHECKED = 1_000;

export class PullRequestHoldService {
  private readonly table = new Map<string, SuspendedPull[]>();
  private count = 0;
  /** Parked pulls per connection id. */
  private readonly perConnection = new Map<number, number>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly maxOffsetInQueue: (topic: string, queueId: number) => number,
    /** Re-runs the pull without suspension and sends the response on its connection. */
    private readonly executeAgain: (pull: SuspendedPull) => void,
    /** Tags code of a consume-queue entry (undefined when gone): lets the sweep skip non-matching arrivals. */
    private readonly tagsCodeAt: (topic: string, queueId: number, offset: number) => number | undefined,
    private readonly checkIntervalMs = HOLD_CHECK_INTERVAL_MS,
  ) {}

  get size(): number {
    return this.count;
  }

  /** Every parked pull (diagnostics and tests). */
  *parked(): Generator<SuspendedPull> {
    for (const list of this.table.values()) yield* list;
  }

  /** Parks a pull; otherwise says which bound refused it (the caller answers right away). */
  suspend(topic: string, queueId: number, pull: SuspendedPull): SuspendRefusal | undefined {
    if (this.count >= MAX_SUSPENDED_PULLS) return "broker";
    const ofConnection = this.perConnection.get(pull.conn.id) ?? 0;
    if (ofConnection >= MAX_SUSPENDED_PULLS_PER_CONNECTION) return "connection";
    this.perConnection.set(pull.conn.id, ofConnection + 1);
    const key = `${topic}@${queueId}`;
    let list = this.table.get(key);
    if (!list) {
      list = [];
      this.table.set(key, list);
    }
    list.push(pull);
    this.count++;
    return undefined;
  }

  private forget(pull: SuspendedPull): void {
    const left = (this.perConnection.get(pull.conn.id) ?? 1) - 1;
    if (left > 0) this.perConnection.set(pull.conn.id, left);
    else this.perConnection.delete(pull.conn.id);
  }

  /** Store dispatch made `maxOffset - 1` visible in topic/queueId; `tagsCode` undefined = sweep (entries checked). */
  notifyMessageArriving(topic: string, queueId: number, maxOffset: number, tagsCode?: number): void {
    const key = `${topic}@${queueId}`;
    const list = this.table.get(key);
    if (!list) return;
    const now = Date.now();
    const keep: SuspendedPull[] = [];
    const wake: SuspendedPull[] = [];
    for (const pull of list) {
      if (pull.conn.closed) {
        this.forget(pull);
        continue;
      }
      const arrived = maxOffset > pull.pullFromOffset && this.matches(pull, topic, queueId, maxOffset, tagsCode);
      if (arrived || now >= pull.suspendedAtMs + pull.timeoutMs) {
        this.forget(pull);
        wake.push(pull);
      } else {
        keep.push(pull);
      }
    }
    this.count -= list.length - keep.length;
    if (keep.length === 0) this.table.delete(key);
    else this.table.set(key, keep);
    for (const pull of wake) this.executeAgain(pull);
  }

  private matches(pull: SuspendedPull, topic: string, queueId: number, maxOffset: number, tagsCode: number | undefined): boolean {
    const filter = pull.filter;
    if (!filter) return true;
    if (tagsCode !== undefined) return filter(tagsCode);
    if (maxOffset - pull.pullFromOffset > SWEEP_MAX_ENTRIES_CHECKED) return true;
    for (let offset = pull.pullFromOffset; offset < maxOffset; offset++) {
      const code = this.tagsCodeAt(topic, queueId, offset);
      if (code === undefined || filter(code)) return true;
    }
    return false;
  }

  start(): void {
    this.timer = setInterval(guardedTask("long polling check", () => this.checkAll()), this.checkIntervalMs);
  }

  shutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.table.clear();
    this.perConnection.clear();
    this.count = 0;
  }

  /** The sweep: current max offsets, no tags code (a newer message may match). */
  checkAll(): void {
    for (const key of [...this.table.keys()]) {
      const at = key.lastIndexOf("@");
      const topic = key.slice(0, at);
      const queueId = Number(key.slice(at + 1));
      this.notifyMessageArriving(topic, queueId, this.maxOffsetInQueue(topic, queueId));
    }
  }
}
