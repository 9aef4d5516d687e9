// One fixed-size, preallocated log segment mapped with Bun.mmap (storage doc §2). The file is sized
// BEFORE it is mapped and never truncated while mapped (a mapped page past EOF is a SIGBUS).
// Writers copy straight into `buffer`; flush() fsyncs off the event loop.

import fs from "node:fs";
import path from "node:path";
import { reserveBlocks } from "./libc.ts";
import { syncFd } from "./sync-fd.ts";

/** Digits of a segment file name: the zero-padded global start offset (UtilAll.offset2FileName). */
export const FILE_NAME_DIGITS = 20;

/** JavaScriptCore cannot hold a typed array of 4 GiB or more, so one mapping stays below it. */
export const MAX_MAPPING_SIZE_BYTES = 4 * 1024 * 1024 * 1024 - 1;

/** OS page: the unit of the "least pages" flush thresholds (Java OS_PAGE_SIZE). */
export const OS_PAGE_SIZE_BYTES = 4096;

export function offsetToFileName(offset: number): string {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new Error(`bad segment offset ${offset}`);
  return String(offset).padStart(FILE_NAME_DIGITS, "0");
}


/** Suffix of a segment being created; such leftovers of a crash are deleted on load. */
export const CREATING_SUFFIX = ".creating";

/**
 * Creates (or overwrites) `filePath` as a zero-filled file of `sizeBytes`, its disk blocks reserved
 * up front (a full disk fails here, not as SIGBUS on a later write into the mapping); ftruncate sets
 * the size. On failure the file is removed. Synchronous: the segment worker runs it off the event loop.
 */
export function createSegmentFile(filePath: string, sizeBytes: number): void {
  const fd = fs.openSync(filePath, "w");
  try {
    reserveBlocks(fd, sizeBytes);
    fs.ftruncateSync(fd, sizeBytes);
  } catch (err) {
    fs.rmSync(filePath, { force: true });
    throw err;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Creates a segment inline under a temporary name, then renames it into place, so a crash never
 * leaves a segment of the wrong size. The fallback when no prepared segment is ready.
 */
function createSizedFile(filePath: string, sizeBytes: number): void {
  const temporary = filePath + CREATING_SUFFIX;
  createSegmentFile(temporary, sizeBytes);
  fs.renameSync(temporary, filePath);
}

export class MappedFile {
  readonly path: string;
  readonly fileFromOffset: number;
  readonly fileSizeBytes: number;
  /** Bytes appended so far (the logical end of this segment). */
  wrotePosition = 0;
  /** Bytes known to be on disk: advanced only after a successful fsync. */
  flushedPosition = 0;
  private mapping: Uint8Array;
  private dataView: DataView;
  private fd: number;
  /** The fsync in progress, so two never overlap on this file. */
  private flushInFlight: Promise<void> | undefined;
  /** One follow-up flush shared by every caller that arrived during flushInFlight. */
  private flushQueued: Promise<void> | undefined;

  private constructor(filePath: string, fileSizeBytes: number, fd: number, mapping: Uint8Array) {
    this.path = filePath;
    this.fileSizeBytes = fileSizeBytes;
    this.fileFromOffset = Number(path.basename(filePath));
    this.fd = fd;
    this.mapping = mapping;
    this.dataView = new DataView(mapping.buffer, mapping.byteOffset, mapping.byteLength);
  }

  /**
   * Opens a segment, creating it at full size first when missing. An existing file of another size
   * is refused (Java refuses to start: the store was written with another segment size).
   */
  static open(filePath: string, fileSizeBytes: number): MappedFile {
    if (!Number.isSafeInteger(fileSizeBytes) || fileSizeBytes <= 0 || fileSizeBytes > MAX_MAPPING_SIZE_BYTES) {
      throw new Error(`segment size ${fileSizeBytes} must be in 1..${MAX_MAPPING_SIZE_BYTES} bytes`);
    }
    const name = path.basename(filePath);
    if (!/^\d{20}$/.test(name)) throw new Error(`segment file name ${name} is not a 20-digit offset`);
    if (!fs.existsSync(filePath)) createSizedFile(filePath, fileSizeBytes);
    const fd = fs.openSync(filePath, "r+");
    const actual = fs.fstatSync(fd).size;
    if (actual !== fileSizeBytes) {
      fs.closeSync(fd);
      throw new Error(`segment ${filePath} is ${actual} bytes, expected ${fileSizeBytes}`);
    }
    const mapping = Bun.mmap(filePath, { shared: true });
    if (mapping.byteLength !== fileSizeBytes) {
      fs.closeSync(fd);
      throw new Error(`mapped ${mapping.byteLength} bytes of ${filePath}, expected ${fileSizeBytes}`);
    }
    return new MappedFile(filePath, fileSizeBytes, fd, mapping);
  }

  /** The whole mapping. Empty after destroy(). */
  get buffer(): Uint8Array {
    return this.mapping;
  }

  /** A DataView over the whole mapping, for big-endian field access without copies. */
  get view(): DataView {
    return this.dataView;
  }

  get lastModifiedMs(): number {
    return fs.statSync(this.path).mtimeMs;
  }

  isFull(): boolean {
    return this.wrotePosition === this.fileSizeBytes;
  }

  /** Copies bytes at the write position; false (nothing written) if they do not fit. */
  appendBytes(bytes: Uint8Array): boolean {
    if (this.wrotePosition + bytes.byteLength > this.fileSizeBytes) return false;
    this.mapping.set(bytes, this.wrotePosition);
    this.wrotePosition += bytes.byteLength;
    return true;
  }

  /**
   * Makes everything written so far durable. Calls during an fsync share one follow-up fsync, so
   * fsyncs never overlap on the file. A failed fsync rejects and leaves flushedPosition unchanged.
   */
  flush(): Promise<void> {
    if (this.flushInFlight === undefined) {
      this.flushInFlight = this.syncOnce().finally(() => {
        this.flushInFlight = undefined;
      });
      return this.flushInFlight;
    }
    if (this.flushQueued === undefined) {
      this.flushQueued = this.flushInFlight
        .catch(() => undefined)
        .then(() => {
          this.flushQueued = undefined;
          return this.flush();
        });
    }
    return this.flushQueued;
  }

  private async syncOnce(): Promise<void> {
    const target = this.wrotePosition;
    if (target <= this.flushedPosition) return;
    if (this.fd < 0) throw new Error(`segment ${this.path} is destroyed`);
    await syncFd(this.fd);
    if (target > this.flushedPosition) this.flushedPosition = target;
  }

  /** Unmaps (drops our references; the GC unmaps) and deletes the file. Never truncates. */
  destroy(): void {
    this.close();
    fs.rmSync(this.path, { force: true });
  }

  /** Drops the mapping and the descriptor, keeping the file (shutdown). */
  close(): void {
    const fd = this.fd;
    this.fd = -1;
    // An fsync in flight still uses the descriptor: close it once that fsync is over, so the
    // number is never reused underneath it.
    if (fd >= 0 && this.flushInFlight) void this.flushInFlight.catch(() => undefined).finally(() => fs.closeSync(fd));
    else if (fd >= 0) fs.closeSync(fd);
    this.mapping = new Uint8Array(0);
    this.dataView = new DataView(this.mapping.buffer);
  }
}
