// SYNC_MASTER group transfer (Java HAService.GroupTransferService): puts wait until a slave has
// acknowledged the commit log up to their end offset. One ack releases every waiter it covers.

import type { SlaveAckStatus } from "./ha-types.ts";

/**
 * Most puts waiting for a slave ack at once. Each waiter is one in-flight send request; beyond this
 * the broker is far past any sane backlog and the put is answered FLUSH_SLAVE_TIMEOUT at once
 * (the message is stored either way).
 */
export const SLAVE_ACK_WAITERS_MAX = 50_000;

interface Waiter {
  nextOffset: number;
  resolve: (status: SlaveAckStatus) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class SlaveAckWaiters {
  /** Sorted by nextOffset (puts are appended in commit-log order, so insertion is almost always at the end). */
  private readonly waiters: Waiter[] = [];
  private ackedOffset = 0;

  /** Highest offset any slave has acknowledged (Java push2SlaveMaxOffset). */
  getAckedOffset(): number {
    return this.ackedOffset;
  }

  size(): number {
    return this.waiters.length;
  }

  /** Resolves PUT_OK once a slave acks `nextOffset`, FLUSH_SLAVE_TIMEOUT after `timeoutMs`. */
  wait(nextOffset: number, timeoutMs: number): Promise<SlaveAckStatus> {
    if (this.ackedOffset >= nextOffset) return Promise.resolve("PUT_OK");
    if (this.waiters.length >= SLAVE_ACK_WAITERS_MAX) return Promise.resolve("FLUSH_SLAVE_TIMEOUT");
    return new Promise<SlaveAckStatus>((resolve) => {
      const waiter: Waiter = {
        nextOffset,
        resolve,
        timer: setTimeout(() => this.expire(waiter), timeoutMs),
      };
      this.insertSorted(waiter);
    });
  }

  /** A slave reported `offset`: raise the acked offset and release the waiters it covers. */
  ack(offset: number): void {
    if (offset <= this.ackedOffset) return;
    this.ackedOffset = offset;
    let released = 0;
    while (released < this.waiters.length && this.waiters[released]!.nextOffset <= offset) released++;
    if (released === 0) return;
    for (const waiter of this.waiters.splice(0, released)) {
      clearTimeout(waiter.timer);
      waiter.resolve("PUT_OK");
    }
  }

  /** Shutdown: every waiter gets FLUSH_SLAVE_TIMEOUT now instead of hanging. */
  cancelAll(): void {
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.resolve("FLUSH_SLAVE_TIMEOUT");
    }
  }

  private expire(waiter: Waiter): void {
    const index = this.waiters.indexOf(waiter);
    if (index < 0) return;
    this.waiters.splice(index, 1);
    waiter.resolve("FLUSH_SLAVE_TIMEOUT");
  }

  private insertSorted(waiter: Waiter): void {
    let index = this.waiters.length;
    while (index > 0 && this.waiters[index - 1]!.nextOffset > waiter.nextOffset) index--;
    this.waiters.splice(index, 0, waiter);
  }
}
