import { expect, test } from "bun:test";
import type { ConsumedMessage } from "../../src/client/consumed-message.ts";
import { ProcessQueue } from "../../src/client/process-queue.ts";

const msg = (queueOffset: number) => ({ queueOffset, body: new Uint8Array(10) }) as ConsumedMessage;

test("concurrent: the commit offset is the smallest offset still in flight", () => {
  const pq = new ProcessQueue();
  expect(pq.remove([msg(0)])).toBe(-1); // nothing cached
  const m = [0, 1, 2, 3].map(msg);
  expect(pq.put(m)).toHaveLength(4);
  expect(pq.put([msg(2)])).toHaveLength(0); // already seen
  expect(pq.msgCount).toBe(4);
  expect(pq.msgSizeBytes).toBe(40);
  expect(pq.spanOffset).toBe(3);
  expect(pq.remove([m[1]!, m[2]!])).toBe(0);
  expect(pq.remove([m[0]!])).toBe(3);
  expect(pq.remove([m[3]!])).toBe(4); // maxOffsetSeen + 1
  expect(pq.msgSizeBytes).toBe(0);
});

test("orderly: take, rollback puts messages back in front, commit returns the next offset", () => {
  const pq = new ProcessQueue();
  pq.put([5, 6, 7].map(msg));
  expect(pq.take(2).map((x) => x.queueOffset)).toEqual([5, 6]);
  pq.rollback();
  expect(pq.take(3).map((x) => x.queueOffset)).toEqual([5, 6, 7]);
  expect(pq.commit()).toBe(8);
  expect(pq.msgCount).toBe(0);
  expect(pq.commit()).toBe(-1);
});
