// One consume queue (storage doc §4): fixed-size segments of 20-byte entries
// {commit-log offset int64, size int32, tags code int64} under consumequeue/<topic>/<queueId>/.
// Logical offset n lives at byte n*20 of the queue.

import assert from "node:assert";
import { createLogger } from "../log.ts";
import { MappedFileQueue } from "./mapped-file-queue.ts";
import type { MappedFile } from "./mapped-file.ts";
import { getInt64 as readInt64, setInt64 as writeInt64 } from "../common/message-codec.ts";
import { storeSubPath } from "../common/store-path.ts";

const log = createLogger("consume-queue");

export const CQ_STORE_UNIT_SIZE_BYTES = 20;
/** Size of the padding entries written before the first entry of a queue that starts past 0. */
const PAD_ENTRY_SIZE = 2_147_483_647;
/** Recovery re-scans this many trailing segments; older ones were full when written (Java uses 3). */
const RECOVER_TRAILING_FILES = 3;
/**
 * The next segment is prepared off the event loop (segment-preparer.ts) once the current one is
 * this full: late enough that an idle queue never holds an empty spare segment.
 */
const PREPARE_NEXT_SEGMENT_AT_FRACTION = 0.5;

/** A readable run of entries inside one segment: entries at `view` bytes [pos, end). */
export interface EntryRegion {
  view: DataView;
  pos: number;
  end: number;
  /** Logical offset of the entry at `pos`. */
  startIndex: number;
}

/** Reads the store timestamp of the record at a commit-log offset; negative if unreadable. */
export type StoreTimestampReader = (commitLogOffset: number, sizeBytes: number) => number;

export class ConsumeQueue {
  readonly topic: string;
  readonly queueId: number;
  readonly dir: string;
  readonly fileSizeBytes: number;
  readonly files: MappedFileQueue;
  /** Commit-log end (offset + size) of the last entry written: re-dispatch below it is skipped. */
  maxPhysicOffset = -1;
  /** Byte offset of the first valid entry. */
  private minLogicOffsetBytes = 0;

  constructor(consumeQueueRootDir: string, topic: string, queueId: number, fileSizeBytes: number) {
    if (fileSizeBytes <= 0 || fileSizeBytes % CQ_STORE_UNIT_SIZE_BYTES !== 0) {
      throw new Error(`mappedFileSizeConsumeQueue ${fileSizeBytes} is not a positive multiple of ${CQ_STORE_UNIT_SIZE_BYTES}`);
    }
    this.topic = topic;
    this.queueId = queueId;
    this.dir = storeSubPath(consumeQueueRootDir, topic, String(queueId));
    this.fileSizeBytes = fileSizeBytes;
    this.files = new MappedFileQueue(this.dir, fileSizeBytes, { prepareNextAtFraction: PREPARE_NEXT_SEGMENT_AT_FRACTION });
  }

  load(): void {
    this.files.load();
  }

  /** Finds the end of the valid entries (first entry with offset < 0 or size <= 0) and truncates there. */
  recover(): void {
    const list = this.files.files;
    if (list.length === 0) return;
    let index = Math.max(0, list.length - RECOVER_TRAILING_FILES);
    let file = list[index]!;
    let processOffset = file.fileFromOffset;
    let filePos = 0;
    for (;;) {
      const view = file.view;
      filePos = 0;
      for (let i = 0; i < this.fileSizeBytes; i += CQ_STORE_UNIT_SIZE_BYTES) {
        const offset = readInt64(view, i);
        const size = view.getInt32(i + 8);
        if (offset < 0 || size <= 0) break;
        filePos = i + CQ_STORE_UNIT_SIZE_BYTES;
        this.maxPhysicOffset = offset + size;
      }
      if (filePos === this.fileSizeBytes && index + 1 < list.length) {
        index++;
        file = list[index]!;
        processOffset = file.fileFromOffset;
        continue;
      }
      break;
    }
    this.files.truncateDirtyFiles(processOffset + filePos);
  }

  /** Logical offset of the first valid entry. */
  getMinOffsetInQueue(): number {
    return this.minLogicOffsetBytes / CQ_STORE_UNIT_SIZE_BYTES;
  }

  /** Number of entries written = next logical offset to assign. */
  getMaxOffsetInQueue(): number {
    return this.files.getMaxOffset() / CQ_STORE_UNIT_SIZE_BYTES;
  }

  /** Logical offset of the first entry of the segment after the one holding `index`. */
  rollNextFile(index: number): number {
    const perFile = this.fileSizeBytes / CQ_STORE_UNIT_SIZE_BYTES;
    return index + perFile - (index % perFile);
  }

