// Delayed messages (Java ScheduleMessageService, storage doc §12.6): the store parks a message with
// DELAY=n in SCHEDULE_TOPIC_XXXX queue n-1; one timer per level here delivers due messages to their
// REAL_TOPIC/REAL_QID. Progress per level lives in config/delayOffset.json.

import path from "node:path";
import { decodeRecord } from "../common/message-codec.ts";
import { Prop, propertiesToString, tagsHashCode, type MessageInner } from "../common/message.ts";
import { SystemTopic } from "../common/topic.ts";
import type { MessageStore } from "../store/message-store.ts";
import { MetadataFile } from "./config-file.ts";
import { parseDelayLevels } from "../common/delay-levels.ts";
import { guardedTask } from "../common/guarded-task.ts";

/** Java: first run of each level 1 s after start. */
const FIRST_RUN_DELAY_MS = 1_000;
/** Java DELAY_FOR_A_WHILE: re-check interval when nothing is due or a put failed. */
const RECHECK_INTERVAL_MS = 100;
/** Java DELAY_FOR_A_PERIOD: back-off after an unexpected error. */
const ERROR_BACKOFF_MS = 10_000;
/** Messages read from a level queue per store call; bounds one run's work. */
const READ_BATCH_MESSAGES = 32;
/** Runs per timer tick at most, so one level with a large backlog yields the event loop. */
const MAX_BATCHES_PER_RUN = 64;

/** Group name passed to the store when reading level queues (statistics only). */
const SCHEDULE_READER_GROUP = "SCHEDULE_MESSAGE_SERVICE";

export class ScheduleMessageService {
  /** Delay of level n at index n-1, in ms. */
  readonly levelDelaysMs: number[];
  /** level (1-based) → next consume-queue offset to deliver. */
  readonly offsetTable = new Map<number, number>();
  /** delayOffset.json, written in the background (config-file.ts). */
  readonly metadata: MetadataFile;
  private readonly timers = new Map<number, ReturnType<typeof setTimeout>>();
  private persistTimer: ReturnType<typeof setInterval> | undefined;
  private running = false;
  private dirty = false;

  constructor(
    private readonly store: MessageStore,
    messageDelayLevel: string,
    storePathRootDir: string,
    private readonly flushDelayOffsetIntervalMs: number,
  ) {
    this.levelDelaysMs = parseDelayLevels(messageDelayLevel);
    this.metadata = new MetadataFile(path.join(storePathRootDir, "config", "delayOffset.json"), () => this.toJson());
  }

  get maxLevel(): number {
    return this.levelDelaysMs.length;
  }

  /** Reads delayOffset.json, clamping each offset into its queue's [min, max]; a corrupt file without a usable .bak throws. */
  load(): void {
    const table = this.metadata.load()?.offsetTable;
    if (typeof table === "object" && table !== null) this.loadTable(table);
  }

  private loadTable(table: object): void {
    for (const [levelText, offsetValue] of Object.entries(table as Record<string, unknown>)) {
      const level = Number(levelText);
      const offset = Number(offsetValue);
      if (!Number.isInteger(level) || level < 1 || level > this.maxLevel || !Number.isFinite(offset)) continue;
      const min = this.store.getMinOffsetInQueue(SystemTopic.SCHEDULE, level - 1);
      const max = this.store.getMaxOffsetInQueue(SystemTopic.SCHEDULE, level - 1);
      this.offsetTable.set(level, Math.min(Math.max(offset, Math.max(min, 0)), max));
    }
  }

  /**
   * Slave sync (Java SlaveSynchronize.syncDelayOffset): the master's delayOffset.json content
   * (the parsed GET_ALL_DELAY_OFFSET body) becomes this broker's file and table.
   */
  replaceFromMaster(raw: unknown): void {
    const table = (raw as Record<string, unknown>).offsetTable;
    if (typeof table !== "object" || table === null) throw new Error("master delay offsets have no offsetTable");
    this.offsetTable.clear();
    this.loadTable(table);
    this.metadata.markDirty();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (let level = 1; level <= this.maxLevel; level++) this.schedule(level, FIRST_RUN_DELAY_MS);
    this.persistTimer = setInterval(guardedTask("delay offset persist", () => this.persist()), this.flushDelayOffsetIntervalMs);
  }

  /** Stops delivery and waits until the offsets are durable. */
  async shutdown(): Promise<void> {
    this.running = false;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    if (this.persistTimer) clearInterval(this.persistTimer);
    this.metadata.markDirty();
    await this.metadata.flush();
  }

