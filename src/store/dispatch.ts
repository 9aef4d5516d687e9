// Reput (storage doc §8, DefaultMessageStore.ReputMessageService): reads commit-log records from the
// last dispatched offset up to the commit log's end and turns each into a consume-queue entry and
// index entries, then tells the arriving listener. In-process appends call dispatchAvailable()
// right after the append; a timer catches up on anything else (recovery, HA appends).

import { createLogger } from "../log.ts";
import { Prop, SysFlag, tagsHashCode, transactionType } from "../common/message.ts";
import { SystemTopic } from "../common/topic.ts";
import {
  BLANK_MAGIC_CODE,
  MESSAGE_MAGIC_CODE,
  RecordPos,
  bodyLengthPos,
  getInt64,
  storeTimestampPos,
} from "../common/message-codec.ts";
import type { ConsumeQueue } from "./consume-queue.ts";
import { topicAsciiKeyHash, topicKeyHash } from "./index-file.ts";
import type { IndexService } from "./index-service.ts";
import type { MappedFileQueue } from "./mapped-file-queue.ts";
import type { MessageArrivingListener } from "./store-types.ts";
import { guardedTask } from "../common/guarded-task.ts";

const log = createLogger("dispatch");

/** Most records one dispatch call handles before yielding, so a long catch-up never starves the loop. */
export const DISPATCH_BATCH_MAX_RECORDS = 10_000;
/** Period of the background catch-up when nothing is appended in-process, ms. */
export const DISPATCH_CATCH_UP_INTERVAL_MS = 10;

const textDecoder = new TextDecoder();

/** What the dispatchers need of one record. */
export interface DispatchRequest {
  topic: string;
  queueId: number;
  commitLogOffset: number;
  sizeBytes: number;
  tagsCode: number;
  storeTimestamp: number;
  queueOffset: number;
  keys: string | undefined;
  /** Index hash of topic#UNIQ_KEY (index-file topicKeyHash), hashed from the record bytes. */
  uniqKeyHash: number | undefined;
  sysFlag: number;
}

const NAME_VALUE_SEPARATOR_BYTE = 0x01;
const PROPERTY_SEPARATOR_BYTE = 0x02;
const ASCII_MAX = 0x7f;
const asciiBytes = (name: string) => Uint8Array.from(name, (c) => c.charCodeAt(0));
const TAGS_NAME = asciiBytes(Prop.TAGS);
const KEYS_NAME = asciiBytes(Prop.KEYS);
const UNIQ_KEY_NAME = asciiBytes(Prop.UNIQ_KEY);
const DELAY_NAME = asciiBytes(Prop.DELAY);

/**
 * What dispatch reads of a record's properties (first occurrence of each), filled by
 * scanProperties. One reused object: the scan runs once per record, never re-entered.
 */
const found = {
  tagsCode: 0,
  keys: undefined as string | undefined,
  uniqKeyHash: undefined as number | undefined,
  delay: undefined as string | undefined,
};

function nameIs(bytes: Uint8Array, start: number, length: number, name: Uint8Array): boolean {
  if (length !== name.length) return false;
  for (let i = 0; i < length; i++) if (bytes[start + i] !== name[i]) return false;
  return true;
}

/** Java String.hashCode of ASCII bytes (one UTF-16 unit per byte), as tagsHashCode of their text. */
function asciiHashCode(bytes: Uint8Array, start: number, end: number): number {
  let h = 0;
  for (let i = start; i < end; i++) h = (Math.imul(h, 31) + bytes[i]!) | 0;
  return h;
}

/**
 * Reads TAGS (as its tags code), KEYS, UNIQ_KEY (as its index hash under `topic`) and DELAY from the
 * properties bytes [start, end) into `found`, in one pass over the bytes: no text for the whole properties, only for the values
 * kept (`text` is a Buffer over the same bytes; ASCII values are decoded as Latin-1, the cheap way).
 */
