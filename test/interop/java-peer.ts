// Drives the Java interop peer (test/interop/java, the official RocketMQ 4.9.8 client and tools):
// builds it once per test process with Maven, runs one scenario per JVM subprocess, and gives the
// test its progress events and its final RESULT line.
//
//   describeJava("java producer", () => {
//     test("sync", async () => {
//       const run = runJava("producer.sync", { namesrv, topic: "T", count: 100 });
//       expect(await run.result()).toEqual({ ... });
//     });
//   });
//
// Where java or mvn is missing the suite reports itself skipped in one line; under CI=true that
// is a failure instead (CI machines must run it).

import type { Subprocess } from "bun";
import { describe, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export const JAVA_PROJECT_DIR = path.join(import.meta.dir, "java");
const CLASSES_DIR = path.join(JAVA_PROJECT_DIR, "target", "classes");
const CLASSPATH_FILE = path.join(JAVA_PROJECT_DIR, "target", "classpath.txt");
/** Maven's first run downloads the client and its dependencies. */
const MAVEN_BUILD_TIMEOUT_MS = 600_000;
/** Default bound on one scenario's JVM; a scenario that needs longer says so. */
const SCENARIO_TIMEOUT_MS = 90_000;
/** Output kept per JVM for assertions and failure messages. */
const OUTPUT_MAX_CHARS = 2_000_000;
/**
 * Small, fast-starting JVMs: the scenarios are clients, not load generators, and several run on
 * two shared cores.
 */
const JVM_OPTIONS = ["-Xms32m", "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k"];

function onPath(cmd: string): boolean {
  return Bun.which(cmd) !== null;
}

/** Why the Java suite cannot run here, or undefined when it can. */
export function javaMissing(): string | undefined {
  const missing = ["java", "mvn"].filter((c) => !onPath(c));
  return missing.length === 0 ? undefined : `${missing.join(" and ")} not found on PATH`;
}

let skipReported = false;

/**
 * `describe` for suites that need the Java peer. Without java/mvn: one line and a skip, or under
 * CI=true a failing test naming what is missing.
 */
export function describeJava(name: string, body: () => void): void {
  const missing = javaMissing();
  if (missing === undefined) {
    describe(name, body);
    return;
  }
  if (process.env.CI === "true") {
    test(`${name}: Java interop peer available`, () => {
      throw new Error(`Java interop suite cannot run under CI=true: ${missing}`);
    });
    return;
  }
  if (!skipReported) {
    console.log(`Java interop suite skipped: ${missing} (install Java 17 and Maven to run it)`);
    skipReported = true;
  }
  describe.skip(name, body);
}

function newestMtimeMs(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

function peerIsFresh(): boolean {
  if (!fs.existsSync(CLASSPATH_FILE) || !fs.existsSync(CLASSES_DIR)) return false;
  const built = Math.min(fs.statSync(CLASSPATH_FILE).mtimeMs, newestMtimeMs(CLASSES_DIR));
  const sources = Math.max(newestMtimeMs(path.join(JAVA_PROJECT_DIR, "src")), fs.statSync(path.join(JAVA_PROJECT_DIR, "pom.xml")).mtimeMs);
  return built >= sources;
}

let built: Promise<string> | undefined;

/** Compiles the peer (once per test process, and only when a source changed); gives its classpath. */
export function ensureJavaPeer(): Promise<string> {
  built ??= (async () => {
    if (!peerIsFresh()) {
      const mvn = Bun.spawn(["mvn", "-q", "-B", "compile", "dependency:build-classpath", `-Dmdep.outputFile=${CLASSPATH_FILE}`], {
        cwd: JAVA_PROJECT_DIR,
        stdout: "pipe",
        stderr: "pipe",
      });
      const timer = setTimeout(() => mvn.kill("SIGKILL"), MAVEN_BUILD_TIMEOUT_MS);
      const [out, err, code] = await Promise.all([new Response(mvn.stdout).text(), new Response(mvn.stderr).text(), mvn.exited]);
      clearTimeout(timer);
      if (code !== 0) throw new Error(`mvn compile of the Java interop peer failed (exit ${code}):\n${out}\n${err}`);
      // Touch the stamp after compiling, so a later freshness check sees both outputs as new.
      const now = new Date();
      fs.utimesSync(CLASSPATH_FILE, now, now);
    }
    return `${CLASSES_DIR}${path.delimiter}${fs.readFileSync(CLASSPATH_FILE, "utf8").trim()}`;
  })();
  return built;
}

export interface JavaRunOptions {
  /** Extra -D system properties, e.g. { "rocketmq.serialize.type": "ROCKETMQ" }. */
  systemProperties?: Record<string, string>;
  timeoutMs?: number;
}

export interface JavaEvent {
  name: string;
  data: Record<string, unknown>;
}

export interface JavaRun {
  readonly proc: Subprocess<"pipe", "pipe", "pipe">;
  /** Everything the JVM printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with the first event named `name` (one printed earlier counts). */
  event(name: string, timeoutMs?: number): Promise<JavaEvent>;
  /** Every event printed so far. */
  events(): JavaEvent[];
  /** Writes one line to the scenario's stdin (it waits for it with Out.awaitWord). */
  say(word: string): void;
  /** The RESULT object; rejects with the JVM's output if it exited without one or failed. */
  result(): Promise<Record<string, unknown>>;
  /** Kills the JVM if it is still running. */
  kill(): Promise<void>;
}

const runningJvms = new Set<JavaRun>();
process.on("exit", () => {
  for (const r of runningJvms) r.proc.kill("SIGKILL");
});

/** Per-run scratch home: the client writes logs and local offsets under user.home. */
function scratchHome(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "tsmq-java-"));
}

