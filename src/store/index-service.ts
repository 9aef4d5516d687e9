// The message index (storage doc §5, IndexService.java): index files under <root>/index named by
// creation time, keys `topic#UNIQ_KEY` and `topic#<each KEYS token>`, queries newest file first.

import { createLogger } from "../log.ts";
import fs from "node:fs";
import path from "node:path";
import { IndexFile, topicKeyHash } from "./index-file.ts";

const log = createLogger("index-service");

/** Most offsets one query returns (Java `maxMsgsNumBatch`). */
export const MAX_MSGS_NUM_BATCH = 64;
/** Separator of several keys in the KEYS property (MessageConst.KEY_SEPARATOR). */
const KEY_SEPARATOR = " ";
const INDEX_FILE_NAME = /^\d{17}$/;

export interface IndexQueryResult {
  phyOffsets: number[];
  indexLastUpdateTimestamp: number;
  indexLastUpdatePhyoffset: number;
}

/** What the index needs of one dispatched message. */
export interface IndexRequest {
  topic: string;
  commitLogOffset: number;
  storeTimestamp: number;
  keys: string | undefined;
  uniqKey?: string | undefined;
  /** topicKeyHash(topic, uniqKey), when the caller hashed the key's bytes instead of decoding it; wins over uniqKey. */
  uniqKeyHash?: number | undefined;
}

/** `yyyyMMddHHmmssSSS` in local time (UtilAll.timeMillisToHumanString). */
export function indexFileName(timeMs: number): string {
  const d = new Date(timeMs);
  const p = (n: number, w: number) => String(n).padStart(w, "0");
  return (
    p(d.getFullYear(), 4) + p(d.getMonth() + 1, 2) + p(d.getDate(), 2) +
    p(d.getHours(), 2) + p(d.getMinutes(), 2) + p(d.getSeconds(), 2) + p(d.getMilliseconds(), 3)
  );
}

export class IndexService {
  readonly dir: string;
  private readonly hashSlotNum: number;
  private readonly indexNum: number;
  private readonly files: IndexFile[] = [];
  private readonly now: () => number;
  /** Told the end timestamp of a full file once it is durable (the checkpoint's index timestamp). */
  onFullFileFlushed: (endTimestampMs: number) => void = () => {};

  constructor(storeRootDir: string, hashSlotNum: number, indexNum: number, now: () => number = Date.now) {
    if (hashSlotNum <= 0 || indexNum <= 1) throw new Error(`bad index dimensions maxHashSlotNum=${hashSlotNum} maxIndexNum=${indexNum}`);
    this.dir = path.join(storeRootDir, "index");
    this.hashSlotNum = hashSlotNum;
    this.indexNum = indexNum;
    this.now = now;
  }

  /**
   * Opens existing index files oldest first. After a crash, files holding entries newer than the
   * checkpoint's index timestamp are deleted: recovery re-dispatches and rebuilds them.
   */
  load(lastExitOK: boolean, checkpointIndexTimestampMs: number): void {
    fs.mkdirSync(this.dir, { recursive: true });
    const names = fs.readdirSync(this.dir).filter((n) => INDEX_FILE_NAME.test(n)).sort();
    for (const name of names) {
      const f = IndexFile.open(path.join(this.dir, name), this.hashSlotNum, this.indexNum);
      if (!lastExitOK && f.endTimestamp > checkpointIndexTimestampMs) {
        f.destroy();
        continue;
      }
      this.files.push(f);
    }
  }

  get fileCount(): number {
    return this.files.length;
  }

  /** Index files (except the newest) whose last entry lies below the commit-log minimum are deleted. */
  deleteExpiredFiles(phyMinOffset: number): number {
    let deleted = 0;
    while (this.files.length > 1 && this.files[0]!.endPhyOffset < phyMinOffset) {
      this.files.shift()!.destroy();
      deleted++;
    }
    return deleted;
  }

