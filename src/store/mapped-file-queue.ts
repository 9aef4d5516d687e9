// A log made of fixed-size mapped segments ordered by start offset (storage doc §2). Global
// offset o lives in the segment starting at o - o % size. Used by the commit log and consume queues.

import fs from "node:fs";
import path from "node:path";
import { CREATING_SUFFIX, MappedFile, OS_PAGE_SIZE_BYTES, offsetToFileName } from "./mapped-file.ts";
import { SegmentPreparer } from "./segment-preparer.ts";

/** Most segments one time-based cleanup pass deletes (Java DELETE_FILES_BATCH_MAX). */
export const DELETE_FILES_BATCH_MAX = 10;

const SEGMENT_NAME = /^\d{20}$/;

export interface MappedFileQueueOptions {
  /**
   * Prepare the next segment off the event loop once the last one is this full (0..1; 0 = as soon
   * as it is in use). Unset: segments are only created inline when needed.
   */
  prepareNextAtFraction?: number;
}

export class MappedFileQueue {
  readonly dir: string;
  readonly fileSizeBytes: number;
  readonly files: MappedFile[] = [];
  /** Global offset up to which every byte is known durable. */
  private flushedWhere = 0;
  private readonly preparer: SegmentPreparer | undefined;
  /** Write position of the last segment from which the next one is prepared (Infinity: never). */
  private readonly prepareNextAtBytes: number;

  constructor(dir: string, fileSizeBytes: number, options: MappedFileQueueOptions = {}) {
    this.dir = dir;
    this.fileSizeBytes = fileSizeBytes;
    const fraction = options.prepareNextAtFraction;
    if (fraction === undefined) {
      this.prepareNextAtBytes = Infinity;
    } else {
      if (!(fraction >= 0 && fraction <= 1)) throw new Error(`prepareNextAtFraction ${fraction} is outside 0..1`);
      this.prepareNextAtBytes = Math.floor(fileSizeBytes * fraction);
      this.preparer = new SegmentPreparer(dir, fileSizeBytes, (fromOffset) => this.isListed(fromOffset));
    }
  }

  /**
   * Opens existing segments sorted by start offset, positions at "full" (recovery corrects them).
   * Throws if a segment has the wrong size or the sequence has a gap: the store must not start.
   */
  load(): void {
    if (this.files.length > 0) throw new Error(`${this.dir} is already loaded`);
    fs.mkdirSync(this.dir, { recursive: true });
    const entries = fs.readdirSync(this.dir);
    // A crash while creating a segment leaves a half-made temporary file: it never held data.
    for (const name of entries) if (name.endsWith(CREATING_SUFFIX)) fs.rmSync(path.join(this.dir, name), { force: true });
    const names = entries.filter((name) => SEGMENT_NAME.test(name)).sort();
    for (const name of names) {
      const file = MappedFile.open(path.join(this.dir, name), this.fileSizeBytes);
      const previous = this.files[this.files.length - 1];
      if (previous && previous.fileFromOffset + this.fileSizeBytes !== file.fileFromOffset) {
        file.close();
        this.close();
        throw new Error(`segment ${name} does not follow ${path.basename(previous.path)} in ${this.dir}`);
      }
      file.wrotePosition = this.fileSizeBytes;
      file.flushedPosition = this.fileSizeBytes;
      this.files.push(file);
    }
    this.flushedWhere = this.getMaxOffset();
  }

  /**
   * The segment to append to. With `create`, makes the first one (at startOffsetIfNone rounded down
   * to a segment boundary) or the next one when the last is full: a prepared segment file is mapped
   * as it is, else the file is created inline. Once the last segment is filled to the preparation
   * threshold, the next one is prepared off the event loop.
   */
  getLastMappedFile(startOffsetIfNone = 0, create = true): MappedFile | undefined {
    const last = this.files[this.files.length - 1];
    if (last && !last.isFull()) {
      if (create && last.wrotePosition >= this.prepareNextAtBytes) this.preparer!.prepare(last.fileFromOffset + this.fileSizeBytes);
      return last;
    }
    if (!create) return last;
    const from = last ? last.fileFromOffset + this.fileSizeBytes : startOffsetIfNone - (startOffsetIfNone % this.fileSizeBytes);
    fs.mkdirSync(this.dir, { recursive: true });
    const file = MappedFile.open(path.join(this.dir, offsetToFileName(from)), this.fileSizeBytes);
    if (!last) this.flushedWhere = from;
    this.files.push(file);
    return file;
  }

  /** Whether the segment starting at `fromOffset` is open in this queue. */
  private isListed(fromOffset: number): boolean {
    const first = this.files[0];
    if (!first || fromOffset < first.fileFromOffset) return false;
    return this.files[(fromOffset - first.fileFromOffset) / this.fileSizeBytes]?.fileFromOffset === fromOffset;
  }

