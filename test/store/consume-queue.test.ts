import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { CQ_STORE_UNIT_SIZE_BYTES, ConsumeQueue } from "../../src/store/consume-queue.ts";
import { waitUntil } from "../wait-until.ts";

// 5 entries per segment keeps segment roll-over cheap to exercise.
const FILE_SIZE_BYTES = 5 * CQ_STORE_UNIT_SIZE_BYTES;
let root: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "tsmq-cq-"));
});
afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

function open(): ConsumeQueue {
  const cq = new ConsumeQueue(root, "TopicA", 3, FILE_SIZE_BYTES);
  cq.load();
  return cq;
}

/** Message n sits at commit-log offset n*100 with size 50 and tags code n-1 (so one is negative). */
function fill(cq: ConsumeQueue, count: number, from = 0): void {
  for (let n = from; n < from + count; n++) expect(cq.putEntry(n * 100, 50, n - 1, n)).toBe(true);
}

describe("ConsumeQueue", () => {
  test("entries are 20 big-endian bytes at n*20 in 20-digit named segments", () => {
    const cq = open();
    fill(cq, 7);
    expect(cq.getMinOffsetInQueue()).toBe(0);
    expect(cq.getMaxOffsetInQueue()).toBe(7);
    const dir = path.join(root, "TopicA", "3");
    // The segment after the current one may already be prepared (all zeros) off the event loop.
    const segments = fs.readdirSync(dir).filter((name) => /^\d{20}$/.test(name)).sort();
    expect(segments.slice(0, 2)).toEqual(["00000000000000000000", "00000000000000000100"]);
    for (const extra of segments.slice(2)) {
      expect(extra).toBe("00000000000000000200");
      expect(new Uint8Array(fs.readFileSync(path.join(dir, extra))).every((b) => b === 0)).toBe(true);
    }
    const second = new Uint8Array(fs.readFileSync(path.join(dir, "00000000000000000100")));
    // entry 5 (first of the 2nd segment): offset 500, size 50, tags code 4
    expect([...second.subarray(0, 20)]).toEqual([
      0, 0, 0, 0, 0, 0, 0x01, 0xf4, // commit-log offset 500
      0, 0, 0, 50, // size 50
      0, 0, 0, 0, 0, 0, 0, 4, // tags code 4
    ]);
    const first = new Uint8Array(fs.readFileSync(path.join(dir, "00000000000000000000")));
    // entry 0 tags code -1 is sign-extended to int64
    expect([...first.subarray(12, 20)]).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    expect(cq.getEntry(6)).toEqual({ commitLogOffset: 600, sizeBytes: 50, tagsCode: 5 });
    expect(cq.getEntry(0)!.tagsCode).toBe(-1);
    expect(cq.getEntry(7)).toBeUndefined();
    const region = cq.getEntries(3)!;
    expect((region.end - region.pos) / CQ_STORE_UNIT_SIZE_BYTES).toBe(2); // entries 3,4 up to the segment end
    expect(cq.rollNextFile(3)).toBe(5);
    cq.files.close();
  });

  test("the next segment is prepared off the event loop at half full, used by the appends, and dropped by recovery when unused", async () => {
    const cq = open();
    const dir = path.join(root, "TopicA", "3");
    const next = path.join(dir, "00000000000000000100");
    // The check runs when the queue looks up its segment for an append: the 4th entry finds 3 of 5 written.
    fill(cq, 4);
    await waitUntil("the next segment prepared", () => fs.existsSync(next));
    expect(fs.statSync(next).size).toBe(FILE_SIZE_BYTES);
    expect(fs.readdirSync(dir).some((name) => name.endsWith(".creating"))).toBe(false);
    const preparedInode = fs.statSync(next).ino;
    fill(cq, 5, 4); // entries 4..8: rolls into the prepared segment
    expect(fs.statSync(next).ino).toBe(preparedInode); // mapped as prepared, not created again
    expect(cq.getEntry(6)).toEqual({ commitLogOffset: 600, sizeBytes: 50, tagsCode: 5 });
    // Entry 8 found 3 entries in the second segment: the third one gets prepared too.
    const third = path.join(dir, "00000000000000000200");
    await waitUntil("the third segment prepared", () => fs.existsSync(third));
    cq.files.close();
    const again = open();
    again.recover();
    expect(again.getMaxOffsetInQueue()).toBe(9);
    expect(fs.existsSync(third)).toBe(false);
    again.files.close();
  });

  test("re-dispatch of already written entries is skipped", () => {
    const cq = open();
    fill(cq, 3);
    expect(cq.putEntry(100, 50, 0, 1)).toBe(true);
    expect(cq.getMaxOffsetInQueue()).toBe(3);
    cq.files.close();
  });

  test("recover finds the end after reopen and truncates to a commit-log offset", () => {
    const cq = open();
    fill(cq, 12);
    cq.files.close();
    const again = open();
    again.recover();
    expect(again.getMaxOffsetInQueue()).toBe(12);
    expect(again.maxPhysicOffset).toBe(1150);
    // commit log now ends at 720: entries 8.. (offset 800+) must go; entry 7 at 700 stays
    again.truncateDirtyLogicFiles(720);
    expect(again.getMaxOffsetInQueue()).toBe(8);
    expect(again.maxPhysicOffset).toBe(750);
    // cut on a segment boundary: entry 5 at 500 and later go
    again.truncateDirtyLogicFiles(500);
    expect(again.getMaxOffsetInQueue()).toBe(5);
    fill(again, 2, 5);
    expect(again.getEntry(6)).toEqual({ commitLogOffset: 600, sizeBytes: 50, tagsCode: 5 });
    again.files.close();
  });

  test("a queue whose first entry is past 0 is padded and its min offset set", () => {
    const cq = open();
    fill(cq, 2, 7);
    expect(cq.getMinOffsetInQueue()).toBe(7);
    expect(cq.getMaxOffsetInQueue()).toBe(9);
    expect(cq.getEntries(6)).toBeUndefined();
    expect(cq.getEntry(7)!.commitLogOffset).toBe(700);
    cq.files.close();
    const again = open();
    again.recover();
    again.correctMinOffset(0);
    expect(again.getMinOffsetInQueue()).toBe(7);
    expect(again.getMaxOffsetInQueue()).toBe(9);
    again.files.close();
  });

  test("deleting segments below the commit-log minimum corrects the min offset", () => {
    const cq = open();
    fill(cq, 12);
    // commit log now starts at 650: segment 0 (entries 0-4, last at 400) goes, entry 7 (700) is the first kept
    expect(cq.deleteExpiredFiles(650)).toBe(1);
    expect(cq.getMinOffsetInQueue()).toBe(7);
    expect(cq.getMaxOffsetInQueue()).toBe(12);
    expect(cq.getEntries(4)).toBeUndefined();
    // the last segment is never deleted
    expect(cq.deleteExpiredFiles(5000)).toBe(1);
    expect(cq.files.files.length).toBe(1);
    cq.files.close();
  });

  test("offset by time: exact, nearest neighbour, before first and after last", () => {
    const cq = open();
    fill(cq, 5);
    // message n stored at time 1000 + n*10
    const storeTime = (phy: number) => 1000 + (phy / 100) * 10;
    expect(cq.getOffsetInQueueByTime(1020, 0, storeTime)).toBe(2);
    expect(cq.getOffsetInQueueByTime(1022, 0, storeTime)).toBe(2);
    expect(cq.getOffsetInQueueByTime(1028, 0, storeTime)).toBe(3);
    expect(cq.getOffsetInQueueByTime(10, 0, storeTime)).toBe(0);
    expect(cq.getOffsetInQueueByTime(9_999, 0, storeTime)).toBe(4);
    cq.files.close();
  });
});
