// The commit log (storage doc §3, §7, §9): every message of every topic appended to one log of
// fixed-size mapped segments, read back by physical offset, flushed per flushDiskType, and
// recovered after a restart by scanning records (CRC-checked) and cutting at the first bad one.

import { type MaybePromise } from "../common/maybe-promise.ts";
import {
  BLANK_RECORD_SIZE_BYTES,
  MAX_RECORD_PROPERTIES_SIZE_BYTES,
  MAX_TOPIC_SIZE_BYTES,
  MESSAGE_MAGIC_CODE,
  RECORD_BLANK,
  RecordPos,
  bodyCrc,
  checkRecord,
  getInt64,
  measureBatch,
  measureRecord,
  offsetMsgIdOf,
  storeTimestampPos,
  writeBatch,
  writeBlankRecord,
  writeRecord,
  type BatchLayout,
  type MessageBatch,
  type RecordLayout,
} from "../common/message-codec.ts";
import { Prop, SysFlag, transactionType, type MessageInner } from "../common/message.ts";
import { createLogger } from "../log.ts";
import type { StoreCheckpoint } from "./checkpoint.ts";
import { AsyncFlushService, GroupCommitService, type FlushTarget } from "./flush.ts";
import fs from "node:fs";
import path from "node:path";
import { OS_PAGE_SIZE_BYTES, offsetToFileName, type MappedFile } from "./mapped-file.ts";
import { MappedFileQueue } from "./mapped-file-queue.ts";
import { commitLogDir, type StoreConfig } from "./store-config.ts";
import type { PutMessageResult, PutMessageStatus } from "./store-types.ts";

const log = createLogger("commitlog");

/** A record may exceed maxMessageSize by its header, topic and properties (Java: + 64 KiB). */
export const RECORD_OVERHEAD_ALLOWANCE_BYTES = 64 * 1024;
/**
 * The next segment is prepared off the event loop (segment-preparer.ts) once the current one is
 * this full. Preparing takes milliseconds, so half a segment is ample lead at any append rate, and
 * a store that writes little holds no empty spare (Java requests it as soon as the current exists).
 */
export const PREPARE_NEXT_SEGMENT_AT_FRACTION = 0.5;
/** Normal recovery rescans this many newest segments (Java starts at the third-last file). */
export const NORMAL_RECOVERY_SEGMENTS = 3;
/** Granularity of the scan that zeroes a torn tail after recovery. */
const TAIL_ZERO_CHUNK_BYTES = 64 * 1024;

/** Assigns `count` consecutive queue offsets to topic/queueId and returns the first. */
export type AssignQueueOffset = (topic: string, queueId: number, count: number) => number;

/** Called for every valid record an abnormal recovery scans (the facade re-dispatches them). */
export type RecoveredRecordListener = (record: Uint8Array, physicalOffset: number) => void;

function failure(status: PutMessageStatus, remark: string): PutMessageResult {
  return { status, remark, wroteOffset: -1, wroteBytes: 0, msgId: "", queueOffset: -1, msgNum: 0, storeTimestamp: 0 };
}

/** PREPARED and ROLLBACK records get queue offset 0 and do not advance the queue (storage doc §3.4). */
function takesQueueOffset(sysFlag: number): boolean {
  const type = transactionType(sysFlag);
  return type === SysFlag.TRANSACTION_NOT_TYPE || type === SysFlag.TRANSACTION_COMMIT_TYPE;
}

