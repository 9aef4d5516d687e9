import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { INDEX_HEADER_SIZE_BYTES, IndexFile, indexFileSizeBytes, indexKeyHash, topicKeyHash } from "../../src/store/index-file.ts";
import { IndexService, indexFileName } from "../../src/store/index-service.ts";

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "tsmq-index-"));
});
afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

describe("index key hash", () => {
  test("is abs(Java String.hashCode)", () => {
    expect(indexKeyHash("")).toBe(0);
    expect(indexKeyHash("abc")).toBe(96354); // Java "abc".hashCode()
    // "polygenelubricants".hashCode() == Integer.MIN_VALUE in Java; abs overflows, RocketMQ maps it to 0
    expect(indexKeyHash("polygenelubricants")).toBe(0);
    // "Aa" and "BB" collide in Java (2112)
    expect(indexKeyHash("Aa")).toBe(2112);
    expect(indexKeyHash("BB")).toBe(2112);
  });
  test("topicKeyHash(topic, key) equals indexKeyHash(topic + '#' + key) without the concatenation", () => {
    for (const [topic, key] of [["T", "Aa"], ["BenchTopic", "7F0000010000000000000000000000AA"], ["", ""], ["TopicTest", "订单-1"]] as const) {
      expect(topicKeyHash(topic, key)).toBe(indexKeyHash(`${topic}#${key}`));
    }
  });

  test("file names are yyyyMMddHHmmssSSS local time", () => {
    const t = new Date(2024, 0, 2, 3, 4, 5, 6).getTime();
    expect(indexFileName(t)).toBe("20240102030405006");
  });
});

describe("IndexFile", () => {
  test("layout: header, slot, chained entries with second-granularity time diffs", async () => {
    const p = path.join(root, "20240101000000000");
    const f = IndexFile.open(p, 4, 8);
    expect(f.indexCount).toBe(1);
    expect(f.putKey("T#Aa", 1000, 50_000)).toBe(true);
    expect(f.putKey("T#BB", 2000, 53_500)).toBe(true); // same slot, same hash: a collision
    await f.flush();
    const bytes = new Uint8Array(fs.readFileSync(p));
    expect(bytes.length).toBe(indexFileSizeBytes(4, 8));
    const hash = indexKeyHash("T#Aa");
    expect(hash).toBe(indexKeyHash("T#BB"));
    const header = [...bytes.subarray(0, INDEX_HEADER_SIZE_BYTES)];
    expect(header).toEqual([
      0, 0, 0, 0, 0, 0, 0xc3, 0x50, // beginTimestamp 50000
      0, 0, 0, 0, 0, 0, 0xd0, 0xfc, // endTimestamp 53500
      0, 0, 0, 0, 0, 0, 0x03, 0xe8, // beginPhyOffset 1000
      0, 0, 0, 0, 0, 0, 0x07, 0xd0, // endPhyOffset 2000
      0, 0, 0, 1, // hashSlotCount 1
      0, 0, 0, 3, // indexCount 3 (next entry)
    ]);
    const slotPos = INDEX_HEADER_SIZE_BYTES + (hash % 4) * 4;
    expect([...bytes.subarray(slotPos, slotPos + 4)]).toEqual([0, 0, 0, 2]); // newest entry number
    const e2 = INDEX_HEADER_SIZE_BYTES + 4 * 4 + 2 * 20;
    const dv = new DataView(bytes.buffer);
    expect(dv.getInt32(e2)).toBe(hash);
    expect(Number(dv.getBigInt64(e2 + 4))).toBe(2000);
    expect(dv.getInt32(e2 + 12)).toBe(3); // (53500-50000)/1000 truncated
    expect(dv.getInt32(e2 + 16)).toBe(1); // prev = entry 1
    const out: number[] = [];
    f.selectPhyOffsets(out, "T#Aa", 10, 0, 100_000);
    expect(out).toEqual([2000, 1000]); // both: hash collisions are left to the caller
    f.close();
  });

  test("time range filters entries and a full file refuses keys", () => {
    const f = IndexFile.open(path.join(root, "20240101000000001"), 16, 4);
    expect(f.putKey("k", 1, 10_000)).toBe(true);
    expect(f.putKey("k", 2, 20_000)).toBe(true);
    expect(f.putKey("k", 3, 30_000)).toBe(true);
    expect(f.putKey("k", 4, 40_000)).toBe(false); // entries 1..3 used, entry 0 never is
    expect(f.isFull()).toBe(true);
    const out: number[] = [];
    f.selectPhyOffsets(out, "k", 10, 15_000, 25_000);
    expect(out).toEqual([2]);
    const limited: number[] = [];
    f.selectPhyOffsets(limited, "k", 2, 0, 99_000);
    expect(limited).toEqual([3, 2]);
    expect(f.isTimeMatched(0, 5_000)).toBe(false);
    expect(f.isTimeMatched(25_000, 99_000)).toBe(true);
    f.close();
  });
});

describe("IndexService", () => {
  test("indexes KEYS tokens and UNIQ_KEY, rolls files when full, queries newest first", () => {
    let clock = 1_700_000_000_000;
    const svc = new IndexService(root, 8, 4, () => clock++);
    svc.load(true, 0);
    for (let i = 0; i < 5; i++) {
      svc.buildIndex({ topic: "T", commitLogOffset: i * 100, storeTimestamp: 1_000_000 + i * 1000, keys: `k${i} shared  `, uniqKey: `U${i}` });
    }
    // 3 keys per message, 3 entries per file: one file per message
    expect(svc.fileCount).toBe(5);
    expect(svc.queryOffset("T", "shared", 64, 0, Number.MAX_SAFE_INTEGER).phyOffsets).toEqual([400, 300, 200, 100, 0]);
    expect(svc.queryOffset("T", "shared", 2, 0, Number.MAX_SAFE_INTEGER).phyOffsets).toEqual([400, 300]);
    expect(svc.queryOffset("T", "U3", 64, 0, Number.MAX_SAFE_INTEGER).phyOffsets).toEqual([300]);
    expect(svc.queryOffset("T", "k1", 64, 0, Number.MAX_SAFE_INTEGER).phyOffsets).toEqual([100]);
    expect(svc.queryOffset("Other", "k1", 64, 0, Number.MAX_SAFE_INTEGER).phyOffsets).toEqual([]);
    const ranged = svc.queryOffset("T", "shared", 64, 1_001_000, 1_003_000);
    expect(ranged.phyOffsets).toEqual([300, 200, 100]);
    expect(ranged.indexLastUpdatePhyoffset).toBe(400);
    // re-dispatch of an already indexed message adds nothing
    svc.buildIndex({ topic: "T", commitLogOffset: 300, storeTimestamp: 1_003_000, keys: "shared", uniqKey: undefined });
    expect(svc.queryOffset("T", "shared", 64, 0, Number.MAX_SAFE_INTEGER).phyOffsets.length).toBe(5);
    // files wholly below the commit-log minimum go, never the newest
    expect(svc.deleteExpiredFiles(250)).toBe(3);
    expect(svc.queryOffset("T", "shared", 64, 0, Number.MAX_SAFE_INTEGER).phyOffsets).toEqual([400, 300]);
    svc.close();
    // reopen after a crash with an older checkpoint: newer files are dropped for rebuilding
    const again = new IndexService(root, 8, 4);
    again.load(false, 1_003_500);
    expect(again.fileCount).toBe(1);
    expect(again.queryOffset("T", "shared", 64, 0, Number.MAX_SAFE_INTEGER).phyOffsets).toEqual([300]);
    again.close();
  });
});
