// Orderly-consumption queue locks (Java RebalanceLockManager, protocol doc 6.11): per group and
// queue one holder clientId; a lock not renewed within the expiry can be taken by another client.

/** Java `rocketmq.broker.rebalance.lockMaxLiveTime`: a lock not renewed for this long is free. */
export const REBALANCE_LOCK_MAX_LIVE_MS = 60_000;

/** Bound on locked queues per group, so a client listing made-up queues cannot grow memory without end. */
export const MAX_LOCKS_PER_GROUP = 100_000;
/** Bound on groups with locks, for the same reason. */
export const MAX_LOCK_GROUPS = 10_000;

export interface MessageQueueId {
  topic: string;
  brokerName: string;
  queueId: number;
}

interface LockEntry {
  clientId: string;
  lastUpdateMs: number;
}

function mqKey(mq: MessageQueueId): string {
  return `${mq.topic}\u0000${mq.brokerName}\u0000${mq.queueId}`;
}

export class RebalanceLockManager {
  private readonly groups = new Map<string, Map<string, LockEntry>>();

  constructor(
    private readonly lockMaxLiveMs = REBALANCE_LOCK_MAX_LIVE_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Locks what it can for `clientId`; returns the queues this client now holds. */
  tryLockBatch(group: string, mqs: MessageQueueId[], clientId: string): MessageQueueId[] {
    let locks = this.groups.get(group);
    if (!locks) {
      if (this.groups.size >= MAX_LOCK_GROUPS) return [];
      locks = new Map();
      this.groups.set(group, locks);
    }
    const now = this.now();
    const granted: MessageQueueId[] = [];
    for (const mq of mqs) {
      const key = mqKey(mq);
      const entry = locks.get(key);
      if (!entry) {
        if (locks.size >= MAX_LOCKS_PER_GROUP) continue;
        locks.set(key, { clientId, lastUpdateMs: now });
        granted.push(mq);
      } else if (entry.clientId === clientId || now - entry.lastUpdateMs > this.lockMaxLiveMs) {
        entry.clientId = clientId;
        entry.lastUpdateMs = now;
        granted.push(mq);
      }
    }
    return granted;
  }

  /** Removes the locks `clientId` holds among `mqs`. */
  unlockBatch(group: string, mqs: MessageQueueId[], clientId: string): void {
    const locks = this.groups.get(group);
    if (!locks) return;
    for (const mq of mqs) {
      const key = mqKey(mq);
      if (locks.get(key)?.clientId === clientId) locks.delete(key);
    }
    if (locks.size === 0) this.groups.delete(group);
  }

  isLockedBy(group: string, mq: MessageQueueId, clientId: string): boolean {
    const entry = this.groups.get(group)?.get(mqKey(mq));
    return entry !== undefined && entry.clientId === clientId && this.now() - entry.lastUpdateMs <= this.lockMaxLiveMs;
  }
}
