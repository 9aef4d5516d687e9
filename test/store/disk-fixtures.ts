// Real small filesystems for the disk-failure tests (root only: mount needs CAP_SYS_ADMIN).
// - tinyTmpfs: a size-limited tmpfs, where writes and allocations fail with ENOSPC when full.
// - failingWritebackFs: ext4 on a loop device whose backing file sits on a tiny tmpfs. The ext4
//   has room, so writes into the page cache (and through mmap) succeed; writeback to the backing
//   file then fails, and fsync reports it (a later fsync may succeed: the pages were dropped).

import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export interface MountedFs {
  dir: string;
  cleanup(): void;
}

function run(cmd: string[]): string {
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed: ${r.stderr.toString()}`);
  return r.stdout.toString().trim();
}

/** Whether this process may mount filesystems and attach loop devices (root with the tools). */
export function canMount(): boolean {
  if (process.platform !== "linux" || process.getuid?.() !== 0) return false;
  return Bun.spawnSync(["which", "losetup", "mkfs.ext4", "mount"]).exitCode === 0;
}

function unmount(dir: string): void {
  // Lazy: a mapping the GC has not dropped yet must not keep the mount (and the test) stuck.
  Bun.spawnSync(["umount", "-l", dir]);
}

export function tinyTmpfs(sizeBytes: number): MountedFs {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsmq-tmpfs-"));
  run(["mount", "-t", "tmpfs", "-o", `size=${sizeBytes}`, "tmpfs", dir]);
  return {
    dir,
    cleanup() {
      unmount(dir);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An ext4 of `fsSizeBytes` whose writeback fails once `backingSizeBytes` of blocks were written. */
export function failingWritebackFs(fsSizeBytes: number, backingSizeBytes: number): MountedFs {
  const backing = tinyTmpfs(backingSizeBytes);
  const image = path.join(backing.dir, "image");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsmq-ext4-"));
  let loop = "";
  try {
    fs.closeSync(fs.openSync(image, "w"));
    fs.truncateSync(image, fsSizeBytes);
    run(["mkfs.ext4", "-q", "-O", "^has_journal", "-E", "lazy_itable_init=1,nodiscard", image]);
    loop = run(["losetup", "-f", "--show", image]);
    run(["mount", loop, dir]);
  } catch (err) {
    if (loop) Bun.spawnSync(["losetup", "-d", loop]);
    backing.cleanup();
    throw err;
  }
  return {
    dir,
    cleanup() {
      unmount(dir);
      Bun.spawnSync(["losetup", "-d", loop]);
      fs.rmSync(dir, { recursive: true, force: true });
      backing.cleanup();
    },
  };
}
