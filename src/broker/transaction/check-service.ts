// The transaction check-back service (Java TransactionalMessageCheckService +
// TransactionalMessageServiceImpl.check, storage doc §12.8): every transactionCheckInterval it walks
// the half queue from the CID_RMQ_SYS_TRANS offset, skips halves that have an op record, and for
// unresolved halves older than transactionTimeOut re-appends the half message and asks a producer
// of its group for the outcome. Halves checked transactionCheckMax times are discarded into
// TRANS_CHECK_MAX_TIME_TOPIC.

import { Prop, type MessageExt } from "../../common/message.ts";
import { SystemTopic } from "../../common/topic.ts";
import { createLogger } from "../../log.ts";
import type { ProducerManager } from "../producer-manager.ts";
import { sendCheckMessage } from "./check-back.ts";
import { OP_REMOVE_TAG, type BridgePullResult, type HalfMessageBridge } from "./half-message-bridge.ts";

const log = createLogger("transaction");
const textDecoder = new TextDecoder();

/** Java MAX_PROCESS_TIME_LIMIT: one run spends at most this long on one half queue. */
const MAX_PROCESS_TIME_PER_QUEUE_MS = 60_000;
/** Java MAX_RETRY_COUNT_WHEN_HALF_NULL: missing half messages tolerated per queue per run. */
const MAX_RETRY_COUNT_WHEN_HALF_NULL = 1;
/** Java pullOpMsg batch: op records read per fill of the removed map. */
const OP_PULL_BATCH_COUNT = 32;
/** Loop bound per queue per run, besides the time limit: half offsets plus op refills visited. */
const MAX_STEPS_PER_QUEUE = 1_000_000;
/** The scan yields to the event loop this often so sockets keep being served during a long run. */
const YIELD_EVERY_STEPS = 1_000;
const MS_PER_HOUR = 3_600_000;
const MS_PER_SECOND = 1_000;

/** broker.conf keys the service reads (names and defaults of Java BrokerConfig / MessageStoreConfig). */
export interface TransactionCheckSettings {
  /** A half younger than this (ms since born) is not checked yet. */
  transactionTimeOut: number;
  /** Checks before a half is discarded. */
  transactionCheckMax: number;
  /** Period of the check run, ms. */
  transactionCheckInterval: number;
  /** Halves born more than this many hours ago are discarded unchecked. */
  fileReservedTime: number;
}

export interface CheckRunStats {
  /** CHECK_TRANSACTION_STATE requests sent (or attempted with no live producer). */
  checked: number;
  discarded: number;
  /** Half offsets found resolved by an op record. */
  resolved: number;
}

/** Java getLong/getInt: -1 when the text is not a number. */
function parseOr(text: string, fallback: number): number {
  const t = text.trim();
  return /^-?\d+$/.test(t) ? Number(t) : fallback;
}

export class TransactionCheckService {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<CheckRunStats> | undefined;
  private stopped = false;

  constructor(
    private readonly bridge: HalfMessageBridge,
    private readonly producers: ProducerManager,
    private readonly settings: () => TransactionCheckSettings,
  ) {}

  /** Runs a check every transactionCheckInterval, each interval counted from the end of the last run. */
  start(): void {
    this.stopped = false;
    this.schedule();
  }

