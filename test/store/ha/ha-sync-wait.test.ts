import { expect, test } from "bun:test";
import { SLAVE_ACK_WAITERS_MAX, SlaveAckWaiters } from "../../../src/store/ha/ha-sync-wait.ts";

test("one ack releases every waiter it covers, in any insertion order", async () => {
  const waiters = new SlaveAckWaiters();
  const settled: number[] = [];
  const promises = [300, 100, 200, 400].map((offset) =>
    waiters.wait(offset, 5_000).then((status) => {
      expect(status).toBe("PUT_OK");
      settled.push(offset);
    }),
  );
  waiters.ack(250);
  await Promise.all(promises.slice(1, 3));
  expect(settled.sort()).toEqual([100, 200]);
  expect(waiters.size()).toBe(2);
  waiters.ack(400);
  await Promise.all(promises);
  expect(waiters.size()).toBe(0);
  expect(waiters.getAckedOffset()).toBe(400);
});

test("already acked offsets resolve at once; acks never go backwards", async () => {
  const waiters = new SlaveAckWaiters();
  waiters.ack(1000);
  waiters.ack(10);
  expect(waiters.getAckedOffset()).toBe(1000);
  expect(await waiters.wait(1000, 1)).toBe("PUT_OK");
});

test("timeout gives FLUSH_SLAVE_TIMEOUT and removes the waiter", async () => {
  const waiters = new SlaveAckWaiters();
  const started = Date.now();
  expect(await waiters.wait(10, 30)).toBe("FLUSH_SLAVE_TIMEOUT");
  expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  expect(waiters.size()).toBe(0);
});

test("the waiter list is bounded", async () => {
  const waiters = new SlaveAckWaiters();
  const held = Array.from({ length: SLAVE_ACK_WAITERS_MAX }, (_, i) => waiters.wait(i + 1, 60_000));
  expect(await waiters.wait(1, 60_000)).toBe("FLUSH_SLAVE_TIMEOUT");
  waiters.ack(SLAVE_ACK_WAITERS_MAX);
  expect(new Set(await Promise.all(held))).toEqual(new Set(["PUT_OK"]));
});

test("cancelAll answers everyone", async () => {
  const waiters = new SlaveAckWaiters();
  const pending = waiters.wait(10, 60_000);
  waiters.cancelAll();
  expect(await pending).toBe("FLUSH_SLAVE_TIMEOUT");
});
