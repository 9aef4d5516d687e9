package tsmq.interop;

import java.util.function.BooleanSupplier;

/** Condition waits for scenarios: poll until it holds or fail with what was awaited. */
public final class Waits {
    private static final long POLL_INTERVAL_MS = 10;

    private Waits() {}

    public static void until(String what, long timeoutMs, BooleanSupplier check) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (!check.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) throw new IllegalStateException("timed out after " + timeoutMs + " ms waiting for " + what);
            Thread.sleep(POLL_INTERVAL_MS);
        }
    }
}
