// The client library under Node: built for Node like `bun run build:lib`, installed as the package
// "tsmq" in a temp node_modules (so package.json's `exports` is what resolves it), and driven by a
// `node` subprocess against an in-process NameServer and broker: create a topic, produce 100
// messages with tags/keys/properties, consume them all with a push consumer, exit cleanly.

import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { parseNamesrvConfig } from "../../src/config/namesrv-config.ts";
import { NameServer } from "../../src/namesrv/namesrv.ts";
import { makeTempDir, startTestBroker, type TestBroker } from "../broker/helpers.ts";

const REPO_ROOT = path.resolve(import.meta.dir, "../..");
const MESSAGE_COUNT = 100;
/** The whole node run: connect, create topic, 100 sends, rebalance and consume, shutdown. */
const NODE_RUN_TIMEOUT_MS = 45_000;

let dir: string;
let namesrv: NameServer;
let tb: TestBroker;

beforeAll(async () => {
  dir = makeTempDir("tsmq-node-client-");
  const pkgDir = path.join(dir, "node_modules", "tsmq");
  const built = await Bun.build({ entrypoints: [path.join(REPO_ROOT, "src/index.ts")], target: "node", outdir: path.join(pkgDir, "dist") });
  if (!built.success) throw new AggregateError(built.logs, "building the library for node failed");
  fs.copyFileSync(path.join(REPO_ROOT, "package.json"), path.join(pkgDir, "package.json"));
  fs.copyFileSync(path.join(import.meta.dir, "fixtures", "produce-consume.mjs"), path.join(dir, "produce-consume.mjs"));

  namesrv = new NameServer({ config: parseNamesrvConfig(new Map(), { listenPort: 0, kvConfigPath: path.join(dir, "kvConfig.json") }).config, host: "127.0.0.1" });
  await namesrv.start();
  tb = await startTestBroker({ dir: path.join(dir, "store"), overrides: { namesrvAddr: `127.0.0.1:${namesrv.port}` } });
});

afterAll(async () => {
  await tb?.stop();
  await namesrv?.shutdown();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test("a node process produces and consumes 100 messages through the built library", async () => {
  const proc = Bun.spawn(["node", "produce-consume.mjs", `127.0.0.1:${namesrv.port}`, tb.addr, "NodeClientTopic", String(MESSAGE_COUNT)], {
    cwd: dir,
    stdout: "pipe",
    stderr: "pipe",
    timeout: NODE_RUN_TIMEOUT_MS,
    killSignal: "SIGKILL",
  });
  const [exitCode, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  if (exitCode !== 0) throw new Error(`node exited with ${exitCode} (signal ${proc.signalCode}):\n${stderr}\n${stdout}`);
  const summary = JSON.parse(stdout.trim().split("\n").at(-1)!);
  expect(summary.runtime).toBe("node");
  expect(summary.isBun).toBe(false);
  expect(summary.statuses).toEqual({ SEND_OK: MESSAGE_COUNT });
  expect(summary.distinctReceived).toBe(MESSAGE_COUNT);
  expect(summary.mismatches).toBe(0);
  expect(summary.warnings).toEqual([]);
}, NODE_RUN_TIMEOUT_MS + 5_000);