  /**
   * Appends the entry for logical offset `cqOffset`. Entries already present (re-dispatch during
   * recovery) are skipped. Returns false only if no segment could be created.
   */
  putEntry(commitLogOffset: number, sizeBytes: number, tagsCode: number, cqOffset: number): boolean {
    if (commitLogOffset + sizeBytes <= this.maxPhysicOffset) return true;
    const expectedBytes = cqOffset * CQ_STORE_UNIT_SIZE_BYTES;
    const hadFiles = this.files.files.length > 0;
    const file = this.files.getLastMappedFile(expectedBytes, true);
    if (!file) return false;

    if (!hadFiles && cqOffset !== 0 && file.wrotePosition === 0) {
      // The queue starts past 0 (its older segments were deleted): pad the segment up to the entry.
      const startPos = expectedBytes - file.fileFromOffset;
      this.fillPreBlank(file, startPos);
      this.minLogicOffsetBytes = expectedBytes;
    }
    const current = file.fileFromOffset + file.wrotePosition;
    if (expectedBytes < current) return true; // already built
    if (expectedBytes !== current) {
      // A gap means the queue offsets in the commit log skipped numbers; write where we are, as Java does.
      log.warn(`[BUG] consume queue ${this.topic}-${this.queueId}: expected logic offset ${expectedBytes} but write position is ${current}`);
    }
    // Written in place (no scratch entry and copy: this runs for every message stored). Segment
    // sizes are multiples of the entry size, so a non-full segment always has room.
    const pos = file.wrotePosition;
    assert(pos + CQ_STORE_UNIT_SIZE_BYTES <= file.fileSizeBytes, "consume-queue entry past its segment end");
    const view = file.view;
    writeInt64(view, pos, commitLogOffset);
    view.setInt32(pos + 8, sizeBytes);
    writeInt64(view, pos + 12, tagsCode);
    file.wrotePosition = pos + CQ_STORE_UNIT_SIZE_BYTES;
    this.maxPhysicOffset = commitLogOffset + sizeBytes;
    return true;
  }

  private fillPreBlank(file: MappedFile, untilPos: number): void {
    const view = file.view;
    for (let pos = 0; pos < untilPos; pos += CQ_STORE_UNIT_SIZE_BYTES) {
      writeInt64(view, pos, 0);
      view.setInt32(pos + 8, PAD_ENTRY_SIZE);
      writeInt64(view, pos + 12, 0);
    }
    file.wrotePosition = untilPos;
  }

  /**
   * The entries from logical offset `startIndex` to the end of its segment's written part, or
   * undefined if that segment is gone (deleted) or the offset is below the queue's minimum.
   */
  getEntries(startIndex: number): EntryRegion | undefined {
    const offsetBytes = startIndex * CQ_STORE_UNIT_SIZE_BYTES;
    if (offsetBytes < this.minLogicOffsetBytes) return undefined;
    const file = this.files.findMappedFileByOffset(offsetBytes);
    if (!file) return undefined;
    const pos = offsetBytes - file.fileFromOffset;
    if (pos < 0 || pos >= file.wrotePosition) return undefined;
    return { view: file.view, pos, end: file.wrotePosition, startIndex };
  }

  /** The entry at logical offset `index`, or undefined if absent. */
  getEntry(index: number): { commitLogOffset: number; sizeBytes: number; tagsCode: number } | undefined {
    const r = this.getEntries(index);
    if (!r) return undefined;
    return { commitLogOffset: readInt64(r.view, r.pos), sizeBytes: r.view.getInt32(r.pos + 8), tagsCode: readInt64(r.view, r.pos + 12) };
  }

  /** Moves the minimum to the first entry (of the first segment) whose commit-log offset ≥ `phyMinOffset`. */
  correctMinOffset(phyMinOffset: number): void {
    const first = this.files.files[0];
    if (!first) return;
    const view = first.view;
    for (let pos = 0; pos < first.wrotePosition; pos += CQ_STORE_UNIT_SIZE_BYTES) {
      const offset = readInt64(view, pos);
      const size = view.getInt32(pos + 8);
      if (size === PAD_ENTRY_SIZE && offset === 0) continue;
      if (offset >= phyMinOffset) {
        this.minLogicOffsetBytes = first.fileFromOffset + pos;
        return;
      }
    }
    // Everything in the first segment is below the commit-log minimum.
    this.minLogicOffsetBytes = first.fileFromOffset + first.wrotePosition;
  }

