// The benchmark matrix of BENCHMARKS.md: starts the compiled `./tsmq standalone` on a temp store,
// drives it with `./tsmq bench produce|consume` (separate processes, same machine), and measures
// broker memory and time to ready. The table replaces the block between the matrix markers in
// BENCHMARKS.md (pass --no-write to only print it).
//
// Usage: bun scripts/bench-matrix.ts [--seconds N] [--backlog N] [--binary PATH] [--no-write] [--out FILE]
//   --seconds       length of each produce run (default 8)
//   --backlog       messages written before the drain and the kill -9 recovery (default 5,000,000:
//                   about 6 GiB of commit log, more than the 2 GiB recovery case)
//   --binary        use this tsmq executable instead of compiling src/cli.ts into the temp dir

import type { Subprocess } from "bun";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const REPO_ROOT = path.resolve(import.meta.dir, "..");
const MATRIX_START = "<!-- bench-matrix:start -->";
const MATRIX_END = "<!-- bench-matrix:end -->";

/**
 * Topic of the produce runs: auto-created with the producer's 4 queues. (Java's default
 * "BenchmarkTest" is pre-created with 1024 queues: 1024 consume-queue files before steady state.)
 */
const PRODUCE_TOPIC = "BenchTopic";
/** Message body of every run: the 1 KB. */
const MESSAGE_SIZE_BYTES = 1024;
/** Batch runs: the batches of 32, from this many senders. */
const BATCH_SIZE = 32;
const BATCH_SENDERS = 16;
/** Senders of the backlog fill (batches, so the fill is quick). */
const FILL_SENDERS = 8;
/** Longest wait for the broker's ready line. */
const READY_TIMEOUT_MS = 120_000;
/** Settle time before the idle memory sample (timers armed, startup garbage collected). */
const IDLE_SETTLE_MS = 2_000;
/** Memory sampling period during a loaded run. */
const MEMORY_SAMPLE_INTERVAL_MS = 500;
/** Empty-store starts timed for the ready figure. */
const READY_SAMPLES = 5;
/** Untimed load on a fresh broker before its first recorded run, so the JIT has compiled the hot path. */
const WARM_UP_SECONDS = 3;
/** Grace between SIGTERM and SIGKILL when stopping the broker. */
const STOP_GRACE_MS = 10_000;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const runSeconds = Number(arg("--seconds") ?? 8);
const backlogMessages = Number(arg("--backlog") ?? 5_000_000);
const outFile = arg("--out") ?? path.join(REPO_ROOT, "BENCHMARKS.md");
/** The executable under test; set in main(). */
let binary = arg("--binary") ?? "";

/** Compiles the executable with the project's build (scripts/build.ts) into `outfile` (./tsmq stays untouched). */
function compile(outfile: string): void {
  const build = Bun.spawnSync(["bun", path.join(REPO_ROOT, "scripts/build.ts"), "--outfile", outfile], { cwd: REPO_ROOT, stdout: "inherit", stderr: "inherit" });
  if (build.exitCode !== 0) throw new Error("build failed");
}

interface Row {
  scenario: string;
  /** CPU µs per message of the load generator (all its threads). */
  clientCpu: string;
  /** CPU µs per message of the broker (all its threads) during the run. */
  brokerCpu: string;
  flush: string;
  tps: string;
  avg: string;
  p99: string;
  max: string;
  failed: string;
  load: string;
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on Linux). */
const CLOCK_TICKS_PER_SECOND = 100;

/** User + system CPU of a process so far, in µs. */
function cpuUs(pid: number): number {
  // Fields after the ")" of the command name: state is field 3, utime 14, stime 15.
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / CLOCK_TICKS_PER_SECOND;
}

function loadAverage(): string {
  return fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
}

interface Memory {
  privateMiB: number;
  pssMiB: number;
  rssMiB: number;
  /** Anonymous memory (heap, JIT code, buffers): what the process itself allocated. */
  anonMiB: number;
}