  /** Stops the timer and waits for a run in progress (it stops at its next step). */
  async shutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.check().finally(() => this.schedule());
    }, Math.max(1, this.settings().transactionCheckInterval));
  }

  /** One check over every half queue; concurrent callers share the run in progress. */
  check(): Promise<CheckRunStats> {
    if (!this.running) {
      this.running = this.checkAll().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  private async checkAll(): Promise<CheckRunStats> {
    const stats: CheckRunStats = { checked: 0, discarded: 0, resolved: 0 };
    const begin = Date.now();
    try {
      const queueNums = this.bridge.halfTopicConfig().readQueueNums;
      for (let queueId = 0; queueId < queueNums && !this.stopped; queueId++) await this.checkQueue(queueId, stats);
    } catch (err) {
      log.error("transaction check failed", err);
    }
    log.debug(`transaction check done in ${Date.now() - begin} ms: ${stats.checked} checked, ${stats.discarded} discarded, ${stats.resolved} resolved`);
    return stats;
  }

  private async checkQueue(queueId: number, stats: CheckRunStats): Promise<void> {
    const { transactionTimeOut: timeoutMs, transactionCheckMax: checkMax, fileReservedTime } = this.settings();
    const startTime = Date.now();
    const halfOffset = this.bridge.fetchConsumeOffset(SystemTopic.TRANS_HALF, queueId);
    const opOffset = this.bridge.fetchConsumeOffset(SystemTopic.TRANS_OP_HALF, queueId);
    if (halfOffset < 0 || opOffset < 0) {
      log.error(`half queue ${queueId}: illegal check offsets half=${halfOffset} op=${opOffset}, skipped`);
      return;
    }
    /** Half offset → op offset of the record that resolved it. */
    const removeMap = new Map<number, number>();
    const doneOpOffsets: number[] = [];
    let opPull = this.fillOpRemoveMap(removeMap, queueId, opOffset, halfOffset, doneOpOffsets);
    let nullCount = 1;
    let newOffset = halfOffset;
    let i = halfOffset;
    for (let step = 0; step < MAX_STEPS_PER_QUEUE && !this.stopped; step++) {
      if (step > 0 && step % YIELD_EVERY_STEPS === 0) await new Promise((r) => setImmediate(r));
      if (Date.now() - startTime > MAX_PROCESS_TIME_PER_QUEUE_MS) {
        log.info(`half queue ${queueId}: check reached its time limit of ${MAX_PROCESS_TIME_PER_QUEUE_MS} ms`);
        break;
      }
      const removedOp = removeMap.get(i);
      if (removedOp !== undefined) {
        removeMap.delete(i);
        doneOpOffsets.push(removedOp);
        stats.resolved++;
      } else {
        const got = this.bridge.getHalfMessages(queueId, i, 1);
        const half = got.messages?.[0];
        if (!half) {
          if (nullCount++ > MAX_RETRY_COUNT_WHEN_HALF_NULL || got.status === "NO_NEW_MSG") break;
          // A hole (e.g. deleted files): continue from where the store says data resumes.
          i = got.nextBeginOffset;
          newOffset = i;
          continue;
        }
        if (this.needDiscard(half, checkMax) || this.needSkip(half, fileReservedTime)) {
          await this.resolveDiscard(half);
          stats.discarded++;
          newOffset = i + 1;
          i++;
          continue;
        }
        if (half.storeTimestamp >= startTime) break; // stored during this run: next run
        const ageMs = Date.now() - half.bornTimestamp;
        let immunityMs = timeoutMs;
        const immunityText = half.properties[Prop.CHECK_IMMUNITY_TIME_IN_SECONDS];
        if (immunityText !== undefined) {
          const seconds = parseOr(immunityText, -1);
          immunityMs = seconds === -1 ? timeoutMs : seconds * MS_PER_SECOND;
          if (ageMs < immunityMs && (await this.checkPrepareQueueOffset(removeMap, doneOpOffsets, half))) {
            newOffset = i + 1;
            i++;
            continue;
          }
        } else if (ageMs >= 0 && ageMs < immunityMs) {
          break; // the rest of the queue is younger still
        }
        const ops = opPull.messages;
        const lastOp = ops !== undefined && ops.length > 0 ? ops[ops.length - 1] : undefined;
        const needCheck = (lastOp === undefined && ageMs > immunityMs) || (lastOp !== undefined && lastOp.bornTimestamp - startTime > timeoutMs) || ageMs <= -1;
        if (!needCheck) {
          // Op records written after this half may still resolve it: read more of them first.
          opPull = this.fillOpRemoveMap(removeMap, queueId, opPull.nextBeginOffset, halfOffset, doneOpOffsets);
          continue;
        }
        if (!(await this.putBackHalfMsgQueue(half))) break; // store refuses writes: retry next run
        sendCheckMessage(this.producers, half);
        stats.checked++;
      }
      newOffset = i + 1;
      i++;
    }
    if (newOffset !== halfOffset) this.bridge.updateConsumeOffset(SystemTopic.TRANS_HALF, queueId, newOffset);
    const newOpOffset = contiguousOpOffset(doneOpOffsets, opOffset);
    if (newOpOffset !== opOffset) this.bridge.updateConsumeOffset(SystemTopic.TRANS_OP_HALF, queueId, newOpOffset);
  }

  /**
   * Reads op records from `fromOffset` into `removeMap` (half offset ≥ `minHalfOffset`) or
   * `doneOpOffsets` (older halves, already past). Java fillOpRemoveMap.
   */
  private fillOpRemoveMap(removeMap: Map<number, number>, queueId: number, fromOffset: number, minHalfOffset: number, doneOpOffsets: number[]): BridgePullResult {
    const r = this.bridge.getOpMessages(queueId, fromOffset, OP_PULL_BATCH_COUNT);
    if (r.status === "OFFSET_ILLEGAL" || r.status === "NO_MATCHED_MSG") {
      this.bridge.updateConsumeOffset(SystemTopic.TRANS_OP_HALF, queueId, r.nextBeginOffset);
      return r;
    }
    for (const op of r.messages ?? []) {
      if (op.properties[Prop.TAGS] !== OP_REMOVE_TAG) {
        log.error(`op record at queue offset ${op.queueOffset} has tag ${op.properties[Prop.TAGS]}, expected ${OP_REMOVE_TAG}`);
        continue;
      }
      const halfQueueOffset = parseOr(textDecoder.decode(op.body), -1);
      if (halfQueueOffset < minHalfOffset) doneOpOffsets.push(op.queueOffset);
      else removeMap.set(halfQueueOffset, op.queueOffset);
    }
    return r;
  }

  /** Counts this visit in TRANSACTION_CHECK_TIMES (in memory); true when checkMax was reached. */
  private needDiscard(half: MessageExt, checkMax: number): boolean {
    const text = half.properties[Prop.TRANSACTION_CHECK_TIMES];
    let times = 1;
    if (text !== undefined) {
      times = parseOr(text, -1);
      if (times >= checkMax) return true;
      times++;
    }
    half.properties[Prop.TRANSACTION_CHECK_TIMES] = String(times);
    return false;
  }

  /** Halves older than the commit log's retention are dropped (Java needSkip). */
  private needSkip(half: MessageExt, fileReservedTimeHours: number): boolean {
    return Date.now() - half.bornTimestamp > fileReservedTimeHours * MS_PER_HOUR;
  }

  private async resolveDiscard(half: MessageExt): Promise<void> {
    log.error(
      `half message ${half.properties[Prop.UNIQ_KEY] ?? half.msgId} (real topic ${half.properties[Prop.REAL_TOPIC]}, group ${half.properties[Prop.PGROUP]}) ` +
        `checked ${half.properties[Prop.TRANSACTION_CHECK_TIMES] ?? 0} times or expired: discarded into ${SystemTopic.TRANS_CHECK_MAX_TIME}`,
    );
    if (!(await this.bridge.putDiscarded(half))) log.error(`storing discarded half message ${half.msgId} in ${SystemTopic.TRANS_CHECK_MAX_TIME} failed`);
  }

  /**
   * A half still immune to checks (CHECK_IMMUNITY_TIME_IN_SECONDS): resolved if its original prepare
   * offset has an op record, else re-appended marked with that offset. True when handled.
   */
  private async checkPrepareQueueOffset(removeMap: Map<number, number>, doneOpOffsets: number[], half: MessageExt): Promise<boolean> {
    const preparedText = half.properties[Prop.TRAN_PREPARED_QUEUE_OFFSET];
    if (preparedText !== undefined) {
      const prepared = parseOr(preparedText, -1);
      if (prepared === -1) return false;
      const op = removeMap.get(prepared);
      if (op !== undefined) {
        removeMap.delete(prepared);
        doneOpOffsets.push(op);
        return true;
      }
    }
    const result = await this.bridge.putMessage(this.bridge.renewImmunityHalfMessage(half));
    return result.status === "PUT_OK";
  }

  /** Re-appends the half message; on success `half` carries the copy's offsets and msgId. */
  private async putBackHalfMsgQueue(half: MessageExt): Promise<boolean> {
    const result = await this.bridge.putMessage(this.bridge.renewHalfMessage(half));
    if (result.status !== "PUT_OK") {
      log.error(`re-appending half message ${half.msgId} failed: ${result.status} ${result.remark ?? ""}`);
      return false;
    }
    half.queueOffset = result.queueOffset;
    half.commitLogOffset = result.wroteOffset;
    half.msgId = result.msgId;
    return true;
  }
}

/** The op offset past the contiguous run of handled op records starting at `oldOffset` (Java calculateOpOffset). */
function contiguousOpOffset(doneOpOffsets: number[], oldOffset: number): number {
  doneOpOffsets.sort((a, b) => a - b);
  let next = oldOffset;
  for (const o of doneOpOffsets) {
    if (o !== next) break;
    next++;
  }
  return next;
}
