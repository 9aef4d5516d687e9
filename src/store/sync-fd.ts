// Durability of a file descriptor's data without blocking the event loop.

import fs from "node:fs";

/** fdatasync on the libuv thread pool: never blocks the event loop. */
export function syncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}
