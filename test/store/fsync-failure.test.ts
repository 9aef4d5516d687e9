import { describe, expect, test } from "bun:test";
import { MessageStore } from "../../src/store/message-store.ts";
import type { PutMessageResult } from "../../src/store/store-types.ts";
import { canMount, failingWritebackFs } from "./disk-fixtures.ts";
import { bodyOf, message, smallStoreConfig } from "./store-fixtures.ts";

const MIB = 1024 * 1024;
/** Puts before the test gives up finding the failure: 200 × 64 KiB is far past the 3 MiB backing. */
const MAX_PUTS = 200;

describe.if(canMount())("a failed commit-log fsync (real writeback failure on a loop device)", () => {
  test("SYNC_FLUSH: the waiting puts fail, the store turns read-only, nothing after the failure is acknowledged, reads go on", async () => {
    const mounted = failingWritebackFs(64 * MIB, 3 * MIB);
    const store = new MessageStore(
      smallStoreConfig(mounted.dir, { flushDiskType: "SYNC_FLUSH", mappedFileSizeCommitLog: 16 * MIB, mappedFileSizeConsumeQueue: 300_000 * 20 }),
    );
    try {
      expect(await store.load()).toBe(true);
      await store.start();
      const body = "x".repeat(64 * 1024);
      const results: PutMessageResult[] = [];
      for (let i = 0; i < MAX_PUTS && (results.at(-1)?.status ?? "PUT_OK") === "PUT_OK"; i++) {
        // Four concurrent puts per round share an fsync: all of them wait when it fails.
        results.push(...(await Promise.all([0, 1, 2, 3].map((k) => store.putMessage(message("T", 0, `${i}-${k}-${body}`))))));
      }
      const firstFailure = results.findIndex((r) => r.status !== "PUT_OK");
      expect(firstFailure).toBeGreaterThan(0);
      const failed = results.slice(firstFailure);
      expect(failed.every((r) => r.status === "SERVICE_NOT_AVAILABLE")).toBe(true);
      expect(failed[0]!.remark).toContain("commit log fsync failed");
      expect(failed[0]!.remark).toContain("read-only");

      // The next fsync might succeed (the kernel dropped the pages): the store must not try.
      const later = await store.putMessage(message("T", 0, "after the failure"));
      expect(later.status).toBe("SERVICE_NOT_AVAILABLE");
      expect(later.remark).toContain("read-only");
      expect(store.notWritableReason()).toContain("fsync failed");

      // Acknowledged messages are still served.
      const acked = results.slice(0, firstFailure).filter((r) => r.queueOffset === 0).length;
      expect(acked).toBe(1);
      expect(bodyOf(store.getMessage("g", "T", 0, 0, 1).messages[0]!).startsWith("0-0-")).toBe(true);
    } finally {
      await store.shutdown();
      mounted.cleanup();
    }
  });
});
