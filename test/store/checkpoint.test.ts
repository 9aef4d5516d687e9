import { afterEach, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  CHECKPOINT_FILE_SIZE_BYTES,
  StoreCheckpoint,
  StoreLock,
  abortFileExists,
  createAbortFile,
  removeAbortFile,
} from "../../src/store/checkpoint.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsmq-checkpoint-"));
  dirs.push(dir);
  return dir;
}

test("checkpoint layout: three big-endian int64 timestamps in a 4 KiB file", async () => {
  const file = path.join(tempDir(), "checkpoint");
  const checkpoint = StoreCheckpoint.open(file);
  expect([checkpoint.physicMsgTimestamp, checkpoint.logicsMsgTimestamp, checkpoint.indexMsgTimestamp]).toEqual([0, 0, 0]);
  checkpoint.physicMsgTimestamp = 1_700_000_000_000;
  checkpoint.logicsMsgTimestamp = 1_700_000_000_500;
  checkpoint.indexMsgTimestamp = 1_699_999_999_000;
  await checkpoint.flush();
  checkpoint.close();

  const bytes = fs.readFileSync(file);
  expect(bytes.byteLength).toBe(CHECKPOINT_FILE_SIZE_BYTES);
  expect(bytes.subarray(0, 8).toString("hex")).toBe("0000018bcfe56800"); // physic 1700000000000
  expect(bytes.subarray(8, 16).toString("hex")).toBe("0000018bcfe569f4"); // logics 1700000000500
  expect(bytes.subarray(16, 24).toString("hex")).toBe("0000018bcfe56418"); // index 1699999999000
  expect(bytes.subarray(24).every((b) => b === 0)).toBe(true);

  const reopened = StoreCheckpoint.open(file);
  expect(reopened.physicMsgTimestamp).toBe(1_700_000_000_000);
  // min(physic, logics) - 3 s; with messageIndexSafe also <= index
  expect(reopened.minTimestamp()).toBe(1_700_000_000_000 - 3000);
  expect(reopened.minTimestamp(true)).toBe(1_699_999_997_000);
  reopened.physicMsgTimestamp = 1000;
  expect(reopened.minTimestamp()).toBe(0); // never below 0
  reopened.close();
});

test("abort file helpers", () => {
  const file = path.join(tempDir(), "store", "abort");
  expect(abortFileExists(file)).toBe(false);
  createAbortFile(file);
  expect(abortFileExists(file)).toBe(true);
  expect(fs.statSync(file).size).toBe(0);
  removeAbortFile(file);
  expect(abortFileExists(file)).toBe(false);
  removeAbortFile(file); // idempotent
});

test("lock file: exclusive while held, free after release", () => {
  const file = path.join(tempDir(), "lock");
  const lock = StoreLock.acquire(file);
  expect(fs.readFileSync(file, "utf8")).toBe("lock");
  expect(() => StoreLock.acquire(file)).toThrow(/held by another process/);
  lock.release();
  StoreLock.acquire(file).release();
});

test("lock file: another process cannot take it", async () => {
  const file = path.join(tempDir(), "lock");
  const lock = StoreLock.acquire(file);
  try {
    const child = Bun.spawn(
      ["bun", "-e", `import { StoreLock } from ${JSON.stringify(path.join(import.meta.dir, "../../src/store/checkpoint.ts"))}; try { StoreLock.acquire(${JSON.stringify(file)}); console.log("got"); } catch { console.log("refused"); }`],
      { stdout: "pipe", stderr: "inherit" },
    );
    expect((await new Response(child.stdout).text()).trim()).toBe("refused");
    await child.exited;
  } finally {
    lock.release();
  }
});
