import { afterEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { propertiesToString, type MessageInner } from "../../src/common/message.ts";
import { StoreCheckpoint } from "../../src/store/checkpoint.ts";
import { CommitLog } from "../../src/store/commit-log.ts";
import { AsyncFlushService, GroupCommitService, type FlushTarget } from "../../src/store/flush.ts";
import { MappedFileQueue } from "../../src/store/mapped-file-queue.ts";
import { DEFAULT_STORE_CONFIG, type StoreConfig } from "../../src/store/store-config.ts";
import { waitUntil } from "../wait-until.ts";

const dirs: string[] = [];
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsmq-flush-"));
  dirs.push(dir);
  return dir;
}


function commitLog(overrides: Partial<StoreConfig>): { log: CommitLog; config: StoreConfig } {
  const root = tempDir();
  const config: StoreConfig = { ...DEFAULT_STORE_CONFIG, storePathRootDir: root, mappedFileSizeCommitLog: 1024 * 1024, ...overrides };
  const log = new CommitLog(config);
  log.load();
  log.recoverNormally();
  log.start();
  cleanups.push(() => log.shutdown());
  return { log, config };
}

function message(i: number, properties: Record<string, string> = {}): MessageInner {
  return {
    topic: "flush-topic",
    queueId: 0,
    flag: 0,
    body: new Uint8Array(1024).fill(i & 0xff),
    properties,
    propertiesString: propertiesToString(properties),
    tagsCode: 0,
    sysFlag: 0,
    bornTimestamp: Date.now(),
    bornHost: "127.0.0.1:1",
    storeHost: "127.0.0.1:10911",
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
  };
}

let next = 0;
const assign = () => next++;

/** Counts flush calls of a real queue. */
function countingTarget(queue: MappedFileQueue): FlushTarget & { calls: number[] } {
  const calls: number[] = [];
  return {
    calls,
    flush: (leastPages) => (calls.push(leastPages), queue.flush(leastPages)),
    getFlushedWhere: () => queue.getFlushedWhere(),
  };
}

describe("SYNC_FLUSH group commit", () => {
  test("256 concurrent puts are all acknowledged durable, sharing a few fsyncs", async () => {
    const { log } = commitLog({ flushDiskType: "SYNC_FLUSH" });
    const puts = [];
    for (let i = 0; i < 256; i++) puts.push(log.putMessage(message(i), assign));
    const results = await Promise.all(puts);
    expect(results.every((r) => r.status === "PUT_OK")).toBe(true);
    expect(log.getFlushedWhere()).toBe(log.getMaxOffset());
    for (const r of results) expect(log.getFlushedWhere()).toBeGreaterThanOrEqual(r.wroteOffset + r.wroteBytes);
  });

  test("one fsync serves every waiter of a tick", async () => {
    const queue = new MappedFileQueue(tempDir(), 1024 * 1024);
    queue.load();
    cleanups.push(() => queue.close());
    const target = countingTarget(queue);
    const service = new GroupCommitService(target, { timeoutMs: 5000 });
    cleanups.push(() => service.shutdown());
    const waits = [];
    for (let i = 0; i < 256; i++) {
      queue.getLastMappedFile()!.appendBytes(new Uint8Array(1000));
      waits.push(service.waitForFlush(queue.getMaxOffset()));
    }
    expect(await Promise.all(waits)).toEqual(Array(256).fill("PUT_OK"));
    expect(target.calls).toHaveLength(1);
    expect(service.pendingCount).toBe(0);
    // Already durable: answered without an fsync.
    expect(await service.waitForFlush(queue.getMaxOffset())).toBe("PUT_OK");
    expect(target.calls).toHaveLength(1);
  });

  test("WAIT=false returns without waiting for the fsync, which still follows soon", async () => {
    const { log } = commitLog({ flushDiskType: "SYNC_FLUSH" });
    const result = await log.putMessage(message(1, { WAIT: "false" }), assign);
    expect(result.status).toBe("PUT_OK");
    expect(log.getFlushedWhere()).toBe(0); // answered before any fsync
    await waitUntil("log.getFlushedWhere() === log.getMaxOffset()", () => log.getFlushedWhere() === log.getMaxOffset());
  });

  test("a slow fsync times out with FLUSH_DISK_TIMEOUT; the message stays stored", async () => {
    const { log } = commitLog({ flushDiskType: "SYNC_FLUSH", syncFlushTimeout: 100 });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const realFlush = log.queue.flush.bind(log.queue);
    log.queue.flush = async (leastPages = 0) => {
      await released; // a disk that hangs until the test lets it go
      return realFlush(leastPages);
    };
    const started = performance.now();
    const result = await log.putMessage(message(2), assign);
    const waitedMs = performance.now() - started;
    expect(result.status).toBe("FLUSH_DISK_TIMEOUT");
    expect(result.remark).toMatch(/syncFlushTimeout 100 ms; the message is stored/);
    expect(waitedMs).toBeGreaterThanOrEqual(95);
    expect(waitedMs).toBeLessThan(2000);
    expect(log.readRecord(result.wroteOffset, result.wroteBytes)).toBeDefined();
    release();
    await waitUntil("log.getFlushedWhere() === log.getMaxOffset()", () => log.getFlushedWhere() === log.getMaxOffset());
  });

  test("a wakeup during a running fsync gets its own fsync round (WAIT=false puts, slave appends)", async () => {
    let end = 100;
    let flushedWhere = 0;
    const gates: Array<() => void> = [];
    let hang = true;
    const target: FlushTarget = {
      // Each fsync covers what was appended when it started, then hangs until the test releases it.
      flush: () => {
        const covered = end;
        if (!hang) return Promise.resolve((flushedWhere = covered));
        return new Promise<number>((resolve) => gates.push(() => resolve((flushedWhere = covered))));
      },
      getFlushedWhere: () => flushedWhere,
    };
    const service = new GroupCommitService(target, { timeoutMs: 60_000 });
    service.wakeup();
    await waitUntil("gates.length === 1", () => gates.length === 1);
    end = 200; // appended while the first fsync runs
    service.wakeup();
    gates[0]!();
    await waitUntil("gates.length === 2", () => gates.length === 2);
    gates[1]!();
    await waitUntil("flushedWhere === 200", () => flushedWhere === 200);
    hang = false;
    await service.shutdown();
  });

  test("the waiter queue is bounded", async () => {
    let release!: (offset: number) => void;
    const stuck = new Promise<number>((resolve) => (release = resolve));
    const target: FlushTarget = { flush: () => stuck, getFlushedWhere: () => 0 };
    const service = new GroupCommitService(target, { timeoutMs: 60_000, maxWaiters: 2 });
    const first = service.waitForFlush(10);
    const second = service.waitForFlush(20);
    expect(await service.waitForFlush(30)).toBe("FLUSH_DISK_TIMEOUT");
    expect(service.pendingCount).toBe(2);
    release(20);
    expect(await Promise.all([first, second])).toEqual(["PUT_OK", "PUT_OK"]);
    await service.shutdown();
  });
});