  /**
   * Drops entries pointing at or past `phyOffset` (the commit log was truncated there), from the
   * newest segment backwards.
   */
  truncateDirtyLogicFiles(phyOffset: number): void {
    const list = this.files.files;
    // Find the cut: the first entry (scanning from the oldest segment that can hold it) at or past phyOffset.
    let cut = this.files.getMaxOffset();
    let newMaxPhysic = -1;
    for (let fi = list.length - 1; fi >= 0; fi--) {
      const file = list[fi]!;
      const view = file.view;
      const firstOffset = file.wrotePosition > 0 ? readInt64(view, 0) : -1;
      const firstSize = file.wrotePosition > 0 ? view.getInt32(8) : 0;
      const firstIsPad = firstSize === PAD_ENTRY_SIZE && firstOffset === 0;
      if (file.wrotePosition > 0 && !firstIsPad && firstOffset >= phyOffset) {
        cut = file.fileFromOffset; // whole segment is dirty
        continue;
      }
      // The cut (if any) lies inside this segment.
      for (let pos = 0; pos < file.wrotePosition; pos += CQ_STORE_UNIT_SIZE_BYTES) {
        const offset = readInt64(view, pos);
        const size = view.getInt32(pos + 8);
        if (size === PAD_ENTRY_SIZE && offset === 0) continue;
        if (offset < 0 || size <= 0 || offset >= phyOffset) {
          cut = file.fileFromOffset + pos;
          break;
        }
        newMaxPhysic = offset + size;
      }
      break;
    }
    this.files.truncateDirtyFiles(cut);
    this.maxPhysicOffset = newMaxPhysic;
    if (this.minLogicOffsetBytes > cut) this.minLogicOffsetBytes = cut;
  }

  /**
   * Deletes segments (never the last) whose last entry points below the commit-log minimum, then
   * corrects the minimum offset. Returns the number of segments deleted.
   */
  deleteExpiredFiles(phyMinOffset: number): number {
    const list = this.files.files;
    let deleteBefore = -1;
    for (let fi = 0; fi < list.length - 1; fi++) {
      const file = list[fi]!;
      const lastPos = this.fileSizeBytes - CQ_STORE_UNIT_SIZE_BYTES;
      const lastOffset = readInt64(file.view, lastPos);
      if (lastOffset >= phyMinOffset) break;
      deleteBefore = file.fileFromOffset + this.fileSizeBytes;
    }
    const deleted = deleteBefore > 0 ? this.files.deleteFilesBeforeOffset(deleteBefore) : 0;
    this.correctMinOffset(phyMinOffset);
    return deleted;
  }

  /**
   * Logical offset of the message stored closest to `timestampMs` (storage doc §4, search by time):
   * binary search over the first segment modified at or after the time (else the last segment).
   */
  getOffsetInQueueByTime(timestampMs: number, phyMinOffset: number, storeTimeOf: StoreTimestampReader): number {
    const list = this.files.files;
    if (list.length === 0) return 0;
    const file = list.find((f) => f.lastModifiedMs >= timestampMs) ?? list[list.length - 1]!;
    const view = file.view;
    let low = this.minLogicOffsetBytes > file.fileFromOffset ? this.minLogicOffsetBytes - file.fileFromOffset : 0;
    let high = file.wrotePosition - CQ_STORE_UNIT_SIZE_BYTES;
    let target = -1;
    let left = -1;
    let right = -1;
    let leftTime = -1;
    let rightTime = -1;
    // Each step halves [low, high]; the bound guards against a logic error looping forever.
    for (let steps = 0; high >= low && steps < 64; steps++) {
      const mid = Math.floor((low + high) / (2 * CQ_STORE_UNIT_SIZE_BYTES)) * CQ_STORE_UNIT_SIZE_BYTES;
      const phy = readInt64(view, mid);
      const size = view.getInt32(mid + 8);
      if (phy < phyMinOffset) {
        low = mid + CQ_STORE_UNIT_SIZE_BYTES;
        left = mid;
        continue;
      }
      const storeTime = storeTimeOf(phy, size);
      if (storeTime < 0) return 0;
      if (storeTime === timestampMs) {
        target = mid;
        break;
      }
      if (storeTime > timestampMs) {
        high = mid - CQ_STORE_UNIT_SIZE_BYTES;
        right = mid;
        rightTime = storeTime;
      } else {
        low = mid + CQ_STORE_UNIT_SIZE_BYTES;
        left = mid;
        leftTime = storeTime;
      }
    }
    let pos: number;
    if (target !== -1) pos = target;
    else if (leftTime === -1) pos = right;
    else if (rightTime === -1) pos = left;
    else pos = Math.abs(timestampMs - leftTime) > Math.abs(timestampMs - rightTime) ? right : left;
    if (pos < 0) return 0;
    return (file.fileFromOffset + pos) / CQ_STORE_UNIT_SIZE_BYTES;
  }

  /** Fsyncs dirty segments with at least `leastPages` dirty pages (0 = all); returns the durable mark. */
  flush(leastPages = 0): Promise<number> {
    return this.files.flush(leastPages);
  }

  /** Deletes every segment and the queue directory. */
  destroy(): void {
    this.files.destroy();
    this.maxPhysicOffset = -1;
    this.minLogicOffsetBytes = 0;
  }
}