/**
 * Private and proportional memory of a process, without mappings of files under `excludeDir`.
 * Private includes the pages of the executable this process alone maps (a freshly built binary's
 * pages even count as dirty until written back); anonymous memory is the process's own.
 */
function memoryMiB(pid: number, excludeDir: string): Memory {
  const text = fs.readFileSync(`/proc/${pid}/smaps`, "utf8");
  let privateKiB = 0;
  let pssKiB = 0;
  let rssKiB = 0;
  let anonKiB = 0;
  let excluded = false;
  for (const line of text.split("\n")) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) {
      excluded = header[1]!.startsWith(excludeDir);
      continue;
    }
    if (excluded) continue;
    const field = /^(\w+):\s+(\d+) kB/.exec(line);
    if (!field) continue;
    const kib = Number(field[2]);
    if (field[1] === "Private_Clean" || field[1] === "Private_Dirty") privateKiB += kib;
    else if (field[1] === "Pss") pssKiB += kib;
    else if (field[1] === "Rss") rssKiB += kib;
    else if (field[1] === "Anonymous") anonKiB += kib;
  }
  return { privateMiB: privateKiB / 1024, pssMiB: pssKiB / 1024, rssMiB: rssKiB / 1024, anonMiB: anonKiB / 1024 };
}

interface Broker {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  namesrv: string;
  readyMs: number;
  storeDir: string;
}

/** Starts `tsmq standalone` and waits for its ready line; readyMs is spawn to ready line. */
async function startBroker(storeDir: string, extraConfig: string): Promise<Broker> {
  const confPath = path.join(path.dirname(storeDir), "bench-broker.conf");
  fs.writeFileSync(confPath, extraConfig);
  const started = performance.now();
  const proc = Bun.spawn([binary, "standalone", "--store", storeDir, "-p", "0", "--broker-port", "0", "-c", confPath], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  let seen = "";
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`broker exited before ready: ${seen}${await new Response(proc.stderr).text()}`);
    seen += decoder.decode(value, { stream: true });
    const m = /tsmq standalone ready: namesrv (\S+),/.exec(seen);
    if (m) {
      const readyMs = performance.now() - started;
      // Keep draining stdout so the broker never blocks on a full pipe.
      void (async () => {
        for (;;) if ((await reader.read()).done) return;
      })();
      void new Response(proc.stderr).text();
      return { proc, namesrv: m[1]!, readyMs, storeDir };
    }
  }
  proc.kill("SIGKILL");
  throw new Error(`broker not ready within ${READY_TIMEOUT_MS} ms: ${seen}`);
}

async function stopBroker(b: Broker, signal: "SIGTERM" | "SIGKILL"): Promise<void> {
  b.proc.kill(signal);
  const timer = setTimeout(() => b.proc.kill("SIGKILL"), STOP_GRACE_MS);
  await b.proc.exited;
  clearTimeout(timer);
}

/** Runs `tsmq bench ...` to completion and returns its JSON summary. */
async function bench(args: string[]): Promise<Record<string, number>> {
  const proc = Bun.spawn([binary, "bench", ...args, "--json", "--interval", "3600"], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  const last = out.trim().split("\n").at(-1) ?? "";
  if (code !== 0 || !last.startsWith("{")) throw new Error(`bench ${args.join(" ")} failed (exit ${code}): ${err}${out}`);
  return JSON.parse(last) as Record<string, number>;
}

const fmt = (v: number | undefined, digits = 2) => (v === undefined ? "-" : v.toFixed(digits));

async function produceRow(b: Broker, scenario: string, flush: string, args: string[]): Promise<Row> {
  const load = loadAverage();
  const brokerCpuBefore = cpuUs(b.proc.pid);
  const s = await bench(["produce", "-n", b.namesrv, "-t", PRODUCE_TOPIC, "-s", String(MESSAGE_SIZE_BYTES), "-d", String(runSeconds), ...args]);
  const brokerCpuUs = cpuUs(b.proc.pid) - brokerCpuBefore;
  const row: Row = {
    scenario,
    clientCpu: fmt(s.cpuUsPerMessage, 1),
    brokerCpu: s.sent > 0 ? fmt(brokerCpuUs / s.sent, 1) : "-",
    flush,
    tps: String(s.tps),
    avg: fmt(s.averageRtMs),
    p99: fmt(s.p99RtMs),
    max: fmt(s.maxRtMs, 1),
    failed: String((s.sendFailed ?? 0) + (s.responseFailed ?? 0)),
    load,
  };
  console.log(JSON.stringify(row));
  return row;
}

/** Drives a fresh broker for WARM_UP_SECONDS without recording anything. */
async function warmUp(b: Broker): Promise<void> {
  await bench(["produce", "-n", b.namesrv, "-t", PRODUCE_TOPIC, "-s", String(MESSAGE_SIZE_BYTES), "-w", "64", "-d", String(WARM_UP_SECONDS)]);
}

/** RssAnon of /proc/<pid>/status in MiB: kept as a counter by the kernel, so reading it is cheap. */
function anonRssMiB(pid: number): number {
  const match = /^RssAnon:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) / 1024 : 0;
}

