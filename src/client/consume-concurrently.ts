// Concurrent consumption (Java ConsumeMessageConcurrentlyService): batches of pulled messages go to
// the listener with a bound on simultaneous calls; failures are sent back for redelivery (protocol doc 6.10).

import { Prop } from "../common/message.ts";
import type { ConsumedMessage } from "./consumed-message.ts";
import type { ConsumeHost } from "./consume-host.ts";
import { errorText } from "./errors.ts";
import { type MessageQueue, mqText } from "./message-queue.ts";
import type { ProcessQueue } from "./process-queue.ts";

export type ConsumeConcurrentlyStatus = "CONSUME_SUCCESS" | "RECONSUME_LATER";

export interface ConcurrentContext {
  messageQueue: MessageQueue;
  /** 0 = broker decides (3 + reconsumeTimes); negative = straight to the DLQ. */
  delayLevelWhenNextConsume: number;
  /** On CONSUME_SUCCESS, messages after this index are retried. */
  ackIndex: number;
}

export type ConcurrentListener = (msgs: ConsumedMessage[], ctx: ConcurrentContext) => ConsumeConcurrentlyStatus | Promise<ConsumeConcurrentlyStatus>;

/** Local retry delay when neither send-back nor the retry topic took a failed message. */
const LOCAL_RETRY_DELAY_MS = 5_000;

/** A batch waiting for a listener slot. */
interface ConsumeTask {
  mq: MessageQueue;
  pq: ProcessQueue;
  msgs: ConsumedMessage[];
}

export class ConcurrentConsumeService {
  /** Batches waiting for a listener slot; bounded by the pull thresholds of the process queues. */
  private readonly backlog: ConsumeTask[] = [];
  /** Listener calls running now. */
  active = 0;

  constructor(
    private readonly host: ConsumeHost,
    private readonly listener: ConcurrentListener,
    private readonly concurrency: number,
    private readonly batchSize: number,
  ) {}

  dispatch(mq: MessageQueue, pq: ProcessQueue, msgs: ConsumedMessage[]): void {
    // One batch in one task, the same array when it fits (the common case of a pull of up to 32).
    if (msgs.length <= this.batchSize) this.backlog.push({ mq, pq, msgs });
    else for (let i = 0; i < msgs.length; i += this.batchSize) this.backlog.push({ mq, pq, msgs: msgs.slice(i, i + this.batchSize) });
    this.drain();
  }

  /** Forgets batches not started yet (shutdown). */
  clearBacklog(): void {
    this.backlog.length = 0;
  }

  private drain(): void {
    while (this.active < this.concurrency && this.backlog.length > 0) {
      this.active++;
      void this.run(this.backlog.shift()!);
    }
  }

  /** One task; never rejects. */
  private async run(task: ConsumeTask): Promise<void> {
    try {
      await this.consume(task.mq, task.pq, task.msgs);
    } catch (err) {
      this.host.inst.log.warn(`consume task of ${this.host.group} failed: ${errorText(err)}`);
    } finally {
      this.active--;
      this.drain();
    }
  }

  private async consume(mq: MessageQueue, pq: ProcessQueue, msgs: ConsumedMessage[]): Promise<void> {
    const host = this.host;
    if (pq.dropped || !host.isRunning()) return;
    const ctx: ConcurrentContext = { messageQueue: mq, delayLevelWhenNextConsume: 0, ackIndex: Number.MAX_SAFE_INTEGER };
    const now = String(Date.now());
    for (const m of msgs) m.properties[Prop.CONSUME_START_TIME] = now;
    let status: ConsumeConcurrentlyStatus;
    try {
      status = await this.listener(msgs, ctx);
    } catch (err) {
      host.inst.log.warn(`listener of ${host.group} threw on ${msgs.length} message(s) from ${mqText(mq)}: ${errorText(err)}`);
      status = "RECONSUME_LATER";
    }
    if (status !== "CONSUME_SUCCESS") status = "RECONSUME_LATER";
    if (pq.dropped) return;
    // Shutting down: failed messages stay uncommitted for redelivery instead of being sent back.
    if (status === "RECONSUME_LATER" && !host.isRunning()) return;
    const ackIndex = status === "CONSUME_SUCCESS" ? Math.min(ctx.ackIndex, msgs.length - 1) : -1;
    if (ackIndex === msgs.length - 1) {
      // All consumed: nothing to send back (the path of nearly every batch).
      const offset = pq.remove(msgs);
      if (offset >= 0 && !pq.dropped) host.offsetStore.update(mq, offset, true);
      return;
    }
    const failed = msgs.slice(ackIndex + 1);
    const keepLocally: ConsumedMessage[] = [];
    if (host.messageModel === "BROADCASTING") {
      for (const m of failed) host.inst.log.warn(`BROADCASTING: dropping message ${m.msgId} that failed to consume`);
    } else {
      for (const m of failed) if (!(await host.retry.sendBack(m, ctx.delayLevelWhenNextConsume))) keepLocally.push(m);
    }
    const done = keepLocally.length === 0 ? msgs : msgs.filter((m) => !keepLocally.includes(m));
    const offset = pq.remove(done);
    if (offset >= 0 && !pq.dropped) host.offsetStore.update(mq, offset, true);
    if (keepLocally.length > 0) {
      for (const m of keepLocally) m.reconsumeTimes++;
      setTimeout(() => {
        this.backlog.push({ mq, pq, msgs: keepLocally });
        this.drain();
      }, LOCAL_RETRY_DELAY_MS).unref?.();
    }
  }
}
