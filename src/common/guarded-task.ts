// Periodic tasks whose failure never stops the process: a throw or a rejected promise is logged
// and the timer keeps running (docs: "one bad record or request never stops the process").
// Without this, one exception in a timer callback is an uncaught exception and ends the broker.

import { createLogger } from "../log.ts";

const log = createLogger("timer");

/** A task failing on every tick logs at most once per this interval (with a count), not per tick. */
export const GUARDED_TASK_LOG_INTERVAL_MS = 10_000;

/** Wraps `task` for setInterval/setTimeout: failures are logged under `label`, never thrown. */
export function guardedTask(label: string, task: () => unknown): () => void {
  let failures = 0;
  let lastLogMs = Number.NEGATIVE_INFINITY;
  const report = (err: unknown): void => {
    failures++;
    const now = performance.now();
    if (now - lastLogMs < GUARDED_TASK_LOG_INTERVAL_MS) return;
    lastLogMs = now;
    log.error(`${label} failed (${failures} failure(s) so far); it keeps running`, err);
  };
  return () => {
    try {
      const result = task();
      if (result instanceof Promise) result.catch(report);
    } catch (err) {
      report(err);
    }
  };
}
