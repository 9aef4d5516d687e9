// Helpers for end-to-end tests of the compiled `./tsmq` binary: build it once per change
// (a lock directory keeps parallel test files from racing), spawn it, wait until it is ready,
// and stop it (SIGTERM, then SIGKILL) in cleanup.
//
//   const bin = await ensureBinary();
//   const p = await spawnTsmq(["namesrv", "-p", String(port)], { ready: /boot success/ });
//   ... await p.stop();            // or stopAllTsmq() in afterAll

import type { Subprocess } from "bun";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";

export const REPO_ROOT = path.resolve(import.meta.dir, "../..");
export const BINARY_PATH = path.join(REPO_ROOT, "tsmq");
const LOCK_DIR = path.join(REPO_ROOT, ".tsmq-build.lock");

/** A build takes seconds; a lock older than this was left by a killed test run. */
const STALE_LOCK_AGE_MS = 180_000;
/** Longest wait for another process's build. */
const BUILD_WAIT_TIMEOUT_MS = 240_000;
const POLL_INTERVAL_MS = 50;
/** Default wait for a spawned process to print its ready line. */
const READY_TIMEOUT_MS = 15_000;
/** Grace period between SIGTERM and SIGKILL. */
const STOP_GRACE_MS = 5_000;
/** Output kept per process for assertions and failure messages. */
const OUTPUT_MAX_CHARS = 1_000_000;

/** Newest modification time of the inputs of the binary. */
function newestSourceMtimeMs(): number {
  let newest = 0;
  const visit = (p: string) => {
    const st = fs.statSync(p);
    if (st.isDirectory()) for (const entry of fs.readdirSync(p)) visit(path.join(p, entry));
    else newest = Math.max(newest, st.mtimeMs);
  };
  visit(path.join(REPO_ROOT, "src"));
  for (const f of ["package.json", "bun.lock", "scripts/build.ts"]) {
    const p = path.join(REPO_ROOT, f);
    if (fs.existsSync(p)) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

function binaryIsFresh(): boolean {
  return fs.existsSync(BINARY_PATH) && fs.statSync(BINARY_PATH).mtimeMs >= newestSourceMtimeMs();
}

function tryLock(): boolean {
  try {
    fs.mkdirSync(LOCK_DIR);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    try {
      if (Date.now() - fs.statSync(LOCK_DIR).mtimeMs > STALE_LOCK_AGE_MS) fs.rmSync(LOCK_DIR, { recursive: true, force: true });
    } catch {
      // The holder released it meanwhile.
    }
    return false;
  }
}

/** The build (scripts/build.ts, package.json's "build"), writing to `outfile` instead of ./tsmq. */
function buildArgs(outfile: string): string[] {
  return ["bun", path.join(REPO_ROOT, "scripts/build.ts"), "--outfile", outfile];
}

/** Builds ./tsmq if it is missing or older than any source; returns its path. */
export async function ensureBinary(): Promise<string> {
  const deadline = Date.now() + BUILD_WAIT_TIMEOUT_MS;
  while (!binaryIsFresh()) {
    if (Date.now() > deadline) throw new Error("timed out waiting for another test's build of ./tsmq");
    if (!tryLock()) {
      await Bun.sleep(POLL_INTERVAL_MS);
      continue;
    }
    try {
      if (binaryIsFresh()) break;
      const tmp = path.join(REPO_ROOT, `.tsmq-build-${process.pid}.tmp`);
      // Same environment as `bun run build` from a shell: bun test sets NODE_ENV=test, and the
      // bundler inlines NODE_ENV into dependencies.
      const env: Record<string, string | undefined> = { ...process.env };
      delete env.NODE_ENV;
      const build = Bun.spawn(buildArgs(tmp), { cwd: REPO_ROOT, env, stdout: "pipe", stderr: "pipe" });
      const [out, errText, code] = await Promise.all([new Response(build.stdout).text(), new Response(build.stderr).text(), build.exited]);
      if (code !== 0) {
        fs.rmSync(tmp, { force: true });
        throw new Error(`bun build failed (exit ${code}):\n${out}\n${errText}`);
      }
      // rename is atomic: a concurrent spawn sees the old or the new binary, never half of one.
      fs.renameSync(tmp, BINARY_PATH);
    } finally {
      fs.rmSync(LOCK_DIR, { recursive: true, force: true });
    }
  }
  return BINARY_PATH;
}

export interface TsmqProcess {
  readonly proc: Subprocess;
  /** stdout and stderr so far, interleaved in arrival order. */
  output(): string;
  /** Resolves with the output once it matches `pattern`; rejects on timeout or exit. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGTERM, then SIGKILL after a grace period; resolves with the exit code (null if killed by a signal). */
  stop(): Promise<number | null>;
}

const running = new Set<TsmqProcess>();

/** Kills whatever is left if the test process exits without cleanup. */
process.on("exit", () => {
  for (const p of running) p.proc.kill("SIGKILL");
});

export interface SpawnOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Wait for this pattern on stdout/stderr before resolving. */
  ready?: RegExp;
  readyTimeoutMs?: number;
}

/** Starts `./tsmq <args>` (building it first if needed). */
export async function spawnTsmq(args: string[], opts: SpawnOptions = {}): Promise<TsmqProcess> {
  const bin = await ensureBinary();
  const proc = Bun.spawn([bin, ...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    env: { ...process.env, ...opts.env },
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  let output = "";
  const waiters = new Set<() => void>();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      output += decoder.decode(chunk, { stream: true });
      if (output.length > OUTPUT_MAX_CHARS) output = output.slice(-OUTPUT_MAX_CHARS);
      for (const w of waiters) w();
    }
  };
  const pumps = Promise.all([pump(proc.stdout), pump(proc.stderr)]);
  let exited = false;
  void proc.exited.then(async () => {
    await pumps;
    exited = true;
    for (const w of waiters) w();
  });

  const handle: TsmqProcess = {
    proc,
    output: () => output,
    waitForOutput(pattern, timeoutMs = READY_TIMEOUT_MS) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(output)) done(() => resolve(output));
          else if (exited) done(() => reject(new Error(`tsmq ${args.join(" ")} exited (code ${proc.exitCode}) before printing ${pattern}:\n${output}`)));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`tsmq ${args.join(" ")} did not print ${pattern} within ${timeoutMs} ms:\n${output}`))), timeoutMs);
        const done = (settle: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      });
    },
    async stop() {
      running.delete(handle);
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill("SIGTERM");
        const killTimer = setTimeout(() => proc.kill("SIGKILL"), STOP_GRACE_MS);
        await proc.exited;
        clearTimeout(killTimer);
      }
      await pumps;
      return proc.exitCode;
    },
  };
  running.add(handle);
  if (opts.ready) {
    try {
      await handle.waitForOutput(opts.ready, opts.readyTimeoutMs);
    } catch (err) {
      await handle.stop();
      throw err;
    }
  }
  return handle;
}

