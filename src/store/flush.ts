// Commit-log flushing (storage doc §9): the ASYNC_FLUSH timer service and the SYNC_FLUSH group
// commit, where every put waits until one fsync covered its end offset and concurrent puts share
// that fsync. Both drive a FlushTarget, so they never fsync one file twice at the same time.

import type { PutMessageStatus } from "./store-types.ts";

/**
 * What the services flush: the commit log (which also advances the checkpoint). A failed flush is
 * final: after an fsync error the kernel may have dropped the dirty pages and a later fsync can
 * succeed without them, so the services never retry (nothing is acknowledged past the failure).
 */
export interface FlushTarget {
  /** Fsyncs segments with at least `leastPages` dirty 4 KiB pages (0 = all); resolves to the durable offset. */
  flush(leastPages: number): Promise<number>;
  getFlushedWhere(): number;
}

/** Puts waiting for an fsync at once; past it a put answers FLUSH_DISK_TIMEOUT at once (data kept). */
export const GROUP_COMMIT_MAX_WAITERS = 100_000;
/** Consumed queue slots dropped from the front of the waiter array once this many accumulate. */
const WAITER_COMPACT_THRESHOLD = 1024;

/** SERVICE_NOT_AVAILABLE: an fsync failed; the record may not be durable and the store is read-only. */
export type FlushStatus = Extract<PutMessageStatus, "PUT_OK" | "FLUSH_DISK_TIMEOUT" | "SERVICE_NOT_AVAILABLE">;

export interface AsyncFlushOptions {
  /** ms between flushes (flushIntervalCommitLog). */
  intervalMs: number;
  /** Dirty 4 KiB pages needed for a flush (flushCommitLogLeastPages). */
  leastPages: number;
  /** ms after which everything dirty is flushed (flushCommitLogThoroughInterval). */
  thoroughIntervalMs: number;
}

/** ASYNC_FLUSH (Java FlushRealTimeService): puts return at once; a timer fsyncs in the background. */
export class AsyncFlushService {
  private readonly target: FlushTarget;
  private readonly options: AsyncFlushOptions;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  /** A flush failed: the service stopped for good. */
  private failed = false;
  private lastThoroughMs = 0;

  constructor(target: FlushTarget, options: AsyncFlushOptions) {
    if (!(options.intervalMs > 0)) throw new Error(`flushIntervalCommitLog must be > 0 ms, got ${options.intervalMs}`);
    this.target = target;
    this.options = options;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.lastThoroughMs = performance.now();
    this.arm();
  }

  private arm(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.flushOnce().finally(() => {
        this.running = undefined;
        this.arm();
      });
    }, this.options.intervalMs);
  }

  private async flushOnce(): Promise<void> {
    const now = performance.now();
    const thorough = now - this.lastThoroughMs >= this.options.thoroughIntervalMs;
    if (thorough) this.lastThoroughMs = now;
    try {
      await this.target.flush(thorough ? 0 : this.options.leastPages);
    } catch {
      // The target logged it and turned read-only; flushing again could only hide the loss.
      this.failed = true;
      this.stopped = true;
    }
  }

  /** Stops the timer and flushes everything once more (unless a flush already failed). */
  async shutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.running) await this.running;
    if (this.failed) return;
    try {
      await this.target.flush(0);
    } catch {
      // Logged by the target; shutdown goes on.
    }
  }
}

interface Waiter {
  nextOffset: number;
  deadlineMs: number;
  resolve: (status: FlushStatus) => void;
}

/**
 * SYNC_FLUSH group commit (Java GroupCommitService + FlushDiskWatcher). A put calls
 * waitForFlush(wroteOffset + wroteBytes); one fsync loop serves every waiter whose end offset it
 * covered. Appends are sequential, so waiters arrive in offset order, which is also deadline order:
 * completion and expiry both take from the front (a rare out-of-order waiter only waits longer).
 */
export class GroupCommitService {
  private readonly target: FlushTarget;
  private readonly timeoutMs: number;
  private readonly maxWaiters: number;
  private waiters: Waiter[] = [];
  private head = 0;
  private loop: Promise<void> | undefined;
  /** A wakeup arrived while an fsync round was running: its data may be past that fsync, so run another. */
  private wakeupPending = false;
  private expiryTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  /** Set by a failed fsync: every waiter then, and every later one, answers SERVICE_NOT_AVAILABLE. */
  private failed = false;