function scanProperties(topic: string, bytes: Uint8Array, text: Buffer, start: number, end: number): void {
  found.tagsCode = 0;
  found.keys = undefined;
  found.uniqKeyHash = undefined;
  found.delay = undefined;
  let tagsSeen = false;
  let uniqKeySeen = false;
  let pair = start;
  // Each iteration consumes one name/value pair; the properties' length bounds the loop.
  while (pair < end) {
    let sep = -1;
    let high = 0;
    let p = pair;
    for (; p < end; p++) {
      const b = bytes[p]!;
      if (b === PROPERTY_SEPARATOR_BYTE) break;
      if (b === NAME_VALUE_SEPARATOR_BYTE && sep < 0) sep = p;
      high |= b;
    }
    if (sep > pair) {
      const nameLength = sep - pair;
      const valueStart = sep + 1;
      const ascii = high <= ASCII_MAX;
      if (!tagsSeen && nameIs(bytes, pair, nameLength, TAGS_NAME)) {
        tagsSeen = true;
        found.tagsCode = ascii ? asciiHashCode(bytes, valueStart, p) : tagsHashCode(text.toString("utf8", valueStart, p));
      } else if (found.keys === undefined && nameIs(bytes, pair, nameLength, KEYS_NAME)) {
        found.keys = text.toString(ascii ? "latin1" : "utf8", valueStart, p);
      } else if (!uniqKeySeen && nameIs(bytes, pair, nameLength, UNIQ_KEY_NAME)) {
        // Hashed from the bytes: the index keeps only topicKeyHash, and ids are ASCII.
        uniqKeySeen = true;
        if (p > valueStart) found.uniqKeyHash = ascii ? topicAsciiKeyHash(topic, bytes, valueStart, p) : topicKeyHash(topic, text.toString("utf8", valueStart, p));
      } else if (found.delay === undefined && nameIs(bytes, pair, nameLength, DELAY_NAME)) {
        found.delay = text.toString(ascii ? "latin1" : "utf8", valueStart, p);
      }
    }
    pair = p + 1;
  }
}

/** A Buffer over the last segment bytes parsed, for decoding property values by offset. */
let lastBytes: Uint8Array | undefined;
let lastText: Buffer = Buffer.alloc(0);

