// Orderly consumption (Java ConsumeMessageOrderlyService, protocol doc 6.11): one listener call at a
// time per queue, only while this client holds the queue's broker lock; failures suspend the queue
// and retry the same messages locally.

import type { ConsumedMessage } from "./consumed-message.ts";
import type { ConsumeHost } from "./consume-host.ts";
import { lockBatch } from "./broker-api.ts";
import { errorText } from "./errors.ts";
import { type MessageQueue, mqKey, mqText } from "./message-queue.ts";
import type { ProcessQueue } from "./process-queue.ts";

export type ConsumeOrderlyStatus = "SUCCESS" | "SUSPEND_CURRENT_QUEUE_A_MOMENT";

export interface OrderlyContext {
  messageQueue: MessageQueue;
  suspendCurrentQueueTimeMs: number;
}

export type OrderlyListener = (msgs: ConsumedMessage[], ctx: OrderlyContext) => ConsumeOrderlyStatus | Promise<ConsumeOrderlyStatus>;

/** Pause before trying again to lock a queue held by another client. */
export const RELOCK_DELAY_MS = 3_000;

export class OrderlyConsumeService {
  /** Listener calls running now. */
  active = 0;

  constructor(
    private readonly host: ConsumeHost,
    private readonly listener: OrderlyListener,
    private readonly batchSize: number,
    private readonly suspendMs: number,
    private readonly maxReconsumeTimes: number,
  ) {}

  dispatch(mq: MessageQueue, pq: ProcessQueue): void {
    if (!pq.consuming) this.start(mq, pq);
  }

  private start(mq: MessageQueue, pq: ProcessQueue): void {
    void this.consume(mq, pq).catch((err) => this.host.inst.log.warn(`orderly consumption of ${mqText(mq)} stopped: ${errorText(err)}`));
  }

  /** LOCK_BATCH_MQ for one queue on its master; broadcasting needs no lock. */
  async lock(mq: MessageQueue): Promise<boolean> {
    const host = this.host;
    if (host.messageModel === "BROADCASTING") return true;
    const addr = host.inst.findMasterAddr(mq.brokerName);
    if (!addr) return false;
    try {
      const locked = await lockBatch(host.inst, addr, host.group, [mq]);
      return locked.some((m) => mqKey(m) === mqKey(mq));
    } catch (err) {
      host.inst.log.warn(`lock ${mqText(mq)} failed: ${errorText(err)}`);
      return false;
    }
  }

  /** Lock renewal for every owned queue, one LOCK_BATCH_MQ per broker. */
  async lockAll(owned: Iterable<{ mq: MessageQueue; pq: ProcessQueue }>): Promise<void> {
    const host = this.host;
    const byBroker = new Map<string, Array<{ mq: MessageQueue; pq: ProcessQueue }>>();
    for (const e of owned) {
      const list = byBroker.get(e.mq.brokerName) ?? [];
      list.push(e);
      byBroker.set(e.mq.brokerName, list);
    }
    for (const [brokerName, entries] of byBroker) {
      const addr = host.inst.findMasterAddr(brokerName);
      if (!addr) continue;
      try {
        const locked = new Set((await lockBatch(host.inst, addr, host.group, entries.map((e) => e.mq))).map(mqKey));
        for (const { mq, pq } of entries) {
          pq.locked = locked.has(mqKey(mq));
          if (pq.locked) pq.lastLockTimestamp = Date.now();
        }
      } catch (err) {
        host.inst.log.warn(`lock renewal on ${brokerName} failed: ${errorText(err)}`);
      }
    }
  }

  private async consume(mq: MessageQueue, pq: ProcessQueue): Promise<void> {
    const host = this.host;
    pq.consuming = true;
    const clustered = host.messageModel === "CLUSTERING";
    try {
      while (host.isRunning() && !pq.dropped) {
        if (clustered && (!pq.locked || pq.lockExpired)) {
          pq.locked = await this.lock(mq);
          if (!pq.locked) {
            await host.pause(RELOCK_DELAY_MS);
            continue;
          }
          pq.lastLockTimestamp = Date.now();
        }
        const msgs = pq.take(this.batchSize);
        if (msgs.length === 0) break;
        let status: ConsumeOrderlyStatus;
        this.active++;
        pq.inListener = true;
        try {
          status = await this.listener(msgs, { messageQueue: mq, suspendCurrentQueueTimeMs: this.suspendMs });
        } catch (err) {
          host.inst.log.warn(`orderly listener of ${host.group} threw on ${mqText(mq)}: ${errorText(err)}`);
          status = "SUSPEND_CURRENT_QUEUE_A_MOMENT";
        } finally {
          this.active--;
          pq.inListener = false;
        }
        if (pq.dropped) break;
        if (status !== "SUCCESS" && !(await this.giveUpExhausted(msgs))) {
          for (const m of msgs) m.reconsumeTimes++;
          pq.rollback();
          await host.pause(this.suspendMs);
          continue;
        }
        const offset = pq.commit();
        if (offset >= 0) host.offsetStore.update(mq, offset, false);
      }
    } finally {
      pq.consuming = false;
    }
    // Messages that arrived while the loop was finishing.
    if (host.isRunning() && !pq.dropped && pq.msgCount > 0) this.start(mq, pq);
  }

  /** Messages over maxReconsumeTimes go to the DLQ via the retry topic. True when all of `msgs` are handled. */
  private async giveUpExhausted(msgs: ConsumedMessage[]): Promise<boolean> {
    const host = this.host;
    if (!msgs.every((m) => m.reconsumeTimes >= this.maxReconsumeTimes)) return false;
    if (host.messageModel === "BROADCASTING") return true;
    try {
      for (const m of msgs) await host.retry.sendToRetryTopic(m);
      return true;
    } catch (err) {
      host.inst.log.warn(`orderly: moving exhausted messages to the DLQ failed: ${errorText(err)}`);
      return false;
    }
  }
}
