import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { MessageStore } from "../../src/store/message-store.ts";
import type { StoreConfig } from "../../src/store/store-config.ts";
import { canMount, tinyTmpfs } from "./disk-fixtures.ts";
import { bodyOf, message, smallStoreConfig } from "./store-fixtures.ts";

const MIB = 1024 * 1024;
/** Puts before the test gives up: 2,000 × 16 KiB is far past the 20 MiB filesystem. */
const MAX_PUTS = 2_000;
const BODY = "d".repeat(16 * 1024);

function config(root: string): StoreConfig {
  // 2 MiB commit-log segments, 6,000-entry queue segments, a small index: the disk, not a
  // segment, is what runs out. The store runs with its real disk probes (ratio and free bytes).
  return smallStoreConfig(root, { mappedFileSizeCommitLog: 2 * MIB, mappedFileSizeConsumeQueue: 6_000 * 20, maxHashSlotNum: 1_000, maxIndexNum: 4_000 });
}

/** Writes zeros into `file` until the filesystem is full (ENOSPC). */
function fillDisk(file: string): void {
  const fd = fs.openSync(file, "w");
  const chunk = new Uint8Array(64 * 1024);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
  } finally {
    fs.closeSync(fd);
  }
}

async function putUntilRefused(store: MessageStore): Promise<{ acked: number; refusal: { status: string; remark?: string } }> {
  for (let i = 0; i < MAX_PUTS; i++) {
    const r = await store.putMessage(message("T", 0, `${i}:${BODY}`));
    if (r.status !== "PUT_OK") return { acked: i, refusal: r };
    expect(r.queueOffset).toBe(i);
  }
  throw new Error(`the store accepted ${MAX_PUTS} puts on a 20 MiB disk`);
}

describe.if(canMount())("disk full (a real 20 MiB tmpfs)", () => {
  test("writes are refused with SERVICE_NOT_AVAILABLE and a remark, never a SIGBUS; reads go on; recovery on the full disk starts and serves reads", async () => {
    const disk = tinyTmpfs(20 * MIB);
    const root = path.join(disk.dir, "store");
    const filler = path.join(disk.dir, "filler");
    let store = new MessageStore(config(root));
    try {
      expect(await store.load()).toBe(true);
      await store.start();
      const { acked, refusal } = await putUntilRefused(store);
      expect(acked).toBeGreaterThan(100);
      expect(refusal.status).toBe("SERVICE_NOT_AVAILABLE");
      expect(refusal.remark).toContain("disk is full");

      // Someone else takes the last bytes: still refusals, no crash, every acknowledged message readable.
      fillDisk(filler);
      expect((await store.putMessage(message("T", 0, "refused"))).status).toBe("SERVICE_NOT_AVAILABLE");
      expect((await store.putMessage(message("Other", 3, "new queue refused"))).status).toBe("SERVICE_NOT_AVAILABLE");
      expect(store.getMaxOffsetInQueue("T", 0)).toBe(acked);
      expect(bodyOf(store.getMessage("g", "T", 0, acked - 1, 1).messages[0]!).startsWith(`${acked - 1}:`)).toBe(true);

      // Restart on the full disk, as after a crash: the abort file (an empty file: no blocks needed)
      // is put back after the shutdown, so the next load runs abnormal recovery.
      await store.shutdown();
      fs.writeFileSync(path.join(root, "abort"), "");
      store = new MessageStore(config(root));
      expect(await store.load()).toBe(true);
      await store.start();
      expect(store.getMaxOffsetInQueue("T", 0)).toBe(acked);
      expect(bodyOf(store.getMessage("g", "T", 0, 0, 1).messages[0]!).startsWith("0:")).toBe(true);
      expect((await store.putMessage(message("T", 0, "still refused"))).status).toBe("SERVICE_NOT_AVAILABLE");

    } finally {
      await store.shutdown();
      disk.cleanup();
    }
  });
});

