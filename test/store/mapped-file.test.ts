import { afterEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { MappedFile, offsetToFileName } from "../../src/store/mapped-file.ts";
import { MappedFileQueue } from "../../src/store/mapped-file-queue.ts";

const SEGMENT_SIZE_BYTES = 4096;
const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsmq-mapped-file-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe("MappedFile", () => {
  test("creates a preallocated segment named by its 20-digit start offset", async () => {
    const dir = tempDir();
    expect(offsetToFileName(1_073_741_824)).toBe("00000000001073741824");
    const file = MappedFile.open(path.join(dir, offsetToFileName(8192)), SEGMENT_SIZE_BYTES);
    expect(file.fileFromOffset).toBe(8192);
    expect(fs.statSync(file.path).size).toBe(SEGMENT_SIZE_BYTES);
    expect(fs.statSync(file.path).blocks * 512).toBeGreaterThanOrEqual(SEGMENT_SIZE_BYTES); // blocks reserved, not sparse
    expect(file.buffer.byteLength).toBe(SEGMENT_SIZE_BYTES);

    expect(file.appendBytes(new Uint8Array([1, 2, 3]))).toBe(true);
    expect(file.wrotePosition).toBe(3);
    expect(file.appendBytes(new Uint8Array(SEGMENT_SIZE_BYTES))).toBe(false); // does not fit: nothing written
    expect(file.wrotePosition).toBe(3);
    expect(file.flushedPosition).toBe(0);
    await file.flush();
    expect(file.flushedPosition).toBe(3);
    // The mapping is shared: the bytes are in the file.
    expect([...fs.readFileSync(file.path).subarray(0, 4)]).toEqual([1, 2, 3, 0]);
    file.destroy();
    expect(fs.existsSync(file.path)).toBe(false);
  });

  test("concurrent flushes share fsyncs and all end covered", async () => {
    const file = MappedFile.open(path.join(tempDir(), offsetToFileName(0)), SEGMENT_SIZE_BYTES);
    const flushes: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      file.appendBytes(new Uint8Array([i])); // 1 byte each
      flushes.push(file.flush());
    }
    await Promise.all(flushes);
    expect(file.flushedPosition).toBe(50);
    file.close();
  });

  test("a leftover of a crash during creation is removed on load", () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, offsetToFileName(0) + ".creating"), new Uint8Array(10));
    const queue = new MappedFileQueue(dir, SEGMENT_SIZE_BYTES);
    queue.load();
    expect(queue.files).toHaveLength(0);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  test("refuses a segment of the wrong size and a bad name", () => {
    const dir = tempDir();
    const p = path.join(dir, offsetToFileName(0));
    fs.writeFileSync(p, new Uint8Array(100));
    expect(() => MappedFile.open(p, SEGMENT_SIZE_BYTES)).toThrow(/100 bytes, expected 4096/);
    expect(() => MappedFile.open(path.join(dir, "abc"), SEGMENT_SIZE_BYTES)).toThrow(/20-digit/);
  });
});

describe("MappedFileQueue", () => {
  test("rolls, finds by offset, reloads, truncates and deletes", async () => {
    const dir = tempDir();
    const queue = new MappedFileQueue(dir, SEGMENT_SIZE_BYTES);
    queue.load();
    expect(queue.getLastMappedFile(0, false)).toBeUndefined();
    expect(queue.getMinOffset()).toBe(-1);
    expect(queue.getMaxOffset()).toBe(0);
    for (let i = 0; i < 3; i++) {
      const file = queue.getLastMappedFile()!;
      expect(file.appendBytes(new Uint8Array(SEGMENT_SIZE_BYTES).fill(i + 1))).toBe(true);
    }
    queue.getLastMappedFile()!.appendBytes(new Uint8Array(10));
    expect(queue.files.map((f) => path.basename(f.path))).toEqual([0, 4096, 8192, 12288].map(offsetToFileName));
    expect(queue.getMaxOffset()).toBe(3 * SEGMENT_SIZE_BYTES + 10);
    expect(queue.findMappedFileByOffset(4096 + 5)!.fileFromOffset).toBe(4096);
    expect(queue.findMappedFileByOffset(5 * 4096)).toBeUndefined();

    expect(await queue.flush(0)).toBe(3 * SEGMENT_SIZE_BYTES + 10);
    queue.close();

    const reloaded = new MappedFileQueue(dir, SEGMENT_SIZE_BYTES);
    reloaded.load();
    expect(reloaded.files).toHaveLength(4);
    expect(reloaded.getMaxOffset()).toBe(4 * SEGMENT_SIZE_BYTES); // "full" until recovery says otherwise
    reloaded.truncateDirtyFiles(4096 + 100);
    expect(reloaded.files).toHaveLength(2);
    expect(reloaded.getMaxOffset()).toBe(4096 + 100);
    expect(reloaded.getFlushedWhere()).toBe(4096 + 100);
    expect(fs.readdirSync(dir).sort()).toEqual([0, 4096].map(offsetToFileName));

    expect(reloaded.deleteFilesBeforeOffset(4096)).toBe(1);
    expect(reloaded.getMinOffset()).toBe(4096);
    expect(reloaded.deleteFilesBeforeOffset(1 << 30)).toBe(0); // never the last segment
    reloaded.close();
  });

  test("flush honours least pages unless the segment is full", async () => {
    const queue = new MappedFileQueue(tempDir(), 4 * SEGMENT_SIZE_BYTES);
    queue.load();
    const file = queue.getLastMappedFile()!;
    file.appendBytes(new Uint8Array(100));
    expect(await queue.flush(2)).toBe(0); // 100 dirty bytes < 2 pages
    file.appendBytes(new Uint8Array(2 * 4096));
    expect(await queue.flush(2)).toBe(100 + 2 * 4096);
    queue.close();
  });

  test("time-based deletion keeps the newest segment", () => {
    const queue = new MappedFileQueue(tempDir(), SEGMENT_SIZE_BYTES);
    queue.load();
    for (let i = 0; i < 3; i++) queue.getLastMappedFile()!.appendBytes(new Uint8Array(SEGMENT_SIZE_BYTES));
    const future = Date.now() + 10_000;
    expect(queue.deleteExpiredFilesByTime(60_000, false, future)).toBe(0);
    expect(queue.deleteExpiredFilesByTime(1_000, false, future)).toBe(2);
    expect(queue.files).toHaveLength(1);
    queue.close();
  });

  test("a gap between segments refuses to load", () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, offsetToFileName(0)), new Uint8Array(SEGMENT_SIZE_BYTES));
    fs.writeFileSync(path.join(dir, offsetToFileName(8192)), new Uint8Array(SEGMENT_SIZE_BYTES));
    expect(() => new MappedFileQueue(dir, SEGMENT_SIZE_BYTES).load()).toThrow(/does not follow/);
  });
});