  /** Schedules a background write when deliveries moved an offset since the last one. */
  persist(): void {
    if (!this.dirty) return;
    this.dirty = false;
    this.metadata.markDirty();
  }

  toJson(): { offsetTable: Record<string, number> } {
    const offsetTable: Record<string, number> = {};
    for (const [level, offset] of [...this.offsetTable].sort((a, b) => a[0] - b[0])) offsetTable[String(level)] = offset;
    return { offsetTable };
  }

  /** `scheduleMessageOffset_<level>` runtime-info entries: "delayOffset,maxOffset". */
  runtimeInfo(): Record<string, string> {
    const out: Record<string, string> = {};
    for (let level = 1; level <= this.maxLevel; level++) {
      const max = this.store.getMaxOffsetInQueue(SystemTopic.SCHEDULE, level - 1);
      out[`scheduleMessageOffset_${level}`] = `${this.offsetTable.get(level) ?? 0},${max}`;
    }
    return out;
  }

  private schedule(level: number, delayMs: number): void {
    if (!this.running) return;
    this.timers.set(level, setTimeout(guardedTask(`schedule level ${level}`, () => this.run(level)), delayMs));
  }

  private async run(level: number): Promise<void> {
    let next = RECHECK_INTERVAL_MS;
    try {
      next = await this.deliverDue(level);
    } catch (err) {
      console.error(`schedule level ${level}: ${(err as Error).message}`);
      next = ERROR_BACKOFF_MS;
    }
    this.schedule(level, next);
  }

  /** Delivers due messages of one level; returns the delay until the next run. */
  private async deliverDue(level: number): Promise<number> {
    const queueId = level - 1;
    const delayMs = this.levelDelaysMs[queueId]!;
    for (let batch = 0; batch < MAX_BATCHES_PER_RUN && this.running; batch++) {
      const offset = this.offsetTable.get(level) ?? 0;
      const result = this.store.getMessage(SCHEDULE_READER_GROUP, SystemTopic.SCHEDULE, queueId, offset, READ_BATCH_MESSAGES);
      if (result.status === "OFFSET_TOO_SMALL" || result.status === "OFFSET_OVERFLOW_BADLY" || result.status === "OFFSET_FOUND_NULL") {
        this.setOffset(level, result.nextBeginOffset);
        continue;
      }
      if (result.status !== "FOUND") return RECHECK_INTERVAL_MS;
      for (const record of result.messages) {
        const stored = decodeRecord(record, true);
        const now = Date.now();
        // A deliver time beyond now + delay means the clock went backwards: deliver now.
        let deliverAt = stored.storeTimestamp + delayMs;
        if (deliverAt > now + delayMs) deliverAt = now;
        if (deliverAt > now) return Math.min(deliverAt - now, RECHECK_INTERVAL_MS);
        const delivered = await this.deliver(stored);
        if (!delivered) return RECHECK_INTERVAL_MS;
        this.setOffset(level, stored.queueOffset + 1);
      }
    }
    return 0;
  }

  /** Puts the real message back; false when the store refused it (retried later). */
  private async deliver(stored: MessageInner): Promise<boolean> {
    const realTopic = stored.properties[Prop.REAL_TOPIC];
    const realQid = Number(stored.properties[Prop.REAL_QID]);
    if (realTopic === undefined || !Number.isInteger(realQid) || realTopic === SystemTopic.TRANS_HALF) return true;
    const properties = { ...stored.properties };
    delete properties[Prop.DELAY];
    const msg: MessageInner = {
      topic: realTopic,
      queueId: realQid,
      flag: stored.flag,
      body: stored.body,
      properties,
      propertiesString: propertiesToString(properties),
      tagsCode: tagsHashCode(properties[Prop.TAGS]),
      sysFlag: stored.sysFlag,
      bornTimestamp: stored.bornTimestamp,
      bornHost: stored.bornHost,
      storeHost: stored.storeHost,
      reconsumeTimes: stored.reconsumeTimes,
      preparedTransactionOffset: stored.preparedTransactionOffset,
    };
    const result = await this.store.putMessage(msg);
    return result.status === "PUT_OK" || result.status === "FLUSH_DISK_TIMEOUT" || result.status === "FLUSH_SLAVE_TIMEOUT" || result.status === "SLAVE_NOT_AVAILABLE";
  }

  private setOffset(level: number, offset: number): void {
    this.offsetTable.set(level, offset);
    this.dirty = true;
  }
}
