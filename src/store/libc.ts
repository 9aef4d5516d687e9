// The two libc calls Node's fs lacks, through bun:ffi: flock (the store lock) and
// posix_fallocate (reserve a segment's disk blocks up front, so a full disk fails segment
// creation instead of raising SIGBUS on a later write into a sparse mapping).

import { dlopen, FFIType } from "bun:ffi";
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
    log.warn(`cannot load ${name} (${(err as Error).message}): no store lock, segments stay sparse`);
    libc = null;
  }
  return libc;
}

/** flock(2); true on success, also true (with a warning at load) where flock is unavailable. */
export function flock(fd: number, operation: number): boolean {
  const lib = load();
  return lib ? lib.flock(fd, operation) === 0 : true;
}

/**
 * Reserves disk blocks for [0, length) of fd. Throws on failure (ENOSPC, …). Where libc or the
 * call is unavailable the file stays sparse, as after ftruncate.
 */
export function reserveBlocks(fd: number, length: number): void {
  const lib = load();
  if (!lib) return;
  const errno = lib.posixFallocate(fd, 0, length);
  if (errno !== 0) throw new Error(`posix_fallocate of ${length} bytes failed with errno ${errno}`);
}