function isAllZero(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** What the commit log asks before it creates a segment (CleanupService implements it). */
export interface SegmentSpaceGuard {
  /** Why a segment needing `segmentBytes` of new disk space cannot be created now; undefined: go ahead. */
  segmentSpaceShortage(segmentBytes: number): string | undefined;
  /** A segment could not be allocated for lack of space (ENOSPC). */
  markAllocationFailed(reason: string): void;
}

export class CommitLog implements FlushTarget {
  readonly config: StoreConfig;
  readonly queue: MappedFileQueue;
  private checkpoint: StoreCheckpoint | undefined;
  private readonly asyncFlush: AsyncFlushService | undefined;
  private readonly groupCommit: GroupCommitService | undefined;
  /** Store time of the last record appended or recovered (goes to the checkpoint once flushed). */
  private lastStoreTimestamp = 0;
  private readonly maxRecordSizeBytes: number;
  private shutDown = false;

  constructor(config: StoreConfig, dir: string = commitLogDir(config), options: { checkpoint?: StoreCheckpoint } = {}) {
    if (config.mappedFileSizeCommitLog < OS_PAGE_SIZE_BYTES) {
      throw new Error(`mappedFileSizeCommitLog ${config.mappedFileSizeCommitLog} is below ${OS_PAGE_SIZE_BYTES} bytes`);
    }
    this.config = config;
    this.queue = new MappedFileQueue(dir, config.mappedFileSizeCommitLog, { prepareNextAtFraction: PREPARE_NEXT_SEGMENT_AT_FRACTION });
    this.checkpoint = options.checkpoint;
    this.maxRecordSizeBytes = config.maxMessageSize + RECORD_OVERHEAD_ALLOWANCE_BYTES;
    if (config.flushDiskType === "SYNC_FLUSH") {
      this.groupCommit = new GroupCommitService(this, { timeoutMs: config.syncFlushTimeout });
    } else {
      this.asyncFlush = new AsyncFlushService(this, {
        intervalMs: config.flushIntervalCommitLog,
        leastPages: config.flushCommitLogLeastPages,
        thoroughIntervalMs: config.flushCommitLogThoroughInterval,
      });
    }
  }

  /** Set once an fsync failed: the log accepts no more appends (see flush). */
  readOnlyReason: string | undefined;
  /** Consulted before each new segment (the disk-full guard); none: segments are created unchecked. */
  private spaceGuard: SegmentSpaceGuard | undefined;

  setSpaceGuard(guard: SegmentSpaceGuard): void {
    this.spaceGuard = guard;
  }

  /** The checkpoint whose physic timestamp follows the flushes. */
  setCheckpoint(checkpoint: StoreCheckpoint): void {
    this.checkpoint = checkpoint;
  }

  /** Opens the existing segments (positions at "full" until a recover* call corrects them). */
  load(): void {
    this.queue.load();
  }

  start(): void {
    this.asyncFlush?.start();
  }

  /** Stops accepting puts, flushes everything, answers waiting SYNC_FLUSH puts, unmaps. */
  async shutdown(): Promise<void> {
    if (this.shutDown) return;
    this.shutDown = true;
    try {
      if (this.asyncFlush) await this.asyncFlush.shutdown();
      if (this.groupCommit) await this.groupCommit.shutdown();
    } finally {
      this.queue.close();
    }
  }

  // ---- append ------------------------------------------------------------------------------

  /** Appends one message; resolves once it is as durable as flushDiskType asks. */
  putMessage(msg: MessageInner, assignQueueOffset: AssignQueueOffset): MaybePromise<PutMessageResult> {
    if (this.shutDown) return failure("SERVICE_NOT_AVAILABLE", "message store is shut down");
    if (this.readOnlyReason) return failure("SERVICE_NOT_AVAILABLE", this.readOnlyReason);
    let layout: RecordLayout;
    try {
      layout = measureRecord(msg);
    } catch (err) {
      return failure("MESSAGE_ILLEGAL", (err as Error).message);
    }
    const invalid = this.checkLimits(msg, layout);
    if (invalid) return invalid;
    const crc = bodyCrc(msg.body);

    const file = this.fileWithRoom(layout.totalSize);
    if ("status" in file) return file;
    const position = file.wrotePosition;
    const wroteOffset = file.fileFromOffset + position;
    const queueOffset = takesQueueOffset(msg.sysFlag) ? assignQueueOffset(msg.topic, msg.queueId, 1) : 0;
    const storeTimestamp = Date.now();
    writeRecord(file.buffer, file.view, position, msg, layout, queueOffset, wroteOffset, storeTimestamp, crc);
    file.wrotePosition = position + layout.totalSize;
    this.lastStoreTimestamp = storeTimestamp;

    const result: PutMessageResult = {
      status: "PUT_OK",
      wroteOffset,
      wroteBytes: layout.totalSize,
      msgId: offsetMsgIdOf(layout.storeHost, wroteOffset),
      queueOffset,
      msgNum: 1,
      storeTimestamp,
    };
    return this.awaitDurability(result, msg.properties[Prop.WAIT] !== "false");
  }

  /**
   * Appends a batch (one topic/queue; storage doc §3.4) as consecutive records in one segment with
   * consecutive queue offsets. msgId is the comma-joined offset msgIds.
   */
  putMessages(batch: MessageBatch, assignQueueOffset: AssignQueueOffset): MaybePromise<PutMessageResult> {
    if (this.shutDown) return failure("SERVICE_NOT_AVAILABLE", "message store is shut down");
    if (this.readOnlyReason) return failure("SERVICE_NOT_AVAILABLE", this.readOnlyReason);
    if (transactionType(batch.sysFlag) !== SysFlag.TRANSACTION_NOT_TYPE) {
      return failure("MESSAGE_ILLEGAL", "batch messages cannot be transactional");
    }
    let layout: BatchLayout;
    try {
      layout = measureBatch(batch);
    } catch (err) {
      return failure("MESSAGE_ILLEGAL", (err as Error).message);
    }
    const invalid = this.checkBatchLimits(batch, layout);
    if (invalid) return invalid;

    const file = this.fileWithRoom(layout.totalSize);
    if ("status" in file) return file;
    const position = file.wrotePosition;
    const firstOffset = file.fileFromOffset + position;
    const firstQueueOffset = assignQueueOffset(batch.topic, batch.queueId, layout.count);
    const storeTimestamp = Date.now();
    const msgIds = writeBatch(file.buffer, file.view, position, batch, layout, firstQueueOffset, firstOffset, storeTimestamp);
    file.wrotePosition = position + layout.totalSize;
    this.lastStoreTimestamp = storeTimestamp;

    const result: PutMessageResult = {
      status: "PUT_OK",
      wroteOffset: firstOffset,
      wroteBytes: layout.totalSize,
      msgId: msgIds,
      queueOffset: firstQueueOffset,
      msgNum: layout.count,
      storeTimestamp,
    };
    return this.awaitDurability(result, batch.waitStoreMsgOK);
  }

  /** A batch's own rules, then the size limits with the whole request body as the body (Java). */
  private checkBatchLimits(batch: MessageBatch, layout: BatchLayout): PutMessageResult | undefined {
    if (layout.count === 0) return failure("MESSAGE_ILLEGAL", "batch body holds no message");
    if (layout.delayedMember >= 0) return failure("MESSAGE_ILLEGAL", `batch messages cannot be delayed (member ${layout.delayedMember} or the batch sets DELAY)`);
    return this.checkSizes("batch body", layout.topicLength, layout.largestPropertiesLength, batch.body.byteLength, layout.largestRecordSize, batch.queueId);
  }

  /** Size limits of storage doc §3.3 for one message. */
  private checkLimits(msg: MessageInner, layout: RecordLayout): PutMessageResult | undefined {
    return this.checkSizes("message body", layout.topicLength, layout.propertiesLength, msg.body.byteLength, layout.totalSize, msg.queueId);
  }

  /**
   * Size limits of storage doc §3.3 (for a batch: its largest record and properties). Plain
   * parameters, not an options object: this runs on every put.
   */
  private checkSizes(
    bodyName: string,
    topicLength: number,
    propertiesLength: number,
    bodyBytes: number,
    recordSize: number,
    queueId: number,
  ): PutMessageResult | undefined {
    if (topicLength === 0 || topicLength > MAX_TOPIC_SIZE_BYTES) {
      return failure("MESSAGE_ILLEGAL", `topic length ${topicLength} bytes is outside 1..${MAX_TOPIC_SIZE_BYTES}`);
    }
    if (propertiesLength > MAX_RECORD_PROPERTIES_SIZE_BYTES) {
      return failure("PROPERTIES_SIZE_EXCEEDED", `properties are ${propertiesLength} bytes, more than ${MAX_RECORD_PROPERTIES_SIZE_BYTES}`);
    }
    if (bodyBytes > this.config.maxMessageSize) {
      return failure("MESSAGE_ILLEGAL", `${bodyName} ${bodyBytes} bytes exceeds maxMessageSize ${this.config.maxMessageSize}`);
    }
    if (recordSize > this.maxRecordSizeBytes) {
      return failure("MESSAGE_ILLEGAL", `record ${recordSize} bytes exceeds ${this.maxRecordSizeBytes}`);
    }
    if (queueId < 0) return failure("MESSAGE_ILLEGAL", `queueId ${queueId} is negative`);
    return undefined;
  }

  /**
   * The segment to write `sizeBytes` into. When the current one has fewer than size + 8 bytes left,
   * it is closed with a blank record and the next is opened (storage doc §3.2): the one prepared off
   * the event loop if it is ready, else created inline. Before a new segment the disk-full guard is
   * asked; a full disk answers SERVICE_NOT_AVAILABLE (Java: the store is not writeable), any other
   * failure CREATE_MAPEDFILE_FAILED.
   */
  private fileWithRoom(sizeBytes: number): MappedFile | PutMessageResult {
    const fileSize = this.queue.fileSizeBytes;
    if (sizeBytes + BLANK_RECORD_SIZE_BYTES > fileSize) return failure("CREATE_MAPEDFILE_FAILED", `record of ${sizeBytes} bytes cannot fit a ${fileSize}-byte segment`);
    const last = this.queue.files[this.queue.files.length - 1];
    const rolls = !last || sizeBytes + BLANK_RECORD_SIZE_BYTES > fileSize - last.wrotePosition;
    if (rolls) {
      const shortage = this.spaceGuard?.segmentSpaceShortage(this.newSegmentBytes(last));
      if (shortage) return failure("SERVICE_NOT_AVAILABLE", shortage);
    }
    try {
      let file = this.queue.getLastMappedFile(0, true)!;
      const remaining = fileSize - file.wrotePosition;
      if (sizeBytes + BLANK_RECORD_SIZE_BYTES > remaining) {
        // Every earlier append left ≥ 8 bytes, so the blank header always fits.
        writeBlankRecord(file.view, file.wrotePosition, remaining);
        file.wrotePosition = fileSize;
        file = this.queue.getLastMappedFile(0, true)!;
      }
      return file;
    } catch (err) {
      const reason = `cannot create a commit log segment: ${(err as Error).message}`;
      if ((err as NodeJS.ErrnoException).code === "ENOSPC") {
        this.spaceGuard?.markAllocationFailed(`disk is full: ${reason}; the store refuses writes until space is freed`);
        return failure("SERVICE_NOT_AVAILABLE", `disk is full: ${reason}`);
      }
      log.error("cannot create a commit log segment", err);
      return failure("CREATE_MAPEDFILE_FAILED", reason);
    }
  }

  /** New disk space the next segment needs: none when it was prepared already. */
  private newSegmentBytes(last: MappedFile | undefined): number {
    if (!last) return this.queue.fileSizeBytes;
    const next = path.join(this.queue.dir, offsetToFileName(last.fileFromOffset + this.queue.fileSizeBytes));
    return fs.existsSync(next) ? 0 : this.queue.fileSizeBytes;
  }

  /** ASYNC_FLUSH or WAIT=false: answer now; SYNC_FLUSH: once an fsync covered the record(s). */
  private awaitDurability(result: PutMessageResult, waitStoreMsgOk: boolean): MaybePromise<PutMessageResult> {
    if (!this.groupCommit) return result;
    if (!waitStoreMsgOk) {
      this.groupCommit.wakeup();
      return result;
    }
    return this.groupCommit.waitForFlush(result.wroteOffset + result.wroteBytes).then((status) => {
      if (status === "SERVICE_NOT_AVAILABLE") {
        result.status = status;
        result.remark = this.readOnlyReason ?? "commit log fsync failed; the store is read-only";
      } else if (status !== "PUT_OK") {
        result.status = status;
        result.remark = `fsync did not complete within syncFlushTimeout ${this.config.syncFlushTimeout} ms; the message is stored`;
      }
      return result;
    });
  }

  // ---- flush (FlushTarget) -------------------------------------------------------------------

  /**
   * Fsyncs dirty segments; once everything up to a record is durable its time goes to the
   * checkpoint. A failed fsync is fatal for writing: the log turns read-only (readOnlyReason) and
   * every later flush fails too, so no retry can acknowledge bytes whose writeback failed.
   */
  async flush(leastPages: number): Promise<number> {
    if (this.readOnlyReason) throw new Error(this.readOnlyReason);
    const coveredOffset = this.queue.getMaxOffset();
    const coveredTimestamp = this.lastStoreTimestamp;
    let flushed: number;
    try {
      flushed = await this.queue.flush(leastPages);
    } catch (err) {
      if (!this.readOnlyReason) {
        this.readOnlyReason = `commit log fsync failed (${(err as Error).message}); the store is read-only: records after offset ${this.queue.getFlushedWhere()} may not be durable`;
        log.error(`FATAL: ${this.readOnlyReason}`);
      }
      throw err;
    }
    if (this.checkpoint && flushed >= coveredOffset && coveredTimestamp > 0) {
      this.checkpoint.physicMsgTimestamp = Math.max(this.checkpoint.physicMsgTimestamp, coveredTimestamp);
    }
    return flushed;
  }

  getFlushedWhere(): number {
    return this.queue.getFlushedWhere();
  }

  // ---- read ----------------------------------------------------------------------------------

  /** Start offset of the oldest segment (0 when there is none). */
  getMinOffset(): number {
    return Math.max(0, this.queue.getMinOffset());
  }

  /** End of the last record written: the next append offset. */
  getMaxOffset(): number {
    return this.queue.getMaxOffset();
  }

  /** First offset of the segment after the one holding `offset`. */
  rollNextFile(offset: number): number {
    const size = this.queue.fileSizeBytes;
    return offset + size - (offset % size);
  }

  /**
   * A view (no copy) of the message record at `offset`, or undefined when no readable message
   * starts there. `sizeBytes`, when known (consume queue), must match the stored size.
   */
  readRecord(offset: number, sizeBytes?: number): Uint8Array | undefined {
    const file = this.queue.findMappedFileByOffset(offset);
    if (!file) return undefined;
    const position = offset - file.fileFromOffset;
    if (position + 8 > file.wrotePosition) return undefined;
    const view = file.view;
    if (view.getUint32(position + RecordPos.MAGICCODE) !== MESSAGE_MAGIC_CODE) return undefined;
    const storedSize = view.getInt32(position);
    if (sizeBytes !== undefined && sizeBytes !== storedSize) return undefined;
    if (storedSize <= 0 || position + storedSize > file.wrotePosition) return undefined;
    return file.buffer.subarray(position, position + storedSize);
  }

  /**
   * A view of the written bytes from `offset` to the end of its segment's data (dispatch reads
   * records from it). Undefined when nothing is written at `offset`.
   */
  readRegion(offset: number): Uint8Array | undefined {
    const file = this.queue.findMappedFileByOffset(offset);
    if (!file) return undefined;
    const position = offset - file.fileFromOffset;
    if (position >= file.wrotePosition) return undefined;
    return file.buffer.subarray(position, file.wrotePosition);
  }

  // ---- HA slave (added for src/store/ha; Java CommitLog.appendData) ---------------------------

  /**
   * Writes bytes replicated from the master at `startOffset`, which must be this log's end; an
   * empty log accepts a segment start (the master feeds a new slave from its last segment). The
   * master never sends across a segment end, so the bytes fit the segment; false otherwise.
   */
  appendData(startOffset: number, bytes: Uint8Array): boolean {
    if (this.shutDown || this.readOnlyReason) return false;
    const files = this.queue.files;
    // No bytes yet (at most one empty segment, e.g. a slave that crashed inside its first record).
    const holdsNothing = files.length === 0 || (files.length === 1 && files[0]!.wrotePosition === 0);
    if (holdsNothing) {
      if (startOffset % this.queue.fileSizeBytes !== 0) return false;
      if (files.length === 1 && files[0]!.fileFromOffset !== startOffset) this.queue.destroy();
    } else if (startOffset !== this.queue.getMaxOffset()) {
      return false;
    }
    let file: MappedFile | undefined;
    try {
      file = this.queue.getLastMappedFile(startOffset, true);
    } catch (err) {
      log.error("cannot create a commit log segment for replicated data", err);
      return false;
    }
    if (!file || file.fileFromOffset + file.wrotePosition !== startOffset) return false;
    if (!file.appendBytes(bytes)) return false;
    // SYNC_FLUSH: nothing waits on a slave, so schedule the fsync here (Java's GroupCommitService
    // flushes every 10 ms even without requests); ASYNC_FLUSH's timer covers it anyway.
    this.groupCommit?.wakeup();
    return true;
  }

  /**
   * Slave: the store time of a replicated record the dispatcher has read. The next flush covering
   * it moves the checkpoint's physic timestamp (Java sets it from the dispatch on slaves).
   */
  noteReplicatedTimestamp(storeTimestamp: number): void {
    if (storeTimestamp > this.lastStoreTimestamp) this.lastStoreTimestamp = storeTimestamp;
  }

  // ---- recovery ------------------------------------------------------------------------------

  /**
   * After a clean shutdown: rescan the newest segments, cut at the first invalid record. Returns
   * the recovered max offset (consume queue entries at or past it must be dropped).
   */
  recoverNormally(): number {
    const files = this.queue.files;
    return this.scanAndTruncate(Math.max(0, files.length - NORMAL_RECOVERY_SEGMENTS), undefined);
  }

  /**
   * After a crash: start at the newest segment whose first record was stored at or before
   * `minTimestampMs` (checkpoint.minTimestamp()) — so the work is bounded by the checkpoint, not the
   * store size — and scan with CRC checks, reporting every valid record to `onRecord`, then cut at
   * the first invalid one. Returns the recovered max offset.
   */
  recoverAbnormally(minTimestampMs: number, onRecord?: RecoveredRecordListener): number {
    const files = this.queue.files;
    let startIndex = 0;
    for (let i = files.length - 1; i >= 0; i--) {
      const file = files[i]!;
      if (file.view.getUint32(RecordPos.MAGICCODE) !== MESSAGE_MAGIC_CODE) continue;
      const sysFlag = file.view.getInt32(RecordPos.SYSFLAG);
      const storeTimestamp = getInt64(file.view, storeTimestampPos(sysFlag));
      if (storeTimestamp !== 0 && storeTimestamp <= minTimestampMs) {
        startIndex = i;
        break;
      }
    }
    return this.scanAndTruncate(startIndex, onRecord);
  }

  private scanAndTruncate(startIndex: number, onRecord: RecoveredRecordListener | undefined): number {
    const files = this.queue.files;
    const fileSize = this.queue.fileSizeBytes;
    const checkCrc = this.config.checkCRCOnRecover !== false;
    if (files.length === 0) {
      this.queue.setFlushedWhere(0);
      return 0;
    }
    const scanFromOffset = files[startIndex]!.fileFromOffset;
    let stopOffset = scanFromOffset;
    scan: for (let i = startIndex; i < files.length; i++) {
      const file = files[i]!;
      const bytes = file.buffer;
      const view = file.view;
      let position = 0;
      while (position < fileSize) {
        const size = checkRecord(bytes, view, position, fileSize, checkCrc);
        if (size === RECORD_BLANK) {
          position = fileSize;
          break;
        }
        if (size < 0) {
          stopOffset = file.fileFromOffset + position;
          break scan;
        }
        const sysFlag = view.getInt32(position + RecordPos.SYSFLAG);
        this.lastStoreTimestamp = getInt64(view, position + storeTimestampPos(sysFlag));
        onRecord?.(bytes.subarray(position, position + size), file.fileFromOffset + position);
        position += size;
      }
      stopOffset = file.fileFromOffset + position;
    }
    this.queue.truncateDirtyFiles(stopOffset);
    this.zeroTail(stopOffset);
    log.debug(`recovered commit log to offset ${stopOffset}, scanned from segment ${scanFromOffset}`);
    return stopOffset;
  }

  /**
   * Zeroes leftovers after the recovered end in its segment (a torn record, or records of a run
   * that never became durable) so a later scan cannot mistake them for data. Stops after a zeroed
   * window as long as the largest record, so the cost is bounded by the garbage, not the segment.
   */
  private zeroTail(stopOffset: number): void {
    const file = this.queue.findMappedFileByOffset(stopOffset);
    if (!file) return;
    const bytes = file.buffer;
    const end = file.fileSizeBytes;
    let position = stopOffset - file.fileFromOffset;
    let cleanBytes = 0;
    while (position < end && cleanBytes < this.maxRecordSizeBytes) {
      const chunkEnd = Math.min(end, position - (position % TAIL_ZERO_CHUNK_BYTES) + TAIL_ZERO_CHUNK_BYTES);
      if (isAllZero(bytes, position, chunkEnd)) {
        cleanBytes += chunkEnd - position;
      } else {
        bytes.fill(0, position, chunkEnd);
        cleanBytes = 0;
      }
      position = chunkEnd;
    }
  }
}
