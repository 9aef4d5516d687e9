// A log made of fixed-size mapped segments ordered by start offset (storage doc §2). Global
// offset o lives in the segment starting at o - o % size. Used by the commit log and consume queues.

import fs from "node:fs";
import path from "node:path";
import { CREATING_SUFFIX, MappedFile, OS_PAGE_SIZE_BYTES, offsetToFileName } from "./mapped-file.ts";

/** Most segments one time-based cleanup pass deletes (Java DELETE_FILES_BATCH_MAX). */
export const DELETE_FILES_BATCH_MAX = 10;

const SEGMENT_NAME = /^\d{20}$/;

export class MappedFileQueue {
  readonly dir: string;
  readonly fileSizeBytes: number;
  readonly files: MappedFile[] = [];
  /** Global offset up to which every byte is known durable. */
  private flushedWhere = 0;

  constructor(dir: string, fileSizeBytes: number) {
    this.dir = dir;
    this.fileSizeBytes = fileSizeBytes;
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
   * to a segment boundary) or the next one when the last is full.
   */
  getLastMappedFile(startOffsetIfNone = 0, create = true): MappedFile | undefined {
    const last = this.files[this.files.length - 1];
    if (last && !last.isFull()) return last;
    if (!create) return last;
    const from = last ? last.fileFromOffset + this.fileSizeBytes : startOffsetIfNone - (startOffsetIfNone % this.fileSizeBytes);
    fs.mkdirSync(this.dir, { recursive: true });
    const file = MappedFile.open(path.join(this.dir, offsetToFileName(from)), this.fileSizeBytes);
    if (!last) this.flushedWhere = from;
    this.files.push(file);
    return file;
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
   * segments entirely after it are deleted. Bytes past the cut stay until overwritten.
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
  }

  /** Unmaps every segment, keeping the files (shutdown). */
  close(): void {
    for (const file of this.files) file.close();
    this.files.length = 0;
  }
}