  findMappedFileByOffset(offset: number): MappedFile | undefined {
    const first = this.files[0];
    if (!first || offset < first.fileFromOffset) return undefined;
    const index = Math.floor((offset - first.fileFromOffset) / this.fileSizeBytes);
    const file = this.files[index];
    if (!file) return undefined;
    if (file.fileFromOffset > offset || offset >= file.fileFromOffset + this.fileSizeBytes) {
      throw new Error(`segments of ${this.dir} are not contiguous at offset ${offset}`);
    }
    return file;
  }

  /** Start offset of the first segment, or -1 when there is none. */
  getMinOffset(): number {
    const first = this.files[0];
    return first ? first.fileFromOffset : -1;
  }

  /** Logical end of the log: last segment start + its write position (0 when empty). */
  getMaxOffset(): number {
    const last = this.files[this.files.length - 1];
    return last ? last.fileFromOffset + last.wrotePosition : 0;
  }

  getFlushedWhere(): number {
    return this.flushedWhere;
  }

  /** Sets the durable mark after recovery (recovered data was read from disk). */
  setFlushedWhere(offset: number): void {
    this.flushedWhere = offset;
  }

  /**
   * Fsyncs segments from the durable mark on. A segment with fewer than `leastPages` dirty 4 KiB
   * pages is skipped unless it is full (0 = flush whatever is dirty). Returns the new durable mark;
   * rejects (mark unchanged for the failed segment) if an fsync fails.
   */
  async flush(leastPages = 0): Promise<number> {
    // Segments before the mark may have been deleted by cleanup.
    if (this.files.length > 0) this.flushedWhere = Math.max(this.flushedWhere, this.getMinOffset());
    for (let guard = 0; guard <= this.files.length; guard++) {
      const file = this.findMappedFileByOffset(this.flushedWhere);
      if (!file) break;
      const dirtyBytes = file.wrotePosition - file.flushedPosition;
      const pagesOk = leastPages <= 0 || dirtyBytes >= leastPages * OS_PAGE_SIZE_BYTES;
      if (dirtyBytes > 0 && (file.isFull() || pagesOk)) await file.flush();
      const mark = file.fileFromOffset + file.flushedPosition;
      if (mark > this.flushedWhere) this.flushedWhere = mark;
      if (file.flushedPosition < this.fileSizeBytes) break;
    }
    return this.flushedWhere;
  }

  /**
   * Cuts the log at `offset` (recovery): the segment holding it gets its positions set there,
   * segments entirely after it are deleted, and so is a prepared one. Bytes past the cut stay until overwritten.
   */
  truncateDirtyFiles(offset: number): void {
    const keep: MappedFile[] = [];
    for (const file of this.files) {
      const end = file.fileFromOffset + this.fileSizeBytes;
      if (end <= offset) {
        keep.push(file);
      } else if (file.fileFromOffset <= offset) {
        file.wrotePosition = offset - file.fileFromOffset;
        file.flushedPosition = file.wrotePosition;
        keep.push(file);
      } else {
        file.destroy();
      }
    }
    this.files.splice(0, this.files.length, ...keep);
    this.flushedWhere = Math.min(offset, this.getMaxOffset());
    this.preparer?.discard();
  }

  /**
   * Deletes up to DELETE_FILES_BATCH_MAX segments, oldest first, last written more than expiredMs
   * ago (all old ones when cleanImmediately). The segment being written is never deleted.
   */
  deleteExpiredFilesByTime(expiredMs: number, cleanImmediately = false, nowMs = Date.now()): number {
    let deleted = 0;
    while (deleted < DELETE_FILES_BATCH_MAX && this.files.length > 1) {
      const oldest = this.files[0]!;
      if (!cleanImmediately && nowMs < oldest.lastModifiedMs + expiredMs) break;
      oldest.destroy();
      this.files.shift();
      deleted++;
    }
    return deleted;
  }

  /** Deletes segments that end at or before `offset`, never the last one. */
  deleteFilesBeforeOffset(offset: number): number {
    let deleted = 0;
    while (this.files.length > 1 && this.files[0]!.fileFromOffset + this.fileSizeBytes <= offset) {
      this.files.shift()!.destroy();
      deleted++;
    }
    return deleted;
  }

  /** Deletes every segment (a consume queue of a removed topic). */
  destroy(): void {
    for (const file of this.files) file.destroy();
    this.files.length = 0;
    this.flushedWhere = 0;
    this.preparer?.discard();
  }

  /** Unmaps every segment, keeping the files (shutdown). */
  close(): void {
    for (const file of this.files) file.close();
    this.files.length = 0;
  }
}
