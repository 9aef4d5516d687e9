// kill -9 crash test: a child appends under SYNC_FLUSH and prints each acknowledged offset; the
// parent SIGKILLs it at random moments, restarts it (recovery), and finally checks that every
// acknowledged message is readable with a correct CRC and nothing past the recovered end is visible.

import { afterAll, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { RECORD_INVALID, checkRecord, decodeRecord } from "../../src/common/message-codec.ts";
import { StoreCheckpoint } from "../../src/store/checkpoint.ts";
import { CommitLog } from "../../src/store/commit-log.ts";
import { checkpointPath } from "../../src/store/store-config.ts";
import { crashBody, crashConfig } from "./commit-log-writer.ts";

const CYCLES = 24;
/** How long a child runs after READY before it is killed, ms: random in [min, min + spread). */
const RUN_MIN_MS = 30;
const RUN_SPREAD_MS = 300;
/** Longest wait for a child to print READY. */
const READY_TIMEOUT_MS = 15_000;
const WRITER = path.join(import.meta.dir, "commit-log-writer.ts");

const root = fs.mkdtempSync(path.join(os.tmpdir(), "tsmq-crash-"));
const children: Bun.Subprocess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  fs.rmSync(root, { recursive: true, force: true });
});

interface Ack {
  offset: number;
  size: number;
  run: number;
  seq: number;
}

/** Runs one child until killed; returns what it printed. */
async function runOnce(run: number, killBeforeReady: boolean): Promise<{ ready: number | undefined; acks: Ack[] }> {
  const child = Bun.spawn(["bun", WRITER, root, String(run)], { stdout: "pipe", stderr: "pipe" });
  children.push(child);
  const acks: Ack[] = [];
  let ready: number | undefined;
  let onReady!: () => void;
  const readySeen = new Promise<void>((resolve) => (onReady = resolve));
  const reading = (async () => {
    let pending = "";
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout as ReadableStream<Uint8Array>) {
      pending += decoder.decode(chunk, { stream: true });
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        const [kind, a, b, c, d] = line.split(" ");
        if (kind === "READY") {
          ready = Number(a);
          onReady();
        } else if (kind === "ACK") {
          acks.push({ offset: Number(a), size: Number(b), run: Number(c), seq: Number(d) });
        }
      }
    }
  })();
  if (killBeforeReady) {
    await Bun.sleep(Math.random() * 150); // somewhere in start-up or recovery
  } else {
    const timeout = setTimeout(onReady, READY_TIMEOUT_MS);
    await Promise.race([readySeen, child.exited]);
    clearTimeout(timeout);
    if (ready === undefined) throw new Error(`child ${run} never got ready: ${await new Response(child.stderr).text()}`);
    await Bun.sleep(RUN_MIN_MS + Math.random() * RUN_SPREAD_MS); // let it append for a random while
  }
  child.kill("SIGKILL");
  await child.exited;
  await reading;
  if (child.signalCode !== "SIGKILL") throw new Error(`child ${run} exited by itself: ${await new Response(child.stderr).text()}`);
  return { ready, acks };
}

test(
  "every acknowledged message survives repeated kill -9",
  async () => {
    const allAcks: Ack[] = [];
    let maxAckedEnd = 0;
    let restartsChecked = 0;
    for (let run = 1; run <= CYCLES; run++) {
      const { ready, acks } = await runOnce(run, run % 6 === 0);
      if (ready !== undefined) {
        // Recovery kept at least everything acknowledged before.
        expect(ready).toBeGreaterThanOrEqual(maxAckedEnd);
        restartsChecked++;
      }
      for (const ack of acks) maxAckedEnd = Math.max(maxAckedEnd, ack.offset + ack.size);
      allAcks.push(...acks);
    }
    expect(restartsChecked).toBeGreaterThanOrEqual(20);
    expect(allAcks.length).toBeGreaterThan(1000);
    console.log(`acks ${allAcks.length}, restarts checked ${restartsChecked}, end ${maxAckedEnd}`);

    // Recover in this process, as a restarted broker would, and read everything back.
    const config = crashConfig(root);
    const checkpoint = StoreCheckpoint.open(checkpointPath(config));
    const log = new CommitLog(config, path.join(root, "commitlog"), { checkpoint });
    log.load();
    const end = log.recoverAbnormally(checkpoint.minTimestamp());
    try {
      expect(end).toBeGreaterThanOrEqual(maxAckedEnd);
      expect(log.queue.files.length).toBeGreaterThan(3);
      const seen = new Set<number>();
      for (const ack of allAcks) {
        expect(seen.has(ack.offset)).toBe(false); // no offset acknowledged twice
        seen.add(ack.offset);
        const record = log.readRecord(ack.offset, ack.size);
        expect(record).toBeDefined();
        const view = new DataView(record!.buffer, record!.byteOffset, record!.byteLength);
        expect(checkRecord(record!, view, 0, record!.byteLength, true)).toBe(ack.size); // CRC verified
        const decoded = decodeRecord(record!);
        expect(decoded.properties.SEQ).toBe(`${ack.run}-${ack.seq}`);
        expect(decoded.commitLogOffset).toBe(ack.offset);
        expect(Buffer.from(decoded.body).equals(Buffer.from(crashBody(ack.run, ack.seq)))).toBe(true);
      }
      // Nothing past the recovered end: no record, no readable bytes, zeroed tail, no later segment.
      expect(log.readRecord(end)).toBeUndefined();
      expect(log.readRegion(end)).toBeUndefined();
      expect(log.getMaxOffset()).toBe(end);
      const last = log.queue.files[log.queue.files.length - 1]!;
      expect(last.fileFromOffset + last.fileSizeBytes).toBeGreaterThanOrEqual(end);
      const tailStart = end - last.fileFromOffset;
      if (tailStart < last.fileSizeBytes) {
        const tail = last.buffer.subarray(tailStart, Math.min(last.fileSizeBytes, tailStart + 64 * 1024));
        expect(tail.every((b) => b === 0)).toBe(true);
        expect(checkRecord(last.buffer, last.view, tailStart, last.fileSizeBytes, false)).toBe(RECORD_INVALID);
      }
    } finally {
      await log.shutdown();
      checkpoint.close();
    }
  },
  90_000,
);
