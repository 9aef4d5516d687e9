// The two libc calls Node's fs lacks, through bun:ffi: flock (the store lock) and
// posix_fallocate (allocate a mapped file's disk blocks up front, so a full disk fails file
// creation instead of raising SIGBUS on a later write into a sparse mapping).

import { dlopen, FFIType } from "bun:ffi";
import fs from "node:fs";
import { createLogger } from "../log.ts";

const log = createLogger("libc");

export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

interface Libc {
  flock(fd: number, operation: number): number;
  posixFallocate(fd: number, offset: number, length: number): number;
}

let libc: Libc | null | undefined;

/** libc, or null where it cannot be loaded (then callers fall back and say so once). */
function load(): Libc | null {
  if (libc !== undefined) return libc;
  const name = process.platform === "darwin" ? "libc.dylib" : "libc.so.6";
  try {
    const lib = dlopen(name, {
      flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
      posix_fallocate: { args: [FFIType.i32, FFIType.i64, FFIType.i64], returns: FFIType.i32 },
    });
    libc = {
      flock: (fd, operation) => lib.symbols.flock(fd, operation),
      posixFallocate: (fd, offset, length) => lib.symbols.posix_fallocate(fd, offset, length),
    };
  } catch (err) {
    log.warn(`cannot load ${name} (${(err as Error).message}): the store lock cannot be taken, segments are allocated by writing zeros`);
    libc = null;
  }
  return libc;
}

/**
 * flock(2); true on success. Throws where libc cannot be loaded: a lock that cannot be taken must
 * stop the store, or two processes would recover and write one store at once.
 */
export function flock(fd: number, operation: number): boolean {
  const lib = load();
  if (!lib) throw new Error("flock is unavailable (libc cannot be loaded): the store lock cannot be taken");
  return lib.flock(fd, operation) === 0;
}

/** Zeros written per call where posix_fallocate is unavailable. */
const ZERO_CHUNK_SIZE_BYTES = 1024 * 1024;
/** ENOSPC on Linux and macOS: a full disk, reported as the "ENOSPC" code like Node's fs errors. */
const ERRNO_ENOSPC = 28;

/**
 * Allocates disk blocks for [0, length) of fd, so a later write through a mapping can never hit a
 * full disk (SIGBUS). Throws on failure; a full disk throws with code "ENOSPC". Where libc cannot be
 * loaded the blocks are allocated by writing zeros.
 */
export function reserveBlocks(fd: number, length: number): void {
  const lib = load();
  if (!lib) {
    writeZeros(fd, length);
    return;
  }
  const errno = lib.posixFallocate(fd, 0, length);
  if (errno === 0) return;
  const err = new Error(`posix_fallocate of ${length} bytes failed with errno ${errno}`) as NodeJS.ErrnoException;
  if (errno === ERRNO_ENOSPC) err.code = "ENOSPC";
  throw err;
}

function writeZeros(fd: number, length: number): void {
  const zeros = new Uint8Array(Math.min(length, ZERO_CHUNK_SIZE_BYTES));
  // Each round writes at least one byte or throws, so the loop ends after length bytes.
  for (let pos = 0; pos < length; ) pos += fs.writeSync(fd, zeros, 0, Math.min(zeros.byteLength, length - pos), pos);
}
