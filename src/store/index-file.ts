// One index file (storage doc §5): a 40-byte header, `hashSlotNum` int32 slots holding the newest
// entry number per slot, then `indexNum` 20-byte entries chained through their `prev` field.
// Every header field is read from and written to the mapping, so what is on disk is always what a
// reader sees. Index files are named by a 17-digit timestamp, not an offset, so they map themselves
// rather than going through MappedFile.

import fs from "node:fs";
import { tagsHashCode } from "../common/message.ts";
import { getInt64 as readInt64, setInt64 as writeInt64 } from "../common/message-codec.ts";
import { reserveBlocks } from "./libc.ts";
import { syncFd } from "./sync-fd.ts";

export const INDEX_HEADER_SIZE_BYTES = 40;
const HASH_SLOT_SIZE_BYTES = 4;
export const INDEX_ENTRY_SIZE_BYTES = 20;
/** Entry number 0 is never used: a slot or prev link of 0 means "none". */
const INVALID_INDEX = 0;
const INT32_MAX = 2_147_483_647;

// Header field positions.
const BEGIN_TIMESTAMP_POS = 0;
const END_TIMESTAMP_POS = 8;
const BEGIN_PHY_OFFSET_POS = 16;
const END_PHY_OFFSET_POS = 24;
const HASH_SLOT_COUNT_POS = 32;
const INDEX_COUNT_POS = 36;

/** Bytes of an index file with these dimensions. */
export function indexFileSizeBytes(hashSlotNum: number, indexNum: number): number {
  return INDEX_HEADER_SIZE_BYTES + hashSlotNum * HASH_SLOT_SIZE_BYTES + indexNum * INDEX_ENTRY_SIZE_BYTES;
}

/** Java `abs(key.hashCode())`, with Integer.MIN_VALUE (whose abs overflows) mapped to 0. */
export function indexKeyHash(key: string): number {
  return absHash(tagsHashCode(key));
}

/** '#' between topic and key in an index key (Java buildKey). */
const TOPIC_KEY_SEPARATOR_CODE = 0x23;

/**
 * indexKeyHash(topic + "#" + key) without building the string: the broker indexes every message's
 * UNIQ_KEY, and concatenating then hashing costs a string allocation and a rope flattening each time.
 */
export function topicKeyHash(topic: string, key: string): number {
  let h = 0;
  for (let i = 0; i < topic.length; i++) h = (Math.imul(h, 31) + topic.charCodeAt(i)) | 0;
  h = (Math.imul(h, 31) + TOPIC_KEY_SEPARATOR_CODE) | 0;
  for (let i = 0; i < key.length; i++) h = (Math.imul(h, 31) + key.charCodeAt(i)) | 0;
  return absHash(h);
}

/**
 * topicKeyHash(topic, key) for a key given as ASCII bytes [start, end) of a record (one UTF-16 unit
 * per byte): dispatch indexes each message's UNIQ_KEY without decoding it to a string.
 */
export function topicAsciiKeyHash(topic: string, bytes: Uint8Array, start: number, end: number): number {
  let h = 0;
  for (let i = 0; i < topic.length; i++) h = (Math.imul(h, 31) + topic.charCodeAt(i)) | 0;
  h = (Math.imul(h, 31) + TOPIC_KEY_SEPARATOR_CODE) | 0;
  for (let i = start; i < end; i++) h = (Math.imul(h, 31) + bytes[i]!) | 0;
  return absHash(h);
}

function absHash(h: number): number {
  return h === -2_147_483_648 ? 0 : Math.abs(h);
}

export class IndexFile {
  readonly path: string;
  readonly hashSlotNum: number;
  readonly indexNum: number;
  private fd: number;
  private view: DataView;

