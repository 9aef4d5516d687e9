// Segments prepared off the event loop (src/store/segment-preparer.ts): the commit log's next
// segment exists before the appends reach it and is mapped as it is, roll-over under load keeps
// every record, and recovery / truncation handle prepared-but-unused segments and half-made ones.

import { afterEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { decodeRecord, writeBlankRecord } from "../../src/common/message-codec.ts";
import { CommitLog } from "../../src/store/commit-log.ts";
import { MappedFileQueue } from "../../src/store/mapped-file-queue.ts";
import { offsetToFileName } from "../../src/store/mapped-file.ts";
import { PREPARING_SUFFIX } from "../../src/store/segment-preparer.ts";
import { DEFAULT_STORE_CONFIG, type StoreConfig } from "../../src/store/store-config.ts";
import { waitUntil } from "../wait-until.ts";
import { messageInner } from "./store-fixtures.ts";

const SEGMENT_SIZE_BYTES = 64 * 1024;
const dirs: string[] = [];
const logs: CommitLog[] = [];
afterEach(async () => {
  for (const log of logs.splice(0)) await log.shutdown();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsmq-prepare-"));
  dirs.push(dir);
  return dir;
}

function setup(overrides: Partial<StoreConfig> = {}): { config: StoreConfig; dir: string } {
  const root = tempDir();
  const config: StoreConfig = { ...DEFAULT_STORE_CONFIG, storePathRootDir: root, mappedFileSizeCommitLog: SEGMENT_SIZE_BYTES, ...overrides };
  return { config, dir: path.join(root, "commitlog") };
}

function open(config: StoreConfig, dir: string, recover: "normal" | "abnormal" | "none" = "none"): CommitLog {
  const log = new CommitLog(config, dir);
  log.load();
  if (recover === "normal") log.recoverNormally();
  else if (recover === "abnormal") log.recoverAbnormally(0);
  else log.queue.truncateDirtyFiles(0); // a fresh log: nothing to recover
  log.start();
  logs.push(log);
  return log;
}

/** Message i: a body of `sizeBytes` bytes derived from i, so a read-back proves which record it is. */
function message(i: number, sizeBytes = 1000) {
  const body = new Uint8Array(sizeBytes);
  for (let j = 0; j < body.length; j++) body[j] = (i * 31 + j) & 0xff;
  return messageInner({ topic: "prepare-topic", queueId: i % 4, flag: i, body });
}

function counters() {
  const next = new Map<number, number>();
  return (_topic: string, queueId: number, count: number) => {
    const first = next.get(queueId) ?? 0;
    next.set(queueId, first + count);
    return first;
  };
}

function segmentPath(dir: string, fromOffset: number): string {
  return path.join(dir, offsetToFileName(fromOffset));
}

function isAllZero(filePath: string): boolean {
  return new Uint8Array(fs.readFileSync(filePath)).every((b) => b === 0);
}

describe("commit log segment preparation", () => {
  test("the next segment is prepared once the current one is half full, and the roll maps that file", async () => {
    const { config, dir } = setup();
    const log = open(config, dir);
    const assign = counters();
    const next = segmentPath(dir, SEGMENT_SIZE_BYTES);
    let i = 0;
    while (log.getMaxOffset() < SEGMENT_SIZE_BYTES / 2) expect((await log.putMessage(message(i++), assign)).status).toBe("PUT_OK");
    expect(fs.existsSync(next)).toBe(false); // not asked for before half full
    // The threshold is checked when the append looks up its segment: the next put asks for it.
    expect((await log.putMessage(message(i++), assign)).status).toBe("PUT_OK");
    await waitUntil("the next segment prepared", () => fs.existsSync(next));
    expect(log.queue.files).toHaveLength(1); // prepared on disk, not yet in use
    expect(fs.statSync(next).size).toBe(SEGMENT_SIZE_BYTES);
    expect(isAllZero(next)).toBe(true);
    await waitUntil("the temporary file gone", () => !fs.readdirSync(dir).some((name) => name.endsWith(PREPARING_SUFFIX)));
    const preparedInode = fs.statSync(next).ino;

    while (log.getMaxOffset() < SEGMENT_SIZE_BYTES) expect((await log.putMessage(message(i++), assign)).status).toBe("PUT_OK");
    expect(log.queue.files).toHaveLength(2);
    // Inline creation renames a new file into place: the same inode proves the prepared one was mapped.
    expect(fs.statSync(next).ino).toBe(preparedInode);
    let offset = 0;
    for (let n = 0; n < i; n++) {
      const record = log.readRecord(offset);
      if (!record) {
        offset = log.rollNextFile(offset); // the blank record closing segment 0
        n--;
        continue;
      }
      const decoded = decodeRecord(record);
      expect(decoded.flag).toBe(n);
      expect(decoded.body).toEqual(message(n).body);
      offset += record.byteLength;
    }
    expect(offset).toBe(log.getMaxOffset());
  });

  test("roll-over under load: concurrent SYNC_FLUSH puts across ~40 segments all read back, also after a restart", async () => {
    const { config, dir } = setup({ flushDiskType: "SYNC_FLUSH" });
    const log = open(config, dir);
    const assign = counters();
    const LANES = 16;
    const PUTS_PER_LANE = 100;
    const sizeOf = (i: number) => 100 + ((i * 997) % 3000);
    const results: { i: number; wroteOffset: number; wroteBytes: number }[] = [];
    let nextI = 0;
    const lane = async () => {
      for (let n = 0; n < PUTS_PER_LANE; n++) {
        const i = nextI++;
        const result = await log.putMessage(message(i, sizeOf(i)), assign);
        expect(result.status).toBe("PUT_OK");
        results.push({ i, wroteOffset: result.wroteOffset, wroteBytes: result.wroteBytes });
      }
    };
    await Promise.all(Array.from({ length: LANES }, lane));
    expect(results).toHaveLength(LANES * PUTS_PER_LANE);
    expect(log.queue.files.length).toBeGreaterThan(30);
    const check = (reader: CommitLog) => {
      for (const { i, wroteOffset, wroteBytes } of results) {
        const record = reader.readRecord(wroteOffset, wroteBytes);
        expect(record).toBeDefined();
        const decoded = decodeRecord(record!);
        expect(decoded.flag).toBe(i);
        expect(decoded.body).toEqual(message(i, sizeOf(i)).body);
      }
    };
    check(log);
    const files = log.queue.files;
    for (let k = 1; k < files.length; k++) expect(files[k]!.fileFromOffset).toBe(files[k - 1]!.fileFromOffset + SEGMENT_SIZE_BYTES);
    const end = log.getMaxOffset();
    await log.shutdown();
    const again = open(config, dir, "normal");
    expect(again.getMaxOffset()).toBe(end);
    check(again);
  });
});

describe("recovery with prepared segments", () => {
  test("an unused prepared segment after a partly written one is deleted; a half-made one is deleted on load", async () => {
    const { config, dir } = setup();
    const log = open(config, dir);
    const assign = counters();
    for (let i = 0; i < 10; i++) await log.putMessage(message(i), assign);
    const end = log.getMaxOffset();
    await log.shutdown();
    // As a preparation leaves them: a finished segment linked into place, and (killed mid-way) a temporary file.
    fs.writeFileSync(segmentPath(dir, SEGMENT_SIZE_BYTES), new Uint8Array(SEGMENT_SIZE_BYTES));
    const halfMade = segmentPath(dir, 2 * SEGMENT_SIZE_BYTES) + PREPARING_SUFFIX;
    fs.writeFileSync(halfMade, new Uint8Array(100)); // 100 zero bytes of a segment being prepared

    for (const mode of ["normal", "abnormal"] as const) {
      const again = open(config, dir, mode);
      expect(fs.existsSync(halfMade)).toBe(false);
      expect(again.getMaxOffset()).toBe(end);
      expect(again.queue.files).toHaveLength(1);
      expect(fs.existsSync(segmentPath(dir, SEGMENT_SIZE_BYTES))).toBe(false);
      await again.shutdown();
    }
    const last = open(config, dir, "normal");
    const put = await last.putMessage(message(10), assign);
    expect(put.wroteOffset).toBe(end);
    expect(decodeRecord(last.readRecord(put.wroteOffset)!).flag).toBe(10);
  });

  test("an unused prepared segment after a full one is kept empty: the log ends at its start and appends go there", async () => {
    const { config, dir } = setup();
    const log = open(config, dir);
    const assign = counters();
    for (let i = 0; i < 10; i++) await log.putMessage(message(i), assign);
    // Close segment 0 as a roll does (blank record to its end), but stop before the next record.
    const file = log.queue.files[0]!;
    writeBlankRecord(file.view, file.wrotePosition, SEGMENT_SIZE_BYTES - file.wrotePosition);
    file.wrotePosition = SEGMENT_SIZE_BYTES;
    await log.shutdown();
    fs.writeFileSync(segmentPath(dir, SEGMENT_SIZE_BYTES), new Uint8Array(SEGMENT_SIZE_BYTES)); // the prepared one

    for (const mode of ["normal", "abnormal"] as const) {
      const again = open(config, dir, mode);
      expect(again.getMaxOffset()).toBe(SEGMENT_SIZE_BYTES);
      expect(again.queue.files).toHaveLength(2);
      expect(again.readRegion(SEGMENT_SIZE_BYTES)).toBeUndefined();
      await again.shutdown();
    }
    const last = open(config, dir, "normal");
    const put = await last.putMessage(message(10), assign);
    expect(put.wroteOffset).toBe(SEGMENT_SIZE_BYTES);
    expect(decodeRecord(last.readRecord(put.wroteOffset)!).flag).toBe(10);
  });
});

describe("MappedFileQueue preparation", () => {
  const SMALL_SEGMENT_BYTES = 4096;

  function fill(queue: MappedFileQueue, bytes: number): void {
    expect(queue.getLastMappedFile()!.appendBytes(new Uint8Array(bytes))).toBe(true);
  }

  test("truncation deletes a prepared segment, so the next load finds no gap in the sequence", async () => {
    const dir = tempDir();
    const queue = new MappedFileQueue(dir, SMALL_SEGMENT_BYTES, { prepareNextAtFraction: 0 });
    fill(queue, SMALL_SEGMENT_BYTES); // segment 0 full
    fill(queue, 100); // segment 1 in use
    queue.getLastMappedFile(); // asks for segment 2
    await waitUntil("segment 2 prepared", () => fs.existsSync(segmentPath(dir, 2 * SMALL_SEGMENT_BYTES)));
    queue.truncateDirtyFiles(1000); // back into segment 0: segment 1 destroyed, segment 2 would follow a gap
    expect(fs.existsSync(segmentPath(dir, SMALL_SEGMENT_BYTES))).toBe(false);
    expect(fs.existsSync(segmentPath(dir, 2 * SMALL_SEGMENT_BYTES))).toBe(false);
    queue.close();
    const reloaded = new MappedFileQueue(dir, SMALL_SEGMENT_BYTES);
    reloaded.load(); // would throw on a gap
    expect(reloaded.files).toHaveLength(1);
    reloaded.close();
  });

  test("a preparation still running when the queue is destroyed does not leave its segment behind", async () => {
    // Hold the worker: its next job opens a FIFO for writing, which blocks until a reader opens it.
    const blockerDir = tempDir();
    const blocker = new MappedFileQueue(blockerDir, SMALL_SEGMENT_BYTES, { prepareNextAtFraction: 0 });
    fill(blocker, 100);
    const fifo = segmentPath(blockerDir, SMALL_SEGMENT_BYTES) + PREPARING_SUFFIX;
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    blocker.getLastMappedFile(); // the worker blocks on the FIFO

    const dir = tempDir();
    const queue = new MappedFileQueue(dir, SMALL_SEGMENT_BYTES, { prepareNextAtFraction: 0 });
    fill(queue, 100);
    queue.getLastMappedFile(); // asks for segment 1, queued behind the blocked job
    queue.destroy(); // before the worker gets to it
    const reader = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK); // releases the worker
    try {
      // The worker runs jobs in order: once a later request's segment exists, segment 1 was linked
      // into place (after the destroy); its reply then makes the destroyed queue remove it.
      const otherDir = tempDir();
      const other = new MappedFileQueue(otherDir, SMALL_SEGMENT_BYTES, { prepareNextAtFraction: 0 });
      fill(other, 100);
      other.getLastMappedFile();
      await waitUntil("the later preparation done", () => fs.existsSync(segmentPath(otherDir, SMALL_SEGMENT_BYTES)));
      await waitUntil("segment 1 removed after its late preparation", () => fs.readdirSync(dir).length === 0);
      other.close();
    } finally {
      fs.closeSync(reader);
      blocker.close();
    }
  });

  test("without the option no segment is prepared", async () => {
    const dir = tempDir();
    const queue = new MappedFileQueue(dir, SMALL_SEGMENT_BYTES);
    fill(queue, SMALL_SEGMENT_BYTES - 1);
    queue.getLastMappedFile();
    // Another queue's preparation finishing shows the worker had time to act on any request.
    const otherDir = tempDir();
    const other = new MappedFileQueue(otherDir, SMALL_SEGMENT_BYTES, { prepareNextAtFraction: 0 });
    fill(other, 1);
    other.getLastMappedFile();
    await waitUntil("the other preparation done", () => fs.existsSync(segmentPath(otherDir, SMALL_SEGMENT_BYTES)));
    expect(fs.readdirSync(dir)).toEqual([offsetToFileName(0)]);
    queue.close();
    other.close();
  });

  test("a bad threshold is refused", () => {
    expect(() => new MappedFileQueue(tempDir(), SMALL_SEGMENT_BYTES, { prepareNextAtFraction: 1.5 })).toThrow("prepareNextAtFraction 1.5 is outside 0..1");
  });
});
