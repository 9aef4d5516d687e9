// Condition polling shared by the tests: wait on what the test needs instead of a fixed sleep.

/** Between checks: short, so a test goes on soon after the condition holds. */
const POLL_INTERVAL_MS = 5;
/** Default bound: generous, since only a failing test waits this long (2 shared cores in CI). */
const DEFAULT_WAIT_TIMEOUT_MS = 10_000;

/** Polls `check` until it holds; throws naming `what` after `timeoutMs`. */
export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = DEFAULT_WAIT_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(POLL_INTERVAL_MS);
  }
}
