// Messages pulled from one queue and not yet consumed (Java ProcessQueue): drives flow control,
// the commit offset (smallest offset still in flight) and orderly consumption.

import type { ConsumedMessage } from "./consumed-message.ts";

/** A lock the client did not renew for this long is treated as lost (Java REBALANCE_LOCK_MAX_LIVE_TIME). */
export const LOCK_MAX_LIVE_MS = 30_000;
/** A queue not pulled for this long is dropped at the next rebalance (Java PULL_MAX_IDLE_TIME). */
export const PULL_MAX_IDLE_MS = 120_000;

export class ProcessQueue {
  /** offset → message, in ascending offset order (pulls append ascending; removal keeps order). */
  private readonly msgs = new Map<number, ConsumedMessage>();
  /** Orderly: messages handed to the listener and not yet committed. */
  private readonly consumingMsgs = new Map<number, ConsumedMessage>();
  msgSizeBytes = 0;
  maxOffsetSeen = -1;
  dropped = false;
  locked = false;
  lastLockTimestamp = 0;
  lastPullTimestamp = Date.now();
  lastConsumeTimestamp = Date.now();
  /** Orderly: a consume loop is running for this queue. */
  consuming = false;
  /** Orderly: the listener is running on this queue's messages right now. */
  inListener = false;

  get msgCount(): number {
    return this.msgs.size + this.consumingMsgs.size;
  }

  /** Offset span of cached messages (concurrent flow control). */
  get spanOffset(): number {
    const first = this.msgs.keys().next();
    return first.done ? 0 : this.maxOffsetSeen - first.value;
  }

  get lockExpired(): boolean {
    return Date.now() - this.lastLockTimestamp > LOCK_MAX_LIVE_MS;
  }

  get pullExpired(): boolean {
    return Date.now() - this.lastPullTimestamp > PULL_MAX_IDLE_MS;
  }

  /** Adds messages not seen yet; returns those added. */
  put(messages: ConsumedMessage[]): ConsumedMessage[] {
    const added: ConsumedMessage[] = [];
    for (const m of messages) {
      if (m.queueOffset <= this.maxOffsetSeen || this.msgs.has(m.queueOffset)) continue;
      this.msgs.set(m.queueOffset, m);
      this.msgSizeBytes += m.body.length;
      this.maxOffsetSeen = m.queueOffset;
      added.push(m);
    }
    return added;
  }

  /**
   * Removes consumed messages and returns the offset to commit: the first message still cached, or
   * maxOffsetSeen + 1 when none is; -1 when the queue held nothing.
   */
  remove(messages: ConsumedMessage[]): number {
    if (this.msgs.size === 0) return -1;
    for (const m of messages) {
      if (this.msgs.delete(m.queueOffset)) this.msgSizeBytes -= m.body.length;
    }
    this.lastConsumeTimestamp = Date.now();
    const first = this.msgs.keys().next();
    return first.done ? this.maxOffsetSeen + 1 : first.value;
  }

  /** Orderly: moves up to `n` of the oldest messages to the consuming set. */
  take(n: number): ConsumedMessage[] {
    const out: ConsumedMessage[] = [];
    for (const [offset, m] of this.msgs) {
      if (out.length >= n) break;
      out.push(m);
      this.msgs.delete(offset);
      this.consumingMsgs.set(offset, m);
    }
    this.lastConsumeTimestamp = Date.now();
    return out;
  }

  /** Orderly: the consuming set is done; returns the next offset to commit, or -1. */
  commit(): number {
    let max = -1;
    for (const [offset, m] of this.consumingMsgs) {
      if (offset > max) max = offset;
      this.msgSizeBytes -= m.body.length;
    }
    this.consumingMsgs.clear();
    return max < 0 ? -1 : max + 1;
  }

  /** Orderly: puts the consuming set back in front, to be consumed again. */
  rollback(): void {
    if (this.consumingMsgs.size === 0) return;
    const rest = [...this.msgs];
    this.msgs.clear();
    for (const [o, m] of [...this.consumingMsgs].sort((a, b) => a[0] - b[0])) this.msgs.set(o, m);
    for (const [o, m] of rest) this.msgs.set(o, m);
    this.consumingMsgs.clear();
  }

  /** Drops every cached message (reset offset, queue removal). */
  clear(): void {
    this.msgs.clear();
    this.consumingMsgs.clear();
    this.msgSizeBytes = 0;
    this.maxOffsetSeen = -1;
  }

  firstOffset(): number {
    const first = this.msgs.keys().next();
    return first.done ? -1 : first.value;
  }

  info(commitOffset: number): Record<string, unknown> {
    return {
      cachedMsgCount: this.msgCount,
      cachedMsgMaxOffset: this.maxOffsetSeen,
      cachedMsgMinOffset: this.firstOffset(),
      cachedMsgSizeInMiB: Math.floor(this.msgSizeBytes / (1024 * 1024)),
      commitOffset,
      droped: this.dropped,
      lastConsumeTimestamp: this.lastConsumeTimestamp,
      lastLockTimestamp: this.lastLockTimestamp,
      lastPullTimestamp: this.lastPullTimestamp,
      locked: this.locked,
      transactionMsgCount: 0,
      transactionMsgMaxOffset: 0,
      transactionMsgMinOffset: 0,
      tryUnlockTimes: 0,
    };
  }
}
