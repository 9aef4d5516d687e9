import { afterEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { BLANK_MAGIC_CODE, decodeRecord } from "../../src/common/message-codec.ts";
import { SysFlag, propertiesToString, type MessageInner } from "../../src/common/message.ts";
import { StoreCheckpoint } from "../../src/store/checkpoint.ts";
import { CommitLog } from "../../src/store/commit-log.ts";
import { offsetToFileName } from "../../src/store/mapped-file.ts";
import { DEFAULT_STORE_CONFIG, type StoreConfig } from "../../src/store/store-config.ts";
import { messageBatch, messageInner } from "./store-fixtures.ts";

const SEGMENT_SIZE_BYTES = 64 * 1024;
const dirs: string[] = [];
const logs: CommitLog[] = [];
afterEach(async () => {
  for (const log of logs.splice(0)) await log.shutdown();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function setup(overrides: Partial<StoreConfig> = {}): { config: StoreConfig; dir: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "tsmq-commit-log-"));
  dirs.push(root);
  const config: StoreConfig = { ...DEFAULT_STORE_CONFIG, storePathRootDir: root, mappedFileSizeCommitLog: SEGMENT_SIZE_BYTES, ...overrides };
  return { config, dir: path.join(root, "commitlog") };
}

function open(config: StoreConfig, dir: string, recover: "normal" | "none" = "none"): CommitLog {
  const log = new CommitLog(config, dir);
  log.load();
  if (recover === "normal") log.recoverNormally();
  else log.queue.truncateDirtyFiles(0); // a fresh log: nothing to recover
  log.start();
  logs.push(log);
  return log;
}

function message(i: number, bodySizeBytes = 100, overrides: Partial<MessageInner> = {}): MessageInner {
  const body = new Uint8Array(bodySizeBytes);
  for (let j = 0; j < body.length; j++) body[j] = (i + j) & 0xff;
  return messageInner({
    topic: `topic-${i % 4}`,
    queueId: i % 2,
    flag: i,
    body,
    properties: { TAGS: `tag${i % 3}`, KEYS: `key-${i}` },
    tagsCode: 0,
    bornTimestamp: 1_700_000_000_000 + i,
    bornHost: "127.0.0.1:40000",
    ...overrides,
  });
}

/** Per topic-queue counters, as the facade keeps them. */
function counters() {
  const table = new Map<string, number>();
  return (topic: string, queueId: number, count: number) => {
    const key = `${topic}-${queueId}`;
    const first = table.get(key) ?? 0;
    table.set(key, first + count);
    return first;
  };
}

describe("append and read", () => {
  test("single put: result, record and msgId", async () => {
    const { config, dir } = setup();
    const log = open(config, dir);
    const assign = counters();
    const first = await log.putMessage(message(0), assign);
    const second = await log.putMessage(message(4), assign); // same topic-0 / queue 0
    expect(first.status).toBe("PUT_OK");
    expect(first.wroteOffset).toBe(0);
    expect(second.wroteOffset).toBe(first.wroteBytes);
    expect(second.queueOffset).toBe(1);
    expect(first.msgId).toBe("7F00000100002A9F0000000000000000");
    const decoded = decodeRecord(log.readRecord(second.wroteOffset)!);
    expect(decoded.topic).toBe("topic-0");
    expect(decoded.queueOffset).toBe(1);
    expect(decoded.commitLogOffset).toBe(second.wroteOffset);
    expect(decoded.storeTimestamp).toBe(second.storeTimestamp);
    expect(decoded.msgId).toBe(second.msgId);
    expect(log.readRecord(second.wroteOffset, second.wroteBytes + 1)).toBeUndefined(); // size mismatch
    expect(log.readRecord(second.wroteOffset + 1)).toBeUndefined(); // not a record start
    expect(log.readRecord(log.getMaxOffset())).toBeUndefined(); // past the end
    expect(log.getMaxOffset()).toBe(first.wroteBytes + second.wroteBytes);
  });

  test("rolls across many 64 KiB segments with blank records; every record reads back", async () => {
    const { config, dir } = setup();
    const log = open(config, dir);
    const assign = counters();
    const results = [];
    for (let i = 0; i < 600; i++) results.push(await log.putMessage(message(i, 50 + ((i * 137) % 3000)), assign));
    expect(log.queue.files.length).toBeGreaterThan(10);
    for (const [i, result] of results.entries()) {
      expect(result.status).toBe("PUT_OK");
      const record = log.readRecord(result.wroteOffset, result.wroteBytes)!;
      const decoded = decodeRecord(record);
      expect(decoded.flag).toBe(i);
      expect(decoded.body).toEqual(message(i, 50 + ((i * 137) % 3000)).body);
      // Never spans two segments.
      expect(Math.floor(result.wroteOffset / SEGMENT_SIZE_BYTES)).toBe(Math.floor((result.wroteOffset + result.wroteBytes - 1) / SEGMENT_SIZE_BYTES));
    }
    // Every full segment ends with a blank record: int32 remaining + BLANK magic.
    for (const file of log.queue.files.slice(0, -1)) {
      const records = results.filter((r) => r.wroteOffset >= file.fileFromOffset && r.wroteOffset < file.fileFromOffset + SEGMENT_SIZE_BYTES);
      const last = records[records.length - 1]!;
      const blankPos = last.wroteOffset + last.wroteBytes - file.fileFromOffset;
      expect(file.view.getInt32(blankPos)).toBe(SEGMENT_SIZE_BYTES - blankPos);
      expect(file.view.getUint32(blankPos + 4)).toBe(BLANK_MAGIC_CODE);
    }
    expect(fs.readdirSync(dir).sort()[0]).toBe(offsetToFileName(0));
  });

  test("a batch gets consecutive queue offsets and moves whole to the next segment", async () => {
    const { config, dir } = setup();
    const log = open(config, dir);
    const assign = counters();
    await log.putMessage(message(0, 60_000), assign); // leaves ~5 KiB in segment 0
    const batch = [1, 2, 3].map((i) => message(0, 3000, { flag: i }));
    const result = await log.putMessages(messageBatch(batch, { WAIT: "true" }), assign);
    expect(result.status).toBe("PUT_OK");
    expect(result.wroteOffset).toBe(SEGMENT_SIZE_BYTES);
    expect(result.queueOffset).toBe(1);
    expect(result.msgNum).toBe(3);
    const ids = result.msgId.split(",");
    expect(ids).toHaveLength(3);
    let offset = result.wroteOffset;
    for (let i = 0; i < 3; i++) {
      const decoded = decodeRecord(log.readRecord(offset)!);
      expect([decoded.flag, decoded.queueOffset, decoded.msgId]).toEqual([i + 1, 1 + i, ids[i]!]);
      offset += decoded.storeSize;
    }
    expect(offset).toBe(result.wroteOffset + result.wroteBytes);
  });

  test("transaction PREPARED/ROLLBACK records take queue offset 0 without advancing the queue", async () => {
    const { config, dir } = setup();
    const log = open(config, dir);
    const calls: number[] = [];
    const assign = (_t: string, _q: number, count: number) => (calls.push(count), 42);
    const prepared = await log.putMessage(message(0, 10, { sysFlag: SysFlag.TRANSACTION_PREPARED_TYPE }), assign);
    const rollback = await log.putMessage(message(0, 10, { sysFlag: SysFlag.TRANSACTION_ROLLBACK_TYPE }), assign);
    const commit = await log.putMessage(message(0, 10, { sysFlag: SysFlag.TRANSACTION_COMMIT_TYPE }), assign);
    expect([prepared.queueOffset, rollback.queueOffset, commit.queueOffset]).toEqual([0, 0, 42]);
    expect(calls).toEqual([1]);
  });

  test("size limits answer with RocketMQ statuses and write nothing", async () => {
    const { config, dir } = setup({ maxMessageSize: 1024 });
    const log = open(config, dir);
    const assign = counters();
    const tooBig = await log.putMessage(message(0, 1025), assign);
    expect([tooBig.status, tooBig.remark]).toEqual(["MESSAGE_ILLEGAL", "message body 1025 bytes exceeds maxMessageSize 1024"]);
    const bigProps = { TAGS: "x".repeat(40_000) };
    const props = await log.putMessage(message(0, 10, { properties: bigProps, propertiesString: propertiesToString(bigProps) }), assign);
    expect(props.status).toBe("PROPERTIES_SIZE_EXCEEDED");
    const longTopic = await log.putMessage(message(0, 10, { topic: "t".repeat(128) }), assign);
    expect(longTopic.status).toBe("MESSAGE_ILLEGAL");
    const badHost = await log.putMessage(message(0, 10, { bornHost: "nowhere" }), assign);
    expect([badHost.status, badHost.remark]).toEqual(["MESSAGE_ILLEGAL", 'bad host "nowhere": want ip:port']);
    const batchTooBig = await log.putMessages(messageBatch([message(0, 600), message(0, 600)]), assign);
    expect([batchTooBig.status, batchTooBig.remark]).toEqual(["MESSAGE_ILLEGAL", "batch body 1284 bytes exceeds maxMessageSize 1024"]);
    const cut = messageBatch([message(0, 10), message(0, 10)]);
    const truncated = await log.putMessages({ ...cut, body: cut.body.subarray(0, cut.body.length - 1) }, assign);
    expect([truncated.status, truncated.remark]).toEqual(["MESSAGE_ILLEGAL", "batch body does not decode: member 1: properties length 20 out of range"]);
    const delayed = await log.putMessages(messageBatch([message(0, 10), message(0, 10, { properties: { DELAY: "2" } })]), assign);
    expect([delayed.status, delayed.remark]).toEqual(["MESSAGE_ILLEGAL", "batch messages cannot be delayed (member 1 or the batch sets DELAY)"]);
    const bigBatchProps = await log.putMessages(messageBatch([message(0, 10)], { TAGS: "x".repeat(33_000) }), assign);
    expect(bigBatchProps.status).toBe("PROPERTIES_SIZE_EXCEEDED");
    const empty = await log.putMessages({ ...cut, body: new Uint8Array(0) }, assign);
    expect([empty.status, empty.remark]).toEqual(["MESSAGE_ILLEGAL", "batch body holds no message"]);
    expect(log.getMaxOffset()).toBe(0);
  });

  test("a record larger than a segment is refused instead of rolling forever", async () => {
    const { config, dir } = setup({ mappedFileSizeCommitLog: 4096 });
    const log = open(config, dir);
    const result = await log.putMessage(message(0, 5000), counters());
    expect(result.status).toBe("CREATE_MAPEDFILE_FAILED");
    expect(result.remark).toMatch(/cannot fit a 4096-byte segment/);
  });
});

describe("recovery", () => {
  async function fill(log: CommitLog, count: number) {
    const assign = counters();
    const results = [];
    for (let i = 0; i < count; i++) results.push(await log.putMessage(message(i, 200 + ((i * 31) % 2000)), assign));
    return results;
  }

  test("normal recovery restores the end offset after a clean shutdown", async () => {
    const { config, dir } = setup();
    const log = open(config, dir);
    const results = await fill(log, 300);
    const end = log.getMaxOffset();
    await log.shutdown();
    const reopened = open(config, dir, "normal");
    expect(reopened.getMaxOffset()).toBe(end);
    expect(reopened.getFlushedWhere()).toBe(end);
    expect(decodeRecord(reopened.readRecord(results[299]!.wroteOffset)!).flag).toBe(299);
    const next = await reopened.putMessage(message(1000), counters());
    expect(next.wroteOffset).toBe(end);
  });

  test("garbage appended to the last segment is cut and zeroed", async () => {
    const { config, dir } = setup();
    const log = open(config, dir);
    await fill(log, 100);
    const end = log.getMaxOffset();
    await log.shutdown();
    // Random garbage right after the last record, written behind the store's back.
    const last = path.join(dir, offsetToFileName(end - (end % SEGMENT_SIZE_BYTES)));
    const fd = fs.openSync(last, "r+");
    const garbage = new Uint8Array(3000).map((_, i) => (i * 7 + 1) & 0xff);
    fs.writeSync(fd, garbage, 0, garbage.length, end % SEGMENT_SIZE_BYTES);
    fs.closeSync(fd);

    const reopened = open(config, dir, "normal");
    expect(reopened.getMaxOffset()).toBe(end);
    const file = reopened.queue.findMappedFileByOffset(end)!;
    const tail = file.buffer.subarray(end % SEGMENT_SIZE_BYTES, (end % SEGMENT_SIZE_BYTES) + garbage.length);
    expect(tail.every((b) => b === 0)).toBe(true);
  });

  test("a torn (half-written) last record is cut", async () => {
    const { config, dir } = setup();
    const log = open(config, dir);
    const results = await fill(log, 50);
    await log.shutdown();
    const torn = results[49]!;
    const file = path.join(dir, offsetToFileName(torn.wroteOffset - (torn.wroteOffset % SEGMENT_SIZE_BYTES)));
    const fd = fs.openSync(file, "r+");
    // Zero the second half of the last record, as if the process died mid-copy.
    const half = Math.floor(torn.wroteBytes / 2);
    fs.writeSync(fd, new Uint8Array(torn.wroteBytes - half), 0, torn.wroteBytes - half, (torn.wroteOffset % SEGMENT_SIZE_BYTES) + half);
    fs.closeSync(fd);
    const reopened = open(config, dir, "normal");
    expect(reopened.getMaxOffset()).toBe(torn.wroteOffset);
  });

  test("abnormal recovery starts at the checkpointed segment and stops at a CRC mismatch", async () => {
    const { config, dir } = setup();
    const log = open(config, dir);
    const results = await fill(log, 400);
    await log.shutdown();
    const fileCount = fs.readdirSync(dir).length;
    expect(fileCount).toBeGreaterThan(4);

    // Corrupt one body byte of a record in the last segment.
    const victim = results.filter((r) => r.wroteOffset >= (fileCount - 1) * SEGMENT_SIZE_BYTES)[3]!;
    const fd = fs.openSync(path.join(dir, offsetToFileName((fileCount - 1) * SEGMENT_SIZE_BYTES)), "r+");
    fs.writeSync(fd, new Uint8Array([0xee]), 0, 1, (victim.wroteOffset % SEGMENT_SIZE_BYTES) + 100);
    fs.closeSync(fd);

    const checkpoint = StoreCheckpoint.open(path.join(config.storePathRootDir, "checkpoint"));
    const reopened = new CommitLog(config, dir, { checkpoint });
    reopened.load();
    logs.push(reopened);
    // The first record of segment 2 is the newest "first record" stored at or before this time.
    const startSegment = 2 * SEGMENT_SIZE_BYTES;
    const firstOfSegment2 = results.find((r) => r.wroteOffset >= startSegment)!;
    const seen: number[] = [];
    const end = reopened.recoverAbnormally(firstOfSegment2.storeTimestamp - 0, (record, offset) => {
      expect(decodeRecord(record).commitLogOffset).toBe(offset);
      seen.push(offset);
    });
    expect(firstOfSegment2.wroteOffset).toBe(startSegment);
    // Every later segment's first record was stored at or after it; equal stamps pick the newest such segment.
    const expectedStart = Math.max(
      ...reopened.queue.files.filter((f) => results.find((r) => r.wroteOffset === f.fileFromOffset)!.storeTimestamp <= firstOfSegment2.storeTimestamp).map((f) => f.fileFromOffset),
    );
    expect(seen[0]).toBe(expectedStart);
    expect(end).toBe(victim.wroteOffset);
    expect(seen[seen.length - 1]).toBeLessThan(victim.wroteOffset);
    expect(reopened.getMaxOffset()).toBe(victim.wroteOffset);
    checkpoint.close();
  });

  test("no segments: recovery yields an empty log", () => {
    const { config, dir } = setup();
    const log = new CommitLog(config, dir);
    log.load();
    logs.push(log);
    expect(log.recoverNormally()).toBe(0);
    expect(log.recoverAbnormally(Date.now())).toBe(0);
    expect(log.getMinOffset()).toBe(0);
  });
});