/** Stops every process spawned by this test file; call from afterAll. */
export async function stopAllTsmq(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop()));
}

/** A TCP port that was free a moment ago (bind port 0, read it, close). */
/** Ports handed out in this test process: later picks avoid them and their broker neighbours. */
const handedOutPorts = new Set<number>();

/** An ephemeral port that is free now (the OS picks it) and not handed out before in this process. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < PORT_PICK_ATTEMPTS; attempt++) {
    const port = await bindAndRelease(0);
    if (port !== undefined && !handedOutPorts.has(port)) {
      handedOutPorts.add(port);
      return port;
    }
  }
  throw new Error(`no free port after ${PORT_PICK_ATTEMPTS} attempts`);
}

/**
 * A broker listen port P whose neighbours are free too: a broker also binds P - 2 (VIP channel)
 * and P + 1 (HA), so a plain free port can collide with another test's process.
 */
export async function freeBrokerPort(): Promise<number> {
  for (let attempt = 0; attempt < PORT_PICK_ATTEMPTS; attempt++) {
    const port = await freePort();
    const neighbours = [port - 2, port + 1];
    if (neighbours.some((p) => p < 1024 || p > 65535 || handedOutPorts.has(p))) continue;
    const bound = await Promise.all(neighbours.map((p) => bindAndRelease(p)));
    if (bound.every((p) => p !== undefined)) {
      for (const p of neighbours) handedOutPorts.add(p);
      return port;
    }
  }
  throw new Error(`no free broker port (with P-2 and P+1 free) after ${PORT_PICK_ATTEMPTS} attempts`);
}

/** Bounds the port search; a busy machine rarely needs more than a few. */
const PORT_PICK_ATTEMPTS = 50;

/** Binds `port` on 127.0.0.1 (0 = any), closes it again, and gives the port, or undefined if it was taken. */
function bindAndRelease(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(undefined));
    server.listen(port, "127.0.0.1", () => {
      const bound = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(bound));
    });
  });
}

/** Resolves once `host:port` accepts a TCP connection. */
export async function waitForPort(port: number, host = "127.0.0.1", timeoutMs = READY_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ port, host });
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing accepted connections on ${host}:${port} within ${timeoutMs} ms`);
    await Bun.sleep(POLL_INTERVAL_MS);
  }
}