  private constructor(path: string, hashSlotNum: number, indexNum: number) {
    const sizeBytes = indexFileSizeBytes(hashSlotNum, indexNum);
    this.path = path;
    this.hashSlotNum = hashSlotNum;
    this.indexNum = indexNum;
    // Size the file before mapping it; an existing file of another size was written with other dimensions.
    this.fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    const actual = fs.fstatSync(this.fd).size;
    if (actual === 0) this.allocate(sizeBytes);
    else if (actual !== sizeBytes) {
      fs.closeSync(this.fd);
      throw new Error(`index file ${path} is ${actual} bytes, expected ${sizeBytes} (maxHashSlotNum=${hashSlotNum}, maxIndexNum=${indexNum})`);
    }
    const mapping = Bun.mmap(path, { shared: true });
    this.view = new DataView(mapping.buffer, mapping.byteOffset, mapping.byteLength);
    // A fresh file has indexCount 0 on disk; entry numbering starts at 1.
    if (this.indexCount <= 0) this.view.setInt32(INDEX_COUNT_POS, 1);
  }

  /**
   * Gives a new file its full size with every block allocated: index entries are written through
   * the mapping, and a write into a sparse mapping on a full disk is a SIGBUS. On failure (ENOSPC)
   * the file is removed and the error thrown.
   */
  private allocate(sizeBytes: number): void {
    try {
      reserveBlocks(this.fd, sizeBytes);
      fs.ftruncateSync(this.fd, sizeBytes);
    } catch (err) {
      fs.closeSync(this.fd);
      fs.rmSync(this.path, { force: true });
      throw err;
    }
  }

  /** Opens an existing index file (its header is on disk), or creates an empty one. */
  static open(path: string, hashSlotNum: number, indexNum: number): IndexFile {
    return new IndexFile(path, hashSlotNum, indexNum);
  }

  /**
   * Creates a new index file whose header starts from the previous file's end values, so the
   * time/offset ranges of consecutive files touch (IndexService.getAndCreateLastIndexFile).
   */
  static create(path: string, hashSlotNum: number, indexNum: number, prevEndPhyOffset: number, prevEndTimestamp: number): IndexFile {
    if (fs.existsSync(path)) throw new Error(`index file ${path} already exists`);
    const f = IndexFile.open(path, hashSlotNum, indexNum);
    if (prevEndPhyOffset > 0) {
      writeInt64(f.view, BEGIN_PHY_OFFSET_POS, prevEndPhyOffset);
      writeInt64(f.view, END_PHY_OFFSET_POS, prevEndPhyOffset);
    }
    if (prevEndTimestamp > 0) {
      writeInt64(f.view, BEGIN_TIMESTAMP_POS, prevEndTimestamp);
      writeInt64(f.view, END_TIMESTAMP_POS, prevEndTimestamp);
    }
    return f;
  }

  get beginTimestamp(): number { return readInt64(this.view, BEGIN_TIMESTAMP_POS); }
  get endTimestamp(): number { return readInt64(this.view, END_TIMESTAMP_POS); }
  get beginPhyOffset(): number { return readInt64(this.view, BEGIN_PHY_OFFSET_POS); }
  get endPhyOffset(): number { return readInt64(this.view, END_PHY_OFFSET_POS); }
  get hashSlotCount(): number { return this.view.getInt32(HASH_SLOT_COUNT_POS); }
  /** Next entry number to write (starts at 1). */
  get indexCount(): number { return this.view.getInt32(INDEX_COUNT_POS); }

  isFull(): boolean {
    return this.indexCount >= this.indexNum;
  }

  private slotPos(keyHash: number): number {
    return INDEX_HEADER_SIZE_BYTES + (keyHash % this.hashSlotNum) * HASH_SLOT_SIZE_BYTES;
  }

  private entryPos(entryNo: number): number {
    return INDEX_HEADER_SIZE_BYTES + this.hashSlotNum * HASH_SLOT_SIZE_BYTES + entryNo * INDEX_ENTRY_SIZE_BYTES;
  }

  /** Adds `key` → `phyOffset`. Returns false when the file is full (caller rolls to a new file). */
  putKey(key: string, phyOffset: number, storeTimestamp: number): boolean {
    return this.putKeyHash(indexKeyHash(key), phyOffset, storeTimestamp);
  }

