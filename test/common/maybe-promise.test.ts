import { expect, test } from "bun:test";
import { andThen } from "../../src/common/maybe-promise.ts";

test("andThen: a ready value is passed on at once (no promise), a promise once it resolves", async () => {
  const now = andThen(2, (v) => v * 3);
  expect(now).toBe(6);
  const later = andThen(Promise.resolve(2), (v) => v * 3);
  expect(later).toBeInstanceOf(Promise);
  expect(await later).toBe(6);
  // A next step that itself waits makes the result a promise.
  expect(await andThen(1, (v) => Promise.resolve(v + 1))).toBe(2);
  await expect(andThen(Promise.reject(new Error("put failed")), (v) => v) as Promise<unknown>).rejects.toThrow("put failed");
});