/**
 * Samples the broker's anonymous memory until `work` settles, then takes one full smaps reading.
 * smaps is not sampled during the run: reading it walks the page tables of every store mapping
 * under the broker's mmap lock, which stalls the broker's page faults (it halved the batch run's
 * throughput when sampled every 0.5 s).
 */
async function whileSampling<T>(b: Broker, work: Promise<T>): Promise<{ result: T; peakAnonMiB: number; end: Memory | undefined }> {
  let peakAnonMiB = 0;
  const sample = () => {
    try {
      peakAnonMiB = Math.max(peakAnonMiB, anonRssMiB(b.proc.pid));
    } catch {
      // The broker exited; the run reports the failure.
    }
  };
  const timer = setInterval(sample, MEMORY_SAMPLE_INTERVAL_MS);
  try {
    const result = await work;
    sample();
    let end: Memory | undefined;
    try {
      end = memoryMiB(b.proc.pid, b.storeDir);
    } catch {
      end = undefined;
    }
    return { result, peakAnonMiB, end };
  } finally {
    clearInterval(timer);
  }
}

/** The loaded-memory line: peak anonymous memory, and private / PSS at the end of the batch run. */
function loadedMemoryNote(...runs: Array<{ peakAnonMiB: number; end: Memory | undefined }>): string {
  const peakAnonMiB = Math.max(...runs.map((r) => r.peakAnonMiB));
  const end = runs[runs.length - 1]!.end;
  if (end === undefined) return `Broker memory loaded: peak anonymous ${peakAnonMiB.toFixed(1)} MiB`;
  // Private = anonymous + the executable's private pages, which do not grow with load.
  const peakPrivateMiB = peakAnonMiB + (end.privateMiB - end.anonMiB);
  return (
    `Broker memory loaded (256-in-flight and batch runs): peak anonymous ${peakAnonMiB.toFixed(1)} MiB (RssAnon every ${MEMORY_SAMPLE_INTERVAL_MS} ms), ` +
    `so peak private ≈ ${peakPrivateMiB.toFixed(1)} MiB; at the end of the batch run private ${end.privateMiB.toFixed(1)} MiB, PSS ${end.pssMiB.toFixed(1)} MiB, ` +
    `anonymous ${end.anonMiB.toFixed(1)} MiB (store mappings excluded)`
  );
}

