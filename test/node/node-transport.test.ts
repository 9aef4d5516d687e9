// The node:net transport under real Node (bundled for Node, run as a `node` subprocess): the
// connection's outbound cap still holds although Node's socket.write buffers everything, and frames
// held back while waiting for 'drain' all leave in order once the peer reads again.

import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { makeTempDir } from "../broker/helpers.ts";

const NODE_RUN_TIMEOUT_MS = 30_000;
/** Must match the fixture's constants. */
const BODY_SIZE_BYTES = 64 * 1024;
const SMALL_CAP_BYTES = 1024 * 1024;
const CAP_SEND_LIMIT = 2_000;
const DRAIN_FRAME_COUNT = 400;
/** Loopback kernel send + receive buffers at most (Linux autotuning maxima are 4 MiB + 6 MiB). */
const KERNEL_BUFFERS_MAX_BYTES = 16 * 1024 * 1024;

let dir: string;
let script: string;

beforeAll(async () => {
  dir = makeTempDir("tsmq-node-transport-");
  const built = await Bun.build({ entrypoints: [path.join(import.meta.dir, "fixtures", "slow-reader.ts")], target: "node", outdir: dir, naming: "[name].mjs" });
  if (!built.success) throw new AggregateError(built.logs, "building the fixture for node failed");
  script = path.join(dir, "slow-reader.mjs");
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test("outbound cap and drain work on node:net", async () => {
  const proc = Bun.spawn(["node", script], { stdout: "pipe", stderr: "pipe", timeout: NODE_RUN_TIMEOUT_MS, killSignal: "SIGKILL" });
  const [exitCode, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  if (exitCode !== 0) throw new Error(`node exited with ${exitCode} (signal ${proc.signalCode}):\n${stderr}\n${stdout}`);
  const summary = JSON.parse(stdout.trim().split("\n").at(-1)!);
  expect(summary.runtime).toBe("node");
  expect(summary.isBun).toBe(false);
  // The never-read connection closed at its cap long before the loop's end: what it took is
  // bounded by kernel buffers + Node's buffer (high-water mark + one write) + the cap.
  expect(summary.cap.closed).toBe(true);
  expect(summary.cap.accepted).toBeLessThan(CAP_SEND_LIMIT);
  expect(summary.cap.accepted * BODY_SIZE_BYTES).toBeLessThan(KERNEL_BUFFERS_MAX_BYTES + SMALL_CAP_BYTES);
  // Backpressure engaged (frames waited in the connection's queue), then every frame arrived intact.
  expect(summary.drain.queuedWhilePaused).toBeGreaterThan(0);
  expect(summary.drain.received).toBe(DRAIN_FRAME_COUNT);
  expect(summary.drain.intact).toBe(DRAIN_FRAME_COUNT);
  expect(summary.drain.queuedAfter).toBe(0);
  expect(summary.drain.closed).toBe(false);
}, NODE_RUN_TIMEOUT_MS + 5_000);
