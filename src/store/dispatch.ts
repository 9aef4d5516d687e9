// Reput (storage doc §8, DefaultMessageStore.ReputMessageService): reads commit-log records from the
// last dispatched offset up to the commit log's end and turns each into a consume-queue entry and
// index entries, then tells the arriving listener. In-process appends call dispatchAvailable()
// right after the append; a timer catches up on anything else (recovery, HA appends).

import { createLogger } from "../log.ts";
import { Prop, SysFlag, tagsHashCode, transactionType } from "../common/message.ts";
import {
  BLANK_MAGIC_CODE,
  MESSAGE_MAGIC_CODE,
  RecordPos,
  bodyLengthPos,
  getInt64,
  storeTimestampPos,
} from "../common/message-codec.ts";
import type { ConsumeQueue } from "./consume-queue.ts";
import type { IndexService } from "./index-service.ts";
import type { MappedFileQueue } from "./mapped-file-queue.ts";
import type { MessageArrivingListener } from "./store-types.ts";

const log = createLogger("dispatch");

/** The delayed-message topic: its consume-queue tags code is the delivery time (storage doc §12.6). */
export const SCHEDULE_TOPIC = "SCHEDULE_TOPIC_XXXX";
/** Most records one dispatch call handles before yielding, so a long catch-up never starves the loop. */
export const DISPATCH_BATCH_MAX_RECORDS = 10_000;
/** Period of the background catch-up when nothing is appended in-process, ms. */
export const DISPATCH_CATCH_UP_INTERVAL_MS = 10;

const NAME_VALUE_SEPARATOR = "\u0001";
const PROPERTY_SEPARATOR = "\u0002";
const textDecoder = new TextDecoder();
const DELAY_UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `messageDelayLevel` ("1s 5s ... 2h") into delays in ms; index 0 is level 1. */
export function parseDelayLevelsMs(levels: string): number[] {
  const out: number[] = [];
  for (const token of levels.trim().split(/\s+/)) {
    const unit = DELAY_UNIT_MS[token.slice(-1)];
    const num = Number(token.slice(0, -1));
    if (unit === undefined || !Number.isInteger(num) || num < 0) throw new Error(`messageDelayLevel: bad level "${token}" in "${levels}"`);
    out.push(num * unit);
  }
  return out;
}

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
  uniqKey: string | undefined;
  sysFlag: number;
}

/** The properties dispatch reads, found in one pass over the properties string. */
interface DispatchProperties {
  tags: string | undefined;
  keys: string | undefined;
  uniqKey: string | undefined;
  delay: string | undefined;
}

/** TAGS, KEYS, UNIQ_KEY and DELAY of a properties string (first occurrence), without building the whole map. */
function dispatchPropertiesOf(props: string): DispatchProperties {
  const out: DispatchProperties = { tags: undefined, keys: undefined, uniqKey: undefined, delay: undefined };
  let start = 0;
  // Each iteration consumes one "name\x01value" pair; the string length bounds the loop.
  while (start < props.length) {
    let end = props.indexOf(PROPERTY_SEPARATOR, start);
    if (end < 0) end = props.length;
    const sep = props.indexOf(NAME_VALUE_SEPARATOR, start);
    if (sep > start && sep < end) {
      const nameLength = sep - start;
      if (nameLength === Prop.TAGS.length && out.tags === undefined && props.startsWith(Prop.TAGS, start)) out.tags = props.slice(sep + 1, end);
      else if (nameLength === Prop.KEYS.length && out.keys === undefined && props.startsWith(Prop.KEYS, start)) out.keys = props.slice(sep + 1, end);
      else if (nameLength === Prop.UNIQ_KEY.length && out.uniqKey === undefined && props.startsWith(Prop.UNIQ_KEY, start)) out.uniqKey = props.slice(sep + 1, end);
      else if (nameLength === Prop.DELAY.length && out.delay === undefined && props.startsWith(Prop.DELAY, start)) out.delay = props.slice(sep + 1, end);
    }
    start = end + 1;
  }
  return out;
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
  const props = propsLength > 0 ? textDecoder.decode(bytes.subarray(propsPos + 2, propsPos + 2 + propsLength)) : "";
  const found = dispatchPropertiesOf(props);
  const storeTimestamp = getInt64(view, pos + storeTimestampPos(sysFlag));
  let tagsCode = 0;
  if (found.tags) tagsCode = tagsHashCode(found.tags);
  if (topic === SCHEDULE_TOPIC && delayLevelsMs.length > 0) {
    const delay = found.delay;
    let level = delay !== undefined ? Number.parseInt(delay, 10) : 0;
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
    uniqKey: found.uniqKey,
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
  private readonly targets: DispatchTargets;
  private listener: MessageArrivingListener | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  /** Guards against re-entry: a listener that appends must not dispatch inside a dispatch. */
  private dispatching = false;

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
        this.dispatch(req);
        pos += size;
        count++;
      }
      const isLast = file === commitLog.files[commitLog.files.length - 1];
      let next: number;
      if (pos >= file.fileSizeBytes || ((skipRest || pos >= limit) && !isLast)) next = file.fileFromOffset + file.fileSizeBytes;
      else if (skipRest) next = file.fileFromOffset + limit;
      else next = file.fileFromOffset + pos;
      if (next <= this.reputFromOffset) break;
      this.reputFromOffset = next;
    }
    return count;
  }

  private dispatch(req: DispatchRequest): void {
    const tran = transactionType(req.sysFlag);
    if (tran === SysFlag.TRANSACTION_NOT_TYPE || tran === SysFlag.TRANSACTION_COMMIT_TYPE) {
      this.targets.consumeQueue(req.topic, req.queueId).putEntry(req.commitLogOffset, req.sizeBytes, req.tagsCode, req.queueOffset);
      this.targets.onDispatched?.(req.storeTimestamp);
    }
    if (this.targets.index && tran !== SysFlag.TRANSACTION_ROLLBACK_TYPE) {
      this.targets.index.buildIndex(req);
    }
    if (this.listener && (tran === SysFlag.TRANSACTION_NOT_TYPE || tran === SysFlag.TRANSACTION_COMMIT_TYPE)) {
      try {
        this.listener(req.topic, req.queueId, req.queueOffset + 1, req.tagsCode);
      } catch (err) {
        log.error(`message arriving listener failed: ${(err as Error).message}`);
      }
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
    this.timer = setInterval(() => this.dispatchAvailable(), DISPATCH_CATCH_UP_INTERVAL_MS);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