async function main(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "tsmq-bench-matrix-"));
  const rows: Row[] = [];
  const notes: string[] = [];
  const began = Date.now();
  try {
    if (binary === "") {
      binary = path.join(root, "tsmq");
      compile(binary);
    }
    // ---- ASYNC_FLUSH: empty-store start, idle memory, senders 1..256, serialization, batches ----
    // Start-up is short and noisy: the median of READY_SAMPLES starts, each on a new empty store.
    const readyMs: number[] = [];
    for (let i = 1; i < READY_SAMPLES; i++) {
      const store = path.join(root, `ready-${i}`, "store");
      fs.mkdirSync(store, { recursive: true });
      const probe = await startBroker(store, "flushDiskType=ASYNC_FLUSH\n");
      readyMs.push(probe.readyMs);
      await stopBroker(probe, "SIGTERM");
    }
    const asyncStore = path.join(root, "async", "store");
    fs.mkdirSync(asyncStore, { recursive: true });
    let b = await startBroker(asyncStore, "flushDiskType=ASYNC_FLUSH\n");
    readyMs.push(b.readyMs);
    readyMs.sort((x, y) => x - y);
    notes.push(
      `Time to ready, empty store (spawn to ready line): median ${readyMs[Math.floor(readyMs.length / 2)]!.toFixed(0)} ms of ${readyMs.length} starts ` +
        `(${readyMs[0]!.toFixed(0)}–${readyMs[readyMs.length - 1]!.toFixed(0)} ms)`,
    );
    await Bun.sleep(IDLE_SETTLE_MS);
    const idle = memoryMiB(b.proc.pid, asyncStore);
    notes.push(
      `Broker memory idle: private ${idle.privateMiB.toFixed(1)} MiB, PSS ${idle.pssMiB.toFixed(1)} MiB, RSS ${idle.rssMiB.toFixed(1)} MiB, ` +
        `of which anonymous ${idle.anonMiB.toFixed(1)} MiB (the rest is the executable's own pages; store mappings excluded)`,
    );
    await warmUp(b);
    for (const w of [1, 16, 64]) rows.push(await produceRow(b, `${w} in flight`, "ASYNC", ["-w", String(w)]));
    // Right after the JSON run at 64, so both see the same store size (later runs append to a bigger log).
    rows.push(await produceRow(b, "64 in flight, ROCKETMQ header", "ASYNC", ["-w", "64", "--serialize-type", "ROCKETMQ"]));
    // The JSON / ROCKETMQ pair once more: one pair on a shared machine is within its noise.
    rows.push(await produceRow(b, "64 in flight (again)", "ASYNC", ["-w", "64"]));
    rows.push(await produceRow(b, "64 in flight, ROCKETMQ header (again)", "ASYNC", ["-w", "64", "--serialize-type", "ROCKETMQ"]));
    rows.push(await produceRow(b, "64 in flight, lean path (no Producer)", "ASYNC", ["-w", "64", "--lean"]));
    const loaded = await whileSampling(b, produceRow(b, "256 in flight", "ASYNC", ["-w", "256"]));
    rows.push(loaded.result);
    const batched = await whileSampling(b, produceRow(b, `batches of ${BATCH_SIZE}, ${BATCH_SENDERS} in flight`, "ASYNC", ["-w", String(BATCH_SENDERS), "-b", String(BATCH_SIZE)]));
    rows.push(batched.result);
    notes.push(loadedMemoryNote(loaded, batched));
    await stopBroker(b, "SIGTERM");

    // ---- SYNC_FLUSH: group commit under 1..256 in flight ----
    const syncStore = path.join(root, "sync", "store");
    fs.mkdirSync(syncStore, { recursive: true });
    b = await startBroker(syncStore, "flushDiskType=SYNC_FLUSH\n");
    await warmUp(b);
    for (const w of [1, 16, 64, 256]) rows.push(await produceRow(b, `${w} in flight`, "SYNC", ["-w", String(w)]));
    await stopBroker(b, "SIGTERM");
    fs.rmSync(path.join(root, "sync"), { recursive: true, force: true });

    // ---- Backlog: fill, drain with one push consumer, then kill -9 and time the recovery ----
    const drainStore = path.join(root, "drain", "store");
    fs.mkdirSync(drainStore, { recursive: true });
    b = await startBroker(drainStore, "flushDiskType=ASYNC_FLUSH\n");
    const fillLoad = loadAverage();
    const fill = await bench(["produce", "-n", b.namesrv, "-t", "DrainTest", "-s", String(MESSAGE_SIZE_BYTES), "-w", String(FILL_SENDERS), "-b", String(BATCH_SIZE), "-c", String(backlogMessages)]);
    notes.push(`Backlog fill: ${fill.sent} messages in ${(fill.elapsedMs / 1000).toFixed(1)} s = ${fill.tps} msgs/s, batches of ${BATCH_SIZE} from ${FILL_SENDERS} senders (load ${fillLoad})`);
    const drainLoad = loadAverage();
    const drainCpuBefore = cpuUs(b.proc.pid);
    // The backlog also holds the fill's one untimed warm-up send.
    const backlogTotal = fill.sent + 1;
    const drain = await bench(["consume", "-n", b.namesrv, "-t", "DrainTest", "--first", "-b", String(BATCH_SIZE), "-c", String(backlogTotal)]);
    rows.push({
      scenario: `drain ${drain.consumed} backlog, 1 push consumer`,
      clientCpu: fmt(drain.cpuUsPerMessage, 1),
      brokerCpu: fmt((cpuUs(b.proc.pid) - drainCpuBefore) / Math.max(1, drain.consumed), 1),
      flush: "ASYNC",
      tps: String(drain.tps),
      avg: "-",
      p99: "-",
      max: "-",
      failed: String(backlogTotal - drain.consumed),
      load: drainLoad,
    });
    await stopBroker(b, "SIGKILL");
    const commitLogBytes = fs.readdirSync(path.join(drainStore, "commitlog")).reduce((n, f) => n + fs.statSync(path.join(drainStore, "commitlog", f)).size, 0);
    b = await startBroker(drainStore, "flushDiskType=ASYNC_FLUSH\n");
    notes.push(`Time to ready after kill -9 with ${(commitLogBytes / 1024 ** 3).toFixed(2)} GiB of commit-log files (${fill.sent} messages): ${b.readyMs.toFixed(0)} ms`);
    await stopBroker(b, "SIGTERM");
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  notes.push(
    `Matrix run time: ${((Date.now() - began) / 1000).toFixed(0)} s; ${runSeconds} s per produce run, after ${WARM_UP_SECONDS} s of unrecorded load on each fresh broker (JIT warm-up)`,
  );
  const table = render(rows, notes);
  console.log(table);
  if (!process.argv.includes("--no-write")) writeInto(outFile, table);
}