function javaArgs(classpath: string, home: string, scenario: string, args: Record<string, string | number | boolean>, opts: JavaRunOptions): string[] {
  const props: Record<string, string> = {
    "user.home": home,
    "rocketmq.client.logRoot": path.join(home, "logs"),
    "rocketmq.client.logLevel": "WARN",
    "rocketmq.client.localOffsetStoreDir": path.join(home, "offsets"),
    ...opts.systemProperties,
  };
  return [
    "java",
    ...JVM_OPTIONS,
    ...Object.entries(props).map(([k, v]) => `-D${k}=${v}`),
    "-cp",
    classpath,
    "tsmq.interop.Main",
    scenario,
    ...Object.entries(args).map(([k, v]) => `${k}=${v}`),
  ];
}

/** Starts one scenario in its own JVM. */
export async function runJava(scenario: string, args: Record<string, string | number | boolean>, opts: JavaRunOptions = {}): Promise<JavaRun> {
  const classpath = await ensureJavaPeer();
  const home = scratchHome();
  const proc = Bun.spawn(javaArgs(classpath, home, scenario, args, opts), { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  return trackPeer(proc, home, `java ${scenario} ${JSON.stringify(args)}`, opts.timeoutMs ?? SCENARIO_TIMEOUT_MS, runningJvms);
}

/** Runs any Java main class from the peer's classpath (mqadmin, the benchmark) and gives its output and exit code. */
export async function runJavaMain(mainClass: string, argv: string[], opts: JavaRunOptions = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const classpath = await ensureJavaPeer();
  const home = scratchHome();
  const props = { "user.home": home, "rocketmq.client.logRoot": path.join(home, "logs"), ...opts.systemProperties };
  const proc = Bun.spawn(["java", ...JVM_OPTIONS, ...Object.entries(props).map(([k, v]) => `-D${k}=${v}`), "-cp", classpath, mainClass, ...argv], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), opts.timeoutMs ?? SCENARIO_TIMEOUT_MS);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  fs.rmSync(home, { recursive: true, force: true });
  return { code, stdout, stderr };
}

/**
 * Follows one peer subprocess speaking the scenario line protocol (EVENT/RESULT/ERROR lines; the Go
 * peer speaks it too); removes its scratch `home` when it exits. `running` holds it until then.
 */
export function trackPeer(proc: Subprocess<"pipe", "pipe", "pipe">, home: string, label: string, timeoutMs: number, running: Set<JavaRun>): JavaRun {
  let output = "";
  let pending = "";
  const events: JavaEvent[] = [];
  let resultLine: string | undefined;
  let errorLine: string | undefined;
  const waiters = new Set<() => void>();
  const onLine = (line: string) => {
    if (line.startsWith("EVENT ")) {
      const rest = line.slice("EVENT ".length);
      const space = rest.indexOf(" ");
      events.push({ name: rest.slice(0, space), data: JSON.parse(rest.slice(space + 1)) });
    } else if (line.startsWith("RESULT ")) resultLine = line.slice("RESULT ".length);
    else if (line.startsWith("ERROR ")) errorLine = line.slice("ERROR ".length);
  };
  const pump = async (stream: ReadableStream<Uint8Array>, parse: boolean) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      const text = decoder.decode(chunk, { stream: true });
      output += text;
      if (output.length > OUTPUT_MAX_CHARS) output = output.slice(-OUTPUT_MAX_CHARS);
      if (parse) {
        pending += text;
        let nl: number;
        while ((nl = pending.indexOf("\n")) >= 0) {
          onLine(pending.slice(0, nl));
          pending = pending.slice(nl + 1);
        }
      }
      for (const w of waiters) w();
    }
  };
  const pumps = Promise.all([pump(proc.stdout, true), pump(proc.stderr, false)]);
  const killTimer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  let exited = false;
  const done = proc.exited.then(async () => {
    await pumps;
    clearTimeout(killTimer);
    exited = true;
    running.delete(run);
    fs.rmSync(home, { recursive: true, force: true });
    for (const w of waiters) w();
  });
  const failure = (why: string) => new Error(`${label}: ${why}${errorLine ? `\n${errorLine}` : ""}\n--- output ---\n${output.slice(-20_000)}`);

  const run: JavaRun = {
    proc,
    output: () => output,
    events: () => [...events],
    event(name, waitMs = timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => settle(() => reject(failure(`no event ${name} within ${waitMs} ms`))), waitMs);
        const check = () => {
          const found = events.find((e) => e.name === name);
          if (found) settle(() => resolve(found));
          else if (exited) settle(() => reject(failure(`exited (code ${proc.exitCode}) before event ${name}`)));
        };
        const settle = (fn: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          fn();
        };
        waiters.add(check);
        check();
      });
    },
    say(word) {
      proc.stdin.write(`${word}\n`);
      proc.stdin.flush();
    },
    async result() {
      await done;
      if (proc.exitCode !== 0 || resultLine === undefined) throw failure(`exit code ${proc.exitCode}, signal ${proc.signalCode}`);
      return JSON.parse(resultLine);
    },
    async kill() {
      if (!exited) proc.kill("SIGKILL");
      await done;
    },
  };
  running.add(run);
  return run;
}

/** Kills every JVM this test file started; call from afterAll. */
export async function stopAllJava(): Promise<void> {
  await Promise.all([...runningJvms].map((r) => r.kill()));
}
