import { expect, test } from "bun:test";
import { guardedTask } from "../../src/common/guarded-task.ts";
import { waitUntil } from "../wait-until.ts";

test("a timer task that throws or rejects keeps its timer running and never escapes", async () => {
  let throws = 0;
  let rejects = 0;
  const thrower = setInterval(
    guardedTask("test thrower", () => {
      throws++;
      throw new Error("bad record");
    }),
    1,
  );
  const rejecter = setInterval(
    guardedTask("test rejecter", async () => {
      rejects++;
      throw new Error("bad request");
    }),
    1,
  );
  try {
    // An escaped throw or rejection would fail this test file (bun reports it) and stop the timer.
    await waitUntil("both tasks ran five times", () => throws >= 5 && rejects >= 5, 5_000);
  } finally {
    clearInterval(thrower);
    clearInterval(rejecter);
  }
  expect(throws).toBeGreaterThanOrEqual(5);
});