function render(rows: Row[], notes: string[]): string {
  const cpu = /model name\s*:\s*(.*)/.exec(fs.readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "unknown";
  const lines = [
    `Run ${new Date().toISOString()} on ${os.cpus().length} CPUs (${cpu}), ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB RAM, ${os.type()} ${os.release()}, Bun ${Bun.version}.`,
    `Command: \`${["bun scripts/bench-matrix.ts", ...process.argv.slice(2)].join(" ")}\`. Broker \`./tsmq standalone\` and load generator \`./tsmq bench\` on the same machine; ${MESSAGE_SIZE_BYTES}-byte bodies; one producer connection; every sender waits for its ack; JSON request headers unless the row says ROCKETMQ; topic \`${PRODUCE_TOPIC}\` (4 queues).`,
    "",
    "| scenario | flush | msgs/s | avg RT ms | p99 RT ms | max RT ms | failed | broker CPU µs/msg | bench CPU µs/msg | load avg (1/5/15 min) |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ...rows.map((r) => `| ${r.scenario} | ${r.flush} | ${r.tps} | ${r.avg} | ${r.p99} | ${r.max} | ${r.failed} | ${r.brokerCpu} | ${r.clientCpu} | ${r.load} |`),
    "",
    ...notes.map((n) => `- ${n}`),
  ];
  return lines.join("\n");
}

function writeInto(file: string, table: string): void {
  const existing = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : `# Benchmarks\n\n${MATRIX_START}\n${MATRIX_END}\n`;
  const start = existing.indexOf(MATRIX_START);
  const end = existing.indexOf(MATRIX_END);
  if (start < 0 || end < start) throw new Error(`${file} lacks the ${MATRIX_START} / ${MATRIX_END} markers`);
  const updated = `${existing.slice(0, start + MATRIX_START.length)}\n${table}\n${existing.slice(end)}`;
  fs.writeFileSync(file, updated);
  console.log(`wrote the matrix into ${file}`);
}

await main();