describe("fsync failures", () => {
  test("a failed fsync rejects and never advances flushedPosition", async () => {
    const queue = new MappedFileQueue(tempDir(), 4096);
    queue.load();
    const file = queue.getLastMappedFile()!;
    file.appendBytes(new Uint8Array([1, 2, 3]));
    const fd = (file as unknown as { fd: number }).fd;
    fs.closeSync(fd); // the descriptor goes bad behind the store's back: fdatasync fails with EBADF
    await expect(file.flush()).rejects.toThrow();
    expect(file.flushedPosition).toBe(0);
    await expect(queue.flush(0)).rejects.toThrow();
    expect(queue.getFlushedWhere()).toBe(0);
    (file as unknown as { fd: number }).fd = -1; // already closed above
    queue.close();
  });
});

describe("ASYNC_FLUSH", () => {
  test("puts return at once; the timer flushes and advances the checkpoint", async () => {
    const { log, config } = commitLog({ flushDiskType: "ASYNC_FLUSH", flushIntervalCommitLog: 10, flushCommitLogLeastPages: 0 });
    const checkpoint = StoreCheckpoint.open(path.join(config.storePathRootDir, "checkpoint"));
    cleanups.push(() => checkpoint.close());
    log.setCheckpoint(checkpoint);
    const results = await Promise.all([0, 1, 2].map((i) => log.putMessage(message(i), assign)));
    expect(results.every((r) => r.status === "PUT_OK")).toBe(true);
    await waitUntil("log.getFlushedWhere() === log.getMaxOffset()", () => log.getFlushedWhere() === log.getMaxOffset());
    await waitUntil("checkpoint.physicMsgTimestamp === results[2]!.storeTimestamp", () => checkpoint.physicMsgTimestamp === results[2]!.storeTimestamp);
  });

  test("least pages between thorough flushes", async () => {
    const queue = new MappedFileQueue(tempDir(), 1024 * 1024);
    queue.load();
    cleanups.push(() => queue.close());
    const target = countingTarget(queue);
    const service = new AsyncFlushService(target, { intervalMs: 5, leastPages: 4, thoroughIntervalMs: 200 });
    queue.getLastMappedFile()!.appendBytes(new Uint8Array(100)); // < 4 pages: only a thorough flush writes it
    service.start();
    cleanups.push(() => service.shutdown());
    await waitUntil("target.calls.length >= 3", () => target.calls.length >= 3);
    expect(queue.getFlushedWhere()).toBe(0);
    expect(target.calls.slice(0, 3)).toEqual([4, 4, 4]);
    await waitUntil("queue.getFlushedWhere() === 100", () => queue.getFlushedWhere() === 100);
    expect(target.calls).toContain(0); // the thorough flush wrote it
    queue.getLastMappedFile()!.appendBytes(new Uint8Array(5 * 4096)); // ≥ 4 pages: the next tick writes it
    await waitUntil("queue.getFlushedWhere() === 100 + 5 * 4096", () => queue.getFlushedWhere() === 100 + 5 * 4096);
  });
});