  /** putKey with the key's indexKeyHash already computed (see topicKeyHash). */
  putKeyHash(keyHash: number, phyOffset: number, storeTimestamp: number): boolean {
    const count = this.indexCount;
    if (count >= this.indexNum) return false;
    const slotPos = this.slotPos(keyHash);
    let slotValue = this.view.getInt32(slotPos);
    if (slotValue <= INVALID_INDEX || slotValue > count) slotValue = INVALID_INDEX;

    const first = count <= 1;
    let timeDiffSec = 0;
    if (!first && this.beginTimestamp > 0) {
      timeDiffSec = Math.trunc((storeTimestamp - this.beginTimestamp) / 1000);
      timeDiffSec = Math.min(INT32_MAX, Math.max(0, timeDiffSec));
    }

    const pos = this.entryPos(count);
    this.view.setInt32(pos, keyHash);
    writeInt64(this.view, pos + 4, phyOffset);
    this.view.setInt32(pos + 12, timeDiffSec);
    this.view.setInt32(pos + 16, slotValue);
    this.view.setInt32(slotPos, count);

    if (first) {
      writeInt64(this.view, BEGIN_PHY_OFFSET_POS, phyOffset);
      writeInt64(this.view, BEGIN_TIMESTAMP_POS, storeTimestamp);
    }
    if (slotValue === INVALID_INDEX) this.view.setInt32(HASH_SLOT_COUNT_POS, this.hashSlotCount + 1);
    this.view.setInt32(INDEX_COUNT_POS, count + 1);
    writeInt64(this.view, END_PHY_OFFSET_POS, phyOffset);
    writeInt64(this.view, END_TIMESTAMP_POS, storeTimestamp);
    return true;
  }

  /** True when [begin, end] overlaps this file's [beginTimestamp, endTimestamp]. */
  isTimeMatched(beginMs: number, endMs: number): boolean {
    const b = this.beginTimestamp;
    const e = this.endTimestamp;
    return (beginMs < b && endMs > e) || (beginMs >= b && beginMs <= e) || (endMs >= b && endMs <= e);
  }

  /**
   * Walks the slot chain of `key`, appending commit-log offsets whose key hash matches and whose
   * time is within [beginMs, endMs], until `out` holds `maxNum` offsets. Hash collisions are
   * possible: callers compare the stored keys.
   */
  selectPhyOffsets(out: number[], key: string, maxNum: number, beginMs: number, endMs: number): void {
    const count = this.indexCount;
    if (count <= 1) return;
    const keyHash = indexKeyHash(key);
    const slotValue = this.view.getInt32(this.slotPos(keyHash));
    if (slotValue <= INVALID_INDEX || slotValue > count) return;
    const begin = this.beginTimestamp;
    // Each step follows a strictly different link; `count` bounds the walk even on a corrupt chain.
    let next = slotValue;
    for (let steps = 0; steps < count && out.length < maxNum; steps++) {
      const pos = this.entryPos(next);
      const keyHashRead = this.view.getInt32(pos);
      const phyOffsetRead = readInt64(this.view, pos + 4);
      const timeDiffSec = this.view.getInt32(pos + 12);
      const prev = this.view.getInt32(pos + 16);
      if (timeDiffSec < 0) break;
      const timeRead = begin + timeDiffSec * 1000;
      if (keyHashRead === keyHash && timeRead >= beginMs && timeRead <= endMs) out.push(phyOffsetRead);
      if (prev <= INVALID_INDEX || prev > count || prev === next || timeRead < beginMs) break;
      next = prev;
    }
  }

  /** True when an entry maps `keyHash` to `phyOffset` (re-dispatch of the last indexed message). */
  hasEntry(keyHash: number, phyOffset: number): boolean {
    const count = this.indexCount;
    let next = this.view.getInt32(this.slotPos(keyHash));
    // `count` bounds the walk even on a corrupt chain.
    for (let steps = 0; steps < count && next > INVALID_INDEX && next < count; steps++) {
      const pos = this.entryPos(next);
      if (this.view.getInt32(pos) === keyHash && readInt64(this.view, pos + 4) === phyOffset) return true;
      const prev = this.view.getInt32(pos + 16);
      if (prev === next) break;
      next = prev;
    }
    return false;
  }

  async flush(): Promise<void> {
    if (this.fd >= 0) await syncFd(this.fd);
  }

  /** Drops the mapping and descriptor, keeping the file (shutdown). */
  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
    this.view = new DataView(new ArrayBuffer(INDEX_HEADER_SIZE_BYTES));
  }

  /** Unmaps and deletes the file. */
  destroy(): void {
    this.close();
    fs.rmSync(this.path, { force: true });
  }
}