function textOf(bytes: Uint8Array): Buffer {
  if (bytes !== lastBytes) {
    lastBytes = bytes;
    lastText = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  return lastText;
}

/** The last topic decoded, by its bytes: consecutive records are nearly always of one topic. */
let lastTopicBytes = new Uint8Array(0);
let lastTopic = "";

function decodeTopic(bytes: Uint8Array, start: number, end: number): string {
  const length = end - start;
  if (length === lastTopicBytes.length) {
    let same = true;
    for (let i = 0; i < length; i++) {
      if (bytes[start + i] !== lastTopicBytes[i]) {
        same = false;
        break;
      }
    }
    if (same) return lastTopic;
  }
  lastTopic = textDecoder.decode(bytes.subarray(start, end));
  lastTopicBytes = bytes.slice(start, end);
  return lastTopic;
}

/**
 * Reads the record at `pos` of a segment view (already known to be a message: magic checked) into
 * a dispatch request. No CRC check, body skipped (Java checkMessageAndReturnSize with readBody=false).
 */
export function parseDispatchRequest(bytes: Uint8Array, view: DataView, pos: number, fileFromOffset: number, delayLevelsMs: readonly number[]): DispatchRequest {
  const sizeBytes = view.getInt32(pos);
  const sysFlag = view.getInt32(pos + RecordPos.SYSFLAG);
  const bodyPos = pos + bodyLengthPos(sysFlag);
  const topicPos = bodyPos + 4 + view.getInt32(bodyPos);
  const topicLength = bytes[topicPos]!;
  const propsPos = topicPos + 1 + topicLength;
  const propsLength = view.getInt16(propsPos);
  if (propsLength < 0 || propsPos + 2 + propsLength !== pos + sizeBytes) {
    throw new Error(`commit-log record at ${fileFromOffset + pos} is inconsistent (size ${sizeBytes})`);
  }
  const topic = decodeTopic(bytes, topicPos + 1, propsPos);
  scanProperties(topic, bytes, textOf(bytes), propsPos + 2, propsPos + 2 + propsLength);
  const storeTimestamp = getInt64(view, pos + storeTimestampPos(sysFlag));
  let tagsCode = found.tagsCode;
  // The delayed-message topic: its consume-queue tags code is the delivery time (storage doc §12.6).
  if (topic === SystemTopic.SCHEDULE && delayLevelsMs.length > 0) {
    let level = found.delay !== undefined ? Number.parseInt(found.delay, 10) : 0;
    if (level > delayLevelsMs.length) level = delayLevelsMs.length;
    if (level > 0) tagsCode = storeTimestamp + delayLevelsMs[level - 1]!;
  }
  return {
    topic,
    queueId: view.getInt32(pos + RecordPos.QUEUEID),
    commitLogOffset: getInt64(view, pos + RecordPos.PHYSICALOFFSET),
    sizeBytes,
    tagsCode,
    storeTimestamp,
    queueOffset: getInt64(view, pos + RecordPos.QUEUEOFFSET),
    keys: found.keys,
    uniqKeyHash: found.uniqKeyHash,
    sysFlag,
  };
}

export interface DispatchTargets {
  /** The commit log's segments. */
  commitLog: MappedFileQueue;
  /** The consume queue of topic/queueId, created on first use. */
  consumeQueue(topic: string, queueId: number): ConsumeQueue;
  /** Undefined when messageIndexEnable is false. */
  index: IndexService | undefined;
  delayLevelsMs: readonly number[];
  /** After each record that reached a consume queue (checkpoint logics time). */
  onDispatched?: (storeTimestamp: number) => void;
}

export class ReputService {
  /** Commit-log offset of the next record to dispatch. */
  reputFromOffset = 0;
  /** Records that could not be dispatched and were skipped (logged each). */
  skippedRecords = 0;
  /** Dispatch waits for disk space (logged once per episode). */
  private stalledOnFullDisk = false;
  private readonly targets: DispatchTargets;
  private listener: MessageArrivingListener | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  /** Guards against re-entry: a listener that appends must not dispatch inside a dispatch. */
  private dispatching = false;
  /**
   * The consume queue of the last record, kept for one dispatchAvailable call only (a queue may be
   * deleted between calls): the records of a batch share it, and the lookup builds a key per call.
   */
  private lastQueue: ConsumeQueue | undefined;
  /**
   * The arriving notice not given yet: a run of records on one queue (a batch) makes one notice,
   * given when the run ends or the call returns. A run of several carries no tags code, so a
   * waiting pull with a tag filter checks the new entries (long polling's sweep rule).
   */
  private notice: { topic: string; queueId: number; maxOffset: number; tagsCode: number | undefined } | undefined;

  constructor(targets: DispatchTargets) {
    this.targets = targets;
  }

  setMessageArrivingListener(listener: MessageArrivingListener | undefined): void {
    this.listener = listener;
  }

  /** Bytes written to the commit log but not yet dispatched. */
  behindBytes(): number {
    return Math.max(0, this.targets.commitLog.getMaxOffset() - this.reputFromOffset);
  }

  /**
   * Dispatches up to DISPATCH_BATCH_MAX_RECORDS records from reputFromOffset toward the commit
   * log's end. Returns the number of messages dispatched. An invalid record skips the rest of its
   * segment's written part (Java logs "[BUG]" and does the same on a master).
   */
  dispatchAvailable(maxRecords = DISPATCH_BATCH_MAX_RECORDS): number {
    if (this.dispatching) return 0;
    this.dispatching = true;
    try {
      return this.dispatchLoop(maxRecords);
    } finally {
      this.lastQueue = undefined;
      this.giveNotice();
      this.dispatching = false;
    }
  }

  private dispatchLoop(maxRecords: number): number {
    const commitLog = this.targets.commitLog;
    const minOffset = commitLog.getMinOffset();
    if (minOffset >= 0 && this.reputFromOffset < minOffset) this.reputFromOffset = minOffset;
    let count = 0;
    while (count < maxRecords && this.reputFromOffset < commitLog.getMaxOffset()) {
      const file = commitLog.findMappedFileByOffset(this.reputFromOffset);
      if (!file) break;
      const bytes = file.buffer;
      const view = file.view;
      let pos = this.reputFromOffset - file.fileFromOffset;
      const limit = file.wrotePosition;
      let skipRest = false;
      let stalled = false;
      while (count < maxRecords && pos < limit) {
        const size = pos + 8 <= limit ? view.getInt32(pos) : 0;
        const magic = pos + 8 <= limit ? view.getUint32(pos + 4) : 0;
        if (magic === BLANK_MAGIC_CODE) {
          pos = file.fileSizeBytes; // the rest of the segment is padding
          break;
        }
        // An HA slave's log may end inside a record (the master's frames split records): wait for
        // the rest instead of skipping it (Java: a slave stops and retries later).
        const incompleteTail = pos + 8 > limit || (magic === MESSAGE_MAGIC_CODE && size > 0 && pos + size > limit);
        if (incompleteTail && file === commitLog.files[commitLog.files.length - 1]) break;
        if (magic !== MESSAGE_MAGIC_CODE || size <= 0 || pos + size > limit) {
          log.error(`[BUG] dispatch: bad record at commit-log offset ${file.fileFromOffset + pos}; skipping the rest of the segment`);
          skipRest = true;
          break;
        }
        let req: DispatchRequest;
        try {
          req = parseDispatchRequest(bytes, view, pos, file.fileFromOffset, this.targets.delayLevelsMs);
        } catch (err) {
          log.error(`[BUG] dispatch: ${(err as Error).message}; skipping the rest of the segment`);
          skipRest = true;
          break;
        }
        if (!this.dispatchIsolated(req)) {
          stalled = true;
          break;
        }
        pos += size;
        count++;
      }
      const isLast = file === commitLog.files[commitLog.files.length - 1];
      let next: number;
      if (stalled) next = file.fileFromOffset + pos;
      else if (pos >= file.fileSizeBytes || ((skipRest || pos >= limit) && !isLast)) next = file.fileFromOffset + file.fileSizeBytes;
      else if (skipRest) next = file.fileFromOffset + limit;
      else next = file.fileFromOffset + pos;
      if (next <= this.reputFromOffset) break;
      this.reputFromOffset = next;
    }
    return count;
  }

  /**
   * Dispatches one record; a failure never escapes (a put that stored the record answers PUT_OK,
   * and start-up never depends on a record being dispatchable). A full disk stops the round at this
   * record (false), to be retried by the catch-up timer once there is space; any other failure
   * (a record that can never be dispatched) is logged and the record skipped, counted in
   * skippedRecords.
   */
  private dispatchIsolated(req: DispatchRequest): boolean {
    try {
      this.dispatch(req);
      if (this.stalledOnFullDisk) {
        this.stalledOnFullDisk = false;
        log.info(`dispatch resumed at commit-log offset ${req.commitLogOffset}`);
      }
      return true;
    } catch (err) {
      this.lastQueue = undefined;
      if ((err as NodeJS.ErrnoException).code === "ENOSPC") {
        if (!this.stalledOnFullDisk) log.error(`dispatch stopped at commit-log offset ${req.commitLogOffset}: the disk is full; retrying until there is space`, err);
        this.stalledOnFullDisk = true;
        return false;
      }
      this.skippedRecords++;
      log.error(`[BUG] dispatch: skipped the record at commit-log offset ${req.commitLogOffset} (topic ${JSON.stringify(req.topic)}, queue ${req.queueId}); ${this.skippedRecords} skipped so far`, err);
      return true;
    }
  }

  private dispatch(req: DispatchRequest): void {
    const tran = transactionType(req.sysFlag);
    const visible = tran === SysFlag.TRANSACTION_NOT_TYPE || tran === SysFlag.TRANSACTION_COMMIT_TYPE;
    if (visible) {
      let queue = this.lastQueue;
      if (!queue || queue.topic !== req.topic || queue.queueId !== req.queueId) {
        queue = this.targets.consumeQueue(req.topic, req.queueId);
        this.lastQueue = queue;
      }
      queue.putEntry(req.commitLogOffset, req.sizeBytes, req.tagsCode, req.queueOffset);
      this.targets.onDispatched?.(req.storeTimestamp);
    }
    if (this.targets.index && tran !== SysFlag.TRANSACTION_ROLLBACK_TYPE) {
      this.targets.index.buildIndex(req);
    }
    if (this.listener && visible) {
      const notice = this.notice;
      if (notice && notice.topic === req.topic && notice.queueId === req.queueId) {
        notice.maxOffset = req.queueOffset + 1;
        notice.tagsCode = undefined;
      } else {
        this.giveNotice();
        this.notice = { topic: req.topic, queueId: req.queueId, maxOffset: req.queueOffset + 1, tagsCode: req.tagsCode };
      }
    }
  }

  private giveNotice(): void {
    const notice = this.notice;
    if (!notice || !this.listener) return;
    this.notice = undefined;
    try {
      this.listener(notice.topic, notice.queueId, notice.maxOffset, notice.tagsCode);
    } catch (err) {
      log.error(`message arriving listener failed: ${(err as Error).message}`);
    }
  }

  /** Dispatches everything now written (recovery: wait until caught up before serving). */
  dispatchAll(): void {
    // Every round either moves reputFromOffset forward or ends the loop, so it terminates.
    for (;;) {
      const before = this.reputFromOffset;
      this.dispatchAvailable();
      if (this.behindBytes() === 0 || this.reputFromOffset === before) return;
    }
  }

  /** Starts the background catch-up for appends made outside putMessage (HA, recovery). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(guardedTask("dispatch catch-up", () => this.dispatchAvailable()), DISPATCH_CATCH_UP_INTERVAL_MS);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
