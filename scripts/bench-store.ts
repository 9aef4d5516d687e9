// Commit-log throughput: 1 KB appends under ASYNC_FLUSH, under SYNC_FLUSH with 256 concurrent
// puts (group commit), then reads back by offset (raw view, and full decode).
// Usage: bun scripts/bench-store.ts [--seconds N] [--dir PATH]   (default 2 s per phase, temp dir)

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { decodeRecord } from "../src/common/message-codec.ts";
import { propertiesToString, type MessageInner } from "../src/common/message.ts";
import { CommitLog } from "../src/store/commit-log.ts";
import { DEFAULT_STORE_CONFIG, type StoreConfig } from "../src/store/store-config.ts";
import type { PutMessageResult } from "../src/store/store-types.ts";

/** Body of each benchmark message. */
const BODY_SIZE_BYTES = 1024;
/** Segments smaller than the 1 GiB default so a short run does not map huge files. */
const BENCH_SEGMENT_SIZE_BYTES = 128 * 1024 * 1024;
/** ASYNC puts issued between two awaits, so timers and the flush service still run. */
const ASYNC_PUTS_PER_TURN = 1024;
/** Concurrent puts of the SYNC_FLUSH phase (the target is stated for 256). */
const SYNC_CONCURRENCY = 256;
/** Offsets remembered for the read phase. */
const MAX_REMEMBERED_OFFSETS = 4_000_000;

function argValue(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

const phaseMs = Number(argValue("--seconds") ?? "2") * 1000;
const baseDir = argValue("--dir") ?? os.tmpdir();

function benchMessage(): MessageInner {
  const properties = { TAGS: "TagA", KEYS: "bench-key", UNIQ_KEY: "7F0000010000000000000000000000AA", WAIT: "true" };
  return {
    topic: "BenchTopic",
    queueId: 0,
    flag: 0,
    body: new Uint8Array(BODY_SIZE_BYTES).fill(0x61),
    properties,
    propertiesString: propertiesToString(properties),
    tagsCode: 0,
    sysFlag: 0,
    bornTimestamp: Date.now(),
    bornHost: "127.0.0.1:50000",
    storeHost: "127.0.0.1:10911",
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
  };
}

function openLog(root: string, flushDiskType: StoreConfig["flushDiskType"]): CommitLog {
  const config: StoreConfig = { ...DEFAULT_STORE_CONFIG, storePathRootDir: root, mappedFileSizeCommitLog: BENCH_SEGMENT_SIZE_BYTES, flushDiskType };
  const log = new CommitLog(config);
  log.load();
  log.recoverNormally();
  log.start();
  return log;
}

function report(name: string, count: number, elapsedMs: number, bytes: number): void {
  const perSecond = Math.round((count * 1000) / elapsedMs);
  const mbPerSecond = ((bytes / elapsedMs) * 1000) / (1024 * 1024);
  console.log(`${name.padEnd(44)} ${String(perSecond).padStart(9)} msg/s  ${mbPerSecond.toFixed(1).padStart(7)} MiB/s  (${count} in ${Math.round(elapsedMs)} ms)`);
}

async function benchAsync(root: string, offsets: Float64Array, sizes: Uint32Array): Promise<number> {
  const log = openLog(root, "ASYNC_FLUSH");
  const msg = benchMessage();
  let queueOffset = 0;
  const assign = (_t: string, _q: number, count: number) => ((queueOffset += count), queueOffset - count);
  let count = 0;
  const pending: Array<PutMessageResult | Promise<PutMessageResult>> = new Array(ASYNC_PUTS_PER_TURN);
  const started = performance.now();
  while (performance.now() - started < phaseMs) {
    for (let i = 0; i < ASYNC_PUTS_PER_TURN; i++) pending[i] = log.putMessage(msg, assign);
    for (const result of await Promise.all(pending)) if (result.status !== "PUT_OK") throw new Error(result.status);
    count += ASYNC_PUTS_PER_TURN;
  }
  const elapsed = performance.now() - started;
  report("append ASYNC_FLUSH (1 KB body)", count, elapsed, log.getMaxOffset());
  // Remember record offsets for the read phase by walking the records just written.
  let remembered = 0;
  for (let offset = log.getMinOffset(); remembered < offsets.length && offset < log.getMaxOffset(); ) {
    const record = log.readRecord(offset);
    if (!record) {
      offset = log.rollNextFile(offset);
      continue;
    }
    offsets[remembered] = offset;
    sizes[remembered] = record.byteLength;
    remembered++;
    offset += record.byteLength;
  }
  const readStarted = performance.now();
  let readBytes = 0;
  let reads = 0;
  while (performance.now() - readStarted < phaseMs / 2) {
    for (let i = 0; i < remembered; i++) readBytes += log.readRecord(offsets[i]!, sizes[i]!)!.byteLength;
    reads += remembered;
  }
  report("read by offset (zero-copy view)", reads, performance.now() - readStarted, readBytes);
  const decodeStarted = performance.now();
  let decoded = 0;
  for (let i = 0; i < remembered && performance.now() - decodeStarted < phaseMs / 2; i++) {
    decodeRecord(log.readRecord(offsets[i]!, sizes[i]!)!);
    decoded++;
  }
  report("read + full decode", decoded, performance.now() - decodeStarted, decoded * (sizes[0] ?? 0));
  await log.shutdown();
  return remembered;
}

async function benchSync(root: string): Promise<void> {
  const log = openLog(root, "SYNC_FLUSH");
  const msg = benchMessage();
  // Count the group commits' fsync rounds to show how many puts share one.
  let flushRounds = 0;
  const flushQueue = log.queue.flush.bind(log.queue);
  log.queue.flush = (leastPages?: number) => (flushRounds++, flushQueue(leastPages));
  let queueOffset = 0;
  const assign = (_t: string, _q: number, count: number) => ((queueOffset += count), queueOffset - count);
  let count = 0;
  let latencySumMs = 0;
  const started = performance.now();
  const lane = async () => {
    while (performance.now() - started < phaseMs) {
      const t0 = performance.now();
      const result = await log.putMessage(msg, assign);
      if (result.status !== "PUT_OK") throw new Error(`${result.status}: ${result.remark}`);
      latencySumMs += performance.now() - t0;
      count++;
    }
  };
  await Promise.all(Array.from({ length: SYNC_CONCURRENCY }, lane));
  const elapsed = performance.now() - started;
  report(`append SYNC_FLUSH, ${SYNC_CONCURRENCY} concurrent puts`, count, elapsed, log.getMaxOffset());
  console.log(`${"".padEnd(44)} mean put latency ${(latencySumMs / count).toFixed(2)} ms, ${flushRounds} fsync rounds (${(count / flushRounds).toFixed(0)} puts each, ${(elapsed / flushRounds).toFixed(2)} ms each)`);
  await log.shutdown();
}

const root = fs.mkdtempSync(path.join(baseDir, "tsmq-bench-store-"));
try {
  console.log(`bun ${Bun.version}, ${os.cpus().length} cores, ${phaseMs} ms per phase, store in ${root}`);
  await benchAsync(path.join(root, "async"), new Float64Array(MAX_REMEMBERED_OFFSETS), new Uint32Array(MAX_REMEMBERED_OFFSETS));
  fs.rmSync(path.join(root, "async"), { recursive: true, force: true });
  await benchSync(path.join(root, "sync"));
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
