// The checkpoint, abort and lock files (storage doc §6). The checkpoint holds three store
// timestamps that bound how far back abnormal recovery must scan.

import fs from "node:fs";
import path from "node:path";
import { getInt64, setInt64 } from "../common/message-codec.ts";
import { LOCK_EX, LOCK_NB, LOCK_UN, flock, reserveBlocks } from "./libc.ts";
import { syncFd } from "./sync-fd.ts";

/** The checkpoint file is one OS page (Java StoreCheckpoint maps OS_PAGE_SIZE). */
export const CHECKPOINT_FILE_SIZE_BYTES = 4096;
/** Recovery starts this much before the checkpointed times (Java: min timestamp − 3 s). */
export const CHECKPOINT_SAFETY_MARGIN_MS = 3000;

const PHYSIC_POS = 0;
const LOGICS_POS = 8;
const INDEX_POS = 16;

export class StoreCheckpoint {
  readonly path: string;
  private fd: number;
  private mapping: Uint8Array;
  private view: DataView;
  /** The last sync requested; each flush runs after it, so two never overlap. */
  private flushChain: Promise<void> = Promise.resolve();

  private constructor(filePath: string, fd: number, mapping: Uint8Array) {
    this.path = filePath;
    this.fd = fd;
    this.mapping = mapping;
    this.view = new DataView(mapping.buffer, mapping.byteOffset, mapping.byteLength);
  }

  /** Opens the checkpoint, creating a zeroed one (all timestamps 0) when missing. */
  static open(filePath: string): StoreCheckpoint {
    fs.mkdirSync(path.dirname(filePath), { recursive: true });
    const fd = fs.openSync(filePath, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    const size = fs.fstatSync(fd).size;
    // Size and allocate before mapping (a sparse page written through the mapping on a full disk is
    // a SIGBUS); only a short (new or foreign) file grows, a mapped file never shrinks.
    if (size < CHECKPOINT_FILE_SIZE_BYTES) {
      try {
        reserveBlocks(fd, CHECKPOINT_FILE_SIZE_BYTES);
        fs.ftruncateSync(fd, CHECKPOINT_FILE_SIZE_BYTES);
      } catch (err) {
        fs.closeSync(fd);
        throw err;
      }
    }
    const mapping = Bun.mmap(filePath, { shared: true, size: CHECKPOINT_FILE_SIZE_BYTES });
    return new StoreCheckpoint(filePath, fd, mapping);
  }

  /** Store time of the last message known flushed in the commit log. */
  get physicMsgTimestamp(): number {
    return getInt64(this.view, PHYSIC_POS);
  }
  set physicMsgTimestamp(value: number) {
    setInt64(this.view, PHYSIC_POS, value);
  }
  /** Store time of the last message dispatched into a consume queue. */
  get logicsMsgTimestamp(): number {
    return getInt64(this.view, LOGICS_POS);
  }
  set logicsMsgTimestamp(value: number) {
    setInt64(this.view, LOGICS_POS, value);
  }
  /** End timestamp of the last full index file flushed. */
  get indexMsgTimestamp(): number {
    return getInt64(this.view, INDEX_POS);
  }
  set indexMsgTimestamp(value: number) {
    setInt64(this.view, INDEX_POS, value);
  }

  /**
   * The store time before which everything is known durable: min(physic, logics) − 3 s, not below
   * 0; with `indexSafe` (messageIndexEnable && messageIndexSafe) also ≤ the index timestamp.
   */
  minTimestamp(indexSafe = false): number {
    let min = Math.max(0, Math.min(this.physicMsgTimestamp, this.logicsMsgTimestamp) - CHECKPOINT_SAFETY_MARGIN_MS);
    if (indexSafe) min = Math.min(min, this.indexMsgTimestamp);
    return min;
  }

  /** Fsyncs the checkpoint off the event loop, after any sync already running. */
  flush(): Promise<void> {
    const fd = this.fd;
    if (fd < 0) return Promise.reject(new Error(`checkpoint ${this.path} is closed`));
    const next = this.flushChain.catch(() => undefined).then(() => syncFd(fd));
    this.flushChain = next;
    return next;
  }

  close(): void {
    if (this.fd < 0) return;
    fs.closeSync(this.fd);
    this.fd = -1;
    this.mapping = new Uint8Array(CHECKPOINT_FILE_SIZE_BYTES);
    this.view = new DataView(this.mapping.buffer);
  }
}

/** The abort file exists while a store runs; finding it at start means the last run crashed. */
export function abortFileExists(filePath: string): boolean {
  return fs.existsSync(filePath);
}

export function createAbortFile(filePath: string): void {
  fs.mkdirSync(path.dirname(filePath), { recursive: true });
  fs.closeSync(fs.openSync(filePath, "w"));
}

export function removeAbortFile(filePath: string): void {
  fs.rmSync(filePath, { force: true });
}

/**
 * An exclusive OS lock (flock) on `<root>/lock`, so two stores never share a directory. The OS
 * drops it when the process dies, so a crash never leaves a stale lock.
 */
export class StoreLock {
  private fd: number;

  private constructor(fd: number) {
    this.fd = fd;
  }

  /** Throws if another process (or another StoreLock in this one) holds the lock. */
  static acquire(filePath: string): StoreLock {
    fs.mkdirSync(path.dirname(filePath), { recursive: true });
    const fd = fs.openSync(filePath, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    if (!flock(fd, LOCK_EX | LOCK_NB)) {
      fs.closeSync(fd);
      throw new Error(`store lock ${filePath} is held by another process`);
    }
    // The content is informational (Java writes "lock"); on a full disk the write may fail, the lock holds anyway.
    if (fs.fstatSync(fd).size === 0) {
      try {
        fs.writeSync(fd, "lock", 0);
      } catch {
        // ENOSPC: an empty lock file locks as well.
      }
    }
    return new StoreLock(fd);
  }

  release(): void {
    if (this.fd < 0) return;
    flock(this.fd, LOCK_UN);
    fs.closeSync(this.fd);
    this.fd = -1;
  }
}