  constructor(target: FlushTarget, options: { timeoutMs: number; maxWaiters?: number }) {
    if (!(options.timeoutMs > 0)) throw new Error(`syncFlushTimeout must be > 0 ms, got ${options.timeoutMs}`);
    this.target = target;
    this.timeoutMs = options.timeoutMs;
    this.maxWaiters = options.maxWaiters ?? GROUP_COMMIT_MAX_WAITERS;
  }

  get pendingCount(): number {
    return this.waiters.length - this.head;
  }

  /** Resolves PUT_OK once an fsync covered `nextOffset`, FLUSH_DISK_TIMEOUT after the timeout. */
  waitForFlush(nextOffset: number): Promise<FlushStatus> {
    if (this.target.getFlushedWhere() >= nextOffset) return Promise.resolve("PUT_OK");
    if (this.failed) return Promise.resolve("SERVICE_NOT_AVAILABLE");
    if (this.stopped || this.pendingCount >= this.maxWaiters) return Promise.resolve("FLUSH_DISK_TIMEOUT");
    return new Promise<FlushStatus>((resolve) => {
      this.waiters.push({ nextOffset, deadlineMs: performance.now() + this.timeoutMs, resolve });
      this.wakeup();
      this.armExpiry();
    });
  }

  /**
   * Schedules an fsync round without waiting for it (a put with WAIT=false, Java wakeup()), so
   * such messages become durable soon even when no put waits.
   */
  wakeup(): void {
    if (this.stopped) return;
    if (this.loop !== undefined) {
      this.wakeupPending = true;
      return;
    }
    // Start after the current macrotask and all its promise chains, so every put they make
    // (e.g. the lanes a completed fsync just released) shares the first fsync.
    this.loop = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.run());
  }

  private async run(): Promise<void> {
    try {
      do {
        this.wakeupPending = false;
        let flushed: number;
        try {
          flushed = await this.target.flush(0);
        } catch {
          // Logged by the target. No retry: it could succeed without the lost pages and acknowledge them.
          this.failAll();
          break;
        }
        this.completeUpTo(flushed);
      } while (this.pendingCount > 0 || (this.wakeupPending && !this.stopped));
    } finally {
      this.loop = undefined;
    }
  }

  /** Answers every waiter not covered by a successful fsync with SERVICE_NOT_AVAILABLE, and stops. */
  private failAll(): void {
    this.failed = true;
    this.stopped = true;
    this.completeUpTo(this.target.getFlushedWhere());
    while (this.pendingCount > 0) this.waiters[this.head++]!.resolve("SERVICE_NOT_AVAILABLE");
    this.compact();
  }

  private completeUpTo(flushedOffset: number): void {
    while (this.pendingCount > 0 && this.waiters[this.head]!.nextOffset <= flushedOffset) {
      this.waiters[this.head++]!.resolve("PUT_OK");
    }
    this.compact();
  }

  private compact(): void {
    if (this.head === this.waiters.length) {
      this.waiters = [];
      this.head = 0;
    } else if (this.head >= WAITER_COMPACT_THRESHOLD && this.head * 2 >= this.waiters.length) {
      this.waiters = this.waiters.slice(this.head);
      this.head = 0;
    }
  }

  private armExpiry(): void {
    if (this.expiryTimer !== undefined || this.pendingCount === 0) return;
    const delayMs = Math.max(0, this.waiters[this.head]!.deadlineMs - performance.now());
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = undefined;
      const now = performance.now();
      while (this.pendingCount > 0 && this.waiters[this.head]!.deadlineMs <= now) {
        this.waiters[this.head++]!.resolve("FLUSH_DISK_TIMEOUT");
      }
      this.compact();
      this.armExpiry();
    }, delayMs + 1);
  }

  /** Fsyncs once more, answers every waiter (PUT_OK if covered, else FLUSH_DISK_TIMEOUT), stops. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    if (this.loop) await this.loop.catch(() => undefined);
    let flushed = this.target.getFlushedWhere();
    if (!this.failed) {
      try {
        flushed = await this.target.flush(0);
      } catch {
        // Logged by the target.
      }
    }
    this.completeUpTo(flushed);
    while (this.pendingCount > 0) this.waiters[this.head++]!.resolve("FLUSH_DISK_TIMEOUT");
    this.compact();
    if (this.expiryTimer !== undefined) clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
  }
}
