// Drives the Go interop peer (test/interop/go, the official Apache RocketMQ Go client
// rocketmq-client-go/v2 pinned in its go.mod): builds it once per test process into a temp dir,
// runs one scenario per subprocess, and gives the test its events and its RESULT line (the Java
// peer's line protocol, see java-peer.ts).
//
//   describeGo("go producer", () => {
//     test("sync", async () => {
//       const run = await runGo("producer.sync", { namesrv, topic: "T", count: 100 });
//       expect(await run.result()).toEqual({ ... });
//     });
//   });
//
// Where go is missing the suite reports itself skipped in one line; under CI=true that is a failure
// instead (CI machines must run it).

import { describe, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { trackPeer, type JavaRun } from "./java-peer.ts";

export type GoRun = JavaRun;

export const GO_PROJECT_DIR = path.join(import.meta.dir, "go");
/** The first build compiles the client and its dependencies (downloads them if .ci/run did not). */
const GO_BUILD_TIMEOUT_MS = 300_000;
/** Default bound on one scenario's process; a scenario that needs longer says so. */
const SCENARIO_TIMEOUT_MS = 90_000;
/** The module proxy serves the pinned client; the installed toolchain builds it (no downloads of others). */
const GO_ENV = { GOTOOLCHAIN: "local", GOFLAGS: "-mod=mod" };

/** Why the Go suite cannot run here, or undefined when it can. */
export function goMissing(): string | undefined {
  return Bun.which("go") === null ? "go not found on PATH" : undefined;
}

let skipReported = false;

/** `describe` for suites that need the Go peer. Without go: one line and a skip, or under CI=true a failing test. */
export function describeGo(name: string, body: () => void): void {
  const missing = goMissing();
  if (missing === undefined) {
    describe(name, body);
    return;
  }
  if (process.env.CI === "true") {
    test(`${name}: Go interop peer available`, () => {
      throw new Error(`Go interop suite cannot run under CI=true: ${missing}`);
    });
    return;
  }
  if (!skipReported) {
    console.log(`Go interop suite skipped: ${missing} (install Go to run it)`);
    skipReported = true;
  }
  describe.skip(name, body);
}

const buildDir = fs.mkdtempSync(path.join(os.tmpdir(), "tsmq-go-peer-"));
const running = new Set<GoRun>();
process.on("exit", () => {
  for (const r of running) r.proc.kill("SIGKILL");
  fs.rmSync(buildDir, { recursive: true, force: true });
});

let built: Promise<string> | undefined;

/** Compiles the peer once per test process; gives the binary's path. */
export function ensureGoPeer(): Promise<string> {
  built ??= (async () => {
    const binary = path.join(buildDir, "goclient");
    const go = Bun.spawn(["go", "build", "-o", binary, "."], { cwd: GO_PROJECT_DIR, env: { ...process.env, ...GO_ENV }, stdout: "pipe", stderr: "pipe" });
    const timer = setTimeout(() => go.kill("SIGKILL"), GO_BUILD_TIMEOUT_MS);
    const [out, err, code] = await Promise.all([new Response(go.stdout).text(), new Response(go.stderr).text(), go.exited]);
    clearTimeout(timer);
    if (code !== 0) throw new Error(`go build of the Go interop peer failed (exit ${code}):\n${out}\n${err}`);
    return binary;
  })();
  return built;
}

export interface GoRunOptions {
  timeoutMs?: number;
}

/** Starts one scenario in its own process, with a scratch HOME (the client may write there). */
export async function runGo(scenario: string, args: Record<string, string | number | boolean>, opts: GoRunOptions = {}): Promise<GoRun> {
  const binary = await ensureGoPeer();
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "tsmq-go-"));
  const argv = [binary, scenario, ...Object.entries(args).map(([k, v]) => `${k}=${v}`)];
  const proc = Bun.spawn(argv, { env: { ...process.env, HOME: home }, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  return trackPeer(proc, home, `go ${scenario} ${JSON.stringify(args)}`, opts.timeoutMs ?? SCENARIO_TIMEOUT_MS, running);
}

/** Kills every Go peer this test file started; call from afterAll. */
export async function stopAllGo(): Promise<void> {
  await Promise.all([...running].map((r) => r.kill()));
}