  /** Builds the index entries of one message (ROLLBACK records are filtered by the caller). */
  buildIndex(req: IndexRequest): void {
    let file = this.lastWritableFile();
    // Already indexed (re-dispatch after recovery). A file's end offset is its last entry's offset,
    // except in an empty file, whose end is where the previous (full) file ended.
    const end = file.endPhyOffset;
    if (req.commitLogOffset < end) return;
    // The message at `end` is the last one indexed: in this file, or in the full file before an empty
    // one, or split over both. Only its missing keys are added (Java re-adds them all: a crash at a
    // file boundary left Apache stores answering that key twice).
    const again = req.commitLogOffset === end && (file.indexCount > 1 || this.files.length > 1);
    const put = (f: IndexFile, keyHash: number) => (again && this.indexedAtEnd(keyHash, end) ? f : this.putKey(f, keyHash, req.commitLogOffset, req.storeTimestamp));
    if (req.uniqKeyHash !== undefined) file = put(file, req.uniqKeyHash);
    else if (req.uniqKey) file = put(file, topicKeyHash(req.topic, req.uniqKey));
    if (req.keys) {
      for (const k of req.keys.split(KEY_SEPARATOR)) {
        if (k.length > 0) file = put(file, topicKeyHash(req.topic, k));
      }
    }
  }

  /** Whether the newest file or the one before it already maps `keyHash` to `phyOffset`. */
  private indexedAtEnd(keyHash: number, phyOffset: number): boolean {
    return this.files.slice(-2).some((f) => f.hasEntry(keyHash, phyOffset));
  }

  private putKey(file: IndexFile, keyHash: number, phyOffset: number, storeTimestamp: number): IndexFile {
    if (file.putKeyHash(keyHash, phyOffset, storeTimestamp)) return file;
    const next = this.lastWritableFile();
    if (!next.putKeyHash(keyHash, phyOffset, storeTimestamp)) throw new Error(`index file ${next.path} rejected a key while empty`);
    return next;
  }

  /** The newest file if it has room, else a new one continuing from its end values. */
  private lastWritableFile(): IndexFile {
    const last = this.files[this.files.length - 1];
    if (last && !last.isFull()) return last;
    let name = indexFileName(this.now());
    // Two files created in the same millisecond would collide; names must also stay ordered.
    const lastName = last ? path.basename(last.path) : "";
    // BigInt: 17-digit names exceed 2^53, where Number(x) + 1 can round back to x.
    if (name <= lastName) name = String(BigInt(lastName) + 1n).padStart(17, "0");
    fs.mkdirSync(this.dir, { recursive: true });
    const file = IndexFile.create(path.join(this.dir, name), this.hashSlotNum, this.indexNum, last?.endPhyOffset ?? 0, last?.endTimestamp ?? 0);
    this.files.push(file);
    if (last) {
      last.flush().then(
        () => this.onFullFileFlushed(last.endTimestamp),
        (err) => log.error(`flushing index file ${last.path} failed: ${err}`),
      );
    }
    return file;
  }

  /**
   * Commit-log offsets of messages indexed under `topic#key` stored within [beginMs, endMs],
   * newest files first, at most min(maxNum, 64).
   */
  queryOffset(topic: string, key: string, maxNum: number, beginMs: number, endMs: number): IndexQueryResult {
    const limit = Math.max(0, Math.min(maxNum, MAX_MSGS_NUM_BATCH));
    const out: number[] = [];
    let indexLastUpdateTimestamp = 0;
    let indexLastUpdatePhyoffset = 0;
    const fullKey = topic + "#" + key;
    for (let i = this.files.length - 1; i >= 0; i--) {
      const f = this.files[i]!;
      if (i === this.files.length - 1) {
        indexLastUpdateTimestamp = f.endTimestamp;
        indexLastUpdatePhyoffset = f.endPhyOffset;
      }
      if (f.isTimeMatched(beginMs, endMs)) f.selectPhyOffsets(out, fullKey, limit, beginMs, endMs);
      if (f.beginTimestamp < beginMs || out.length >= limit) break;
    }
    return { phyOffsets: out, indexLastUpdateTimestamp, indexLastUpdatePhyoffset };
  }

  /** Fsyncs every index file. */
  async flush(): Promise<void> {
    for (const f of this.files) await f.flush();
  }

  /** Unmaps every file, keeping them (shutdown). */
  close(): void {
    for (const f of this.files) f.close();
    this.files.length = 0;
  }

  /** Deletes every index file (all of them are rebuilt from the commit log). */
  destroy(): void {
    for (const f of this.files) f.destroy();
    this.files.length = 0;
  }
}
