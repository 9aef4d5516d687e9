// Durable whole-file replacement for small metadata and config files: the new content goes to
// `<file>.tmp`, is fsynced, the previous file becomes `<file>.bak` (a hard link, so it is the old,
// already durable inode), the temp file is renamed over the file and the directory is fsynced so
// the rename itself survives a crash. At every instant `<file>` is either the old or the new content.

import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";

export const TEMP_SUFFIX = ".tmp";
export const BACKUP_SUFFIX = ".bak";

/** Writes `content` to `file` as described above, off the event loop. */
export async function writeFileAtomic(file: string, content: string | Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  await fsp.mkdir(dir, { recursive: true });
  const tmp = file + TEMP_SUFFIX;
  const handle = await fsp.open(tmp, "w");
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await keepBackup(file);
  await fsp.rename(tmp, file);
  await fsyncDirectory(dir);
}

/** The same steps, blocking: for start-up and tools, never for request handling. */
export function writeFileAtomicSync(file: string, content: string | Uint8Array): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = file + TEMP_SUFFIX;
  const fd = fs.openSync(tmp, "w");
  try {
    fs.writeFileSync(fd, content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  keepBackupSync(file);
  fs.renameSync(tmp, file);
  const dirFd = fs.openSync(dir, "r");
  try {
    fs.fsyncSync(dirFd);
  } finally {
    fs.closeSync(dirFd);
  }
}

async function keepBackup(file: string): Promise<void> {
  const backup = file + BACKUP_SUFFIX;
  try {
    await fsp.rm(backup, { force: true });
    await fsp.link(file, backup);
  } catch (err) {
    if (isErrno(err, "ENOENT")) return; // first write: nothing to keep
    // A filesystem without hard links: copy and sync instead.
    await fsp.copyFile(file, backup);
    const handle = await fsp.open(backup, "r+");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}

function keepBackupSync(file: string): void {
  const backup = file + BACKUP_SUFFIX;
  try {
    fs.rmSync(backup, { force: true });
    fs.linkSync(file, backup);
  } catch (err) {
    if (isErrno(err, "ENOENT")) return;
    fs.copyFileSync(file, backup);
    const fd = fs.openSync(backup, "r+");
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }
}

async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await fsp.open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export function isErrno(err: unknown, code: string): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === code;
}

/** A metadata file and its `.bak` are both unusable: starting would silently reset what they held. */
export class CorruptFileError extends Error {
  override name = "CorruptFileError";
}

type ReadAttempt<T> = { state: "missing" } | { state: "ok"; value: T } | { state: "corrupt"; problem: string };

function tryRead<T>(file: string, parse: (text: string) => T): ReadAttempt<T> {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if (isErrno(err, "ENOENT")) return { state: "missing" };
    return { state: "corrupt", problem: (err as Error).message };
  }
  if (text.trim().length === 0) return { state: "corrupt", problem: "the file is empty" };
  try {
    return { state: "ok", value: parse(text) };
  } catch (err) {
    return { state: "corrupt", problem: (err as Error).message };
  }
}

/**
 * Reads a file written by writeFileAtomic: its content through `parse` (which throws on bad
 * content), else `<file>.bak`'s with a warning, else undefined when neither exists (a fresh store).
 * Throws CorruptFileError, naming the file, when the file is bad and no usable backup exists.
 */
export function readFileWithBackup<T>(file: string, parse: (text: string) => T, warn: (message: string) => void): T | undefined {
  const primary = tryRead(file, parse);
  if (primary.state === "ok") return primary.value;
  const backup = tryRead(file + BACKUP_SUFFIX, parse);
  if (primary.state === "missing" && backup.state === "missing") return undefined;
  const what = primary.state === "missing" ? "is missing" : `is corrupt (${primary.problem})`;
  if (backup.state === "ok") {
    warn(`${file} ${what}: loaded ${file}${BACKUP_SUFFIX} instead`);
    return backup.value;
  }
  const backupWhat = backup.state === "missing" ? "does not exist" : `is corrupt too (${backup.problem})`;
  throw new CorruptFileError(`${file} ${what} and ${file}${BACKUP_SUFFIX} ${backupWhat}: refusing to start rather than reset it; repair or remove the file`);
}
