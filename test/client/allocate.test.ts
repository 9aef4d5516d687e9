import { describe, expect, test } from "bun:test";
import { allocateAveragely, allocateByCircle } from "../../src/client/allocate.ts";
import type { MessageQueue } from "../../src/client/message-queue.ts";

const mqs = (n: number): MessageQueue[] => Array.from({ length: n }, (_, i) => ({ topic: "T", brokerName: "b", queueId: i }));
const ids = (mq: MessageQueue[]) => mq.map((m) => m.queueId);
const cids = ["c0", "c1", "c2"];

describe("allocateAveragely", () => {
  test("8 queues over 3 consumers: 3, 3, 2 contiguous", () => {
    expect(cids.map((c) => ids(allocateAveragely("g", c, mqs(8), cids)))).toEqual([[0, 1, 2], [3, 4, 5], [6, 7]]);
  });
  test("more consumers than queues: extra consumers get nothing", () => {
    expect(cids.map((c) => ids(allocateAveragely("g", c, mqs(2), cids)))).toEqual([[0], [1], []]);
  });
  test("even split, unknown client gets nothing", () => {
    expect(ids(allocateAveragely("g", "c1", mqs(6), cids))).toEqual([2, 3]);
    expect(allocateAveragely("g", "zz", mqs(6), cids)).toEqual([]);
  });
  test("every queue assigned exactly once", () => {
    for (let n = 0; n < 20; n++) {
      for (let c = 1; c < 7; c++) {
        const all = Array.from({ length: c }, (_, i) => `c${i}`);
        const got = all.flatMap((id) => ids(allocateAveragely("g", id, mqs(n), all))).sort((a, b) => a - b);
        expect(got).toEqual(Array.from({ length: n }, (_, i) => i));
      }
    }
  });
});

describe("allocateByCircle", () => {
  test("queue k goes to consumer k % c", () => {
    expect(cids.map((c) => ids(allocateByCircle("g", c, mqs(8), cids)))).toEqual([[0, 3, 6], [1, 4, 7], [2, 5]]);
  });
});
