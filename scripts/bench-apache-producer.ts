// Apache's own benchmark Producer (org.apache.rocketmq.example.benchmark.Producer, rocketmq-example
// 4.7.0 on the 4.9.8 client, see scripts/bench-apache-producer/pom.xml) against tsmq and then against
// the Apache RocketMQ 4.9.7 broker, one after the other, same flags, same machine. For each broker:
// msgs/s from the Producer's own "Send TPS" lines, the messages stored (sum of the topic's max
// offsets) and the broker's CPU per stored message (utime + stime from /proc/<pid>/stat, all
// threads), over the same measured window after a warm-up.
//
// Usage: bun scripts/bench-apache-producer.ts [--seconds N] [--warmup N] [--threads N] [--size N] [--only tsmq|apache]
//   --seconds   measured window per broker (default 60)
//   --warmup    seconds of load before the window opens (default 15: JIT, first segments)
//   --threads   the Producer's -w, sync senders (default 64)
//   --size      the Producer's -s, body bytes (default 1024)
//   --only      run one broker only

import type { Subprocess } from "bun";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { AdminClient } from "../src/index.ts";
import { startApacheCluster } from "../test/interop/apache-cluster.ts";
import { startTsmqCluster } from "../test/interop/tsmq-cluster.ts";
import type { Props } from "../test/interop/tsmq-cluster.ts";

const PROJECT_DIR = path.join(import.meta.dir, "bench-apache-producer");
const CLASSPATH_FILE = path.join(PROJECT_DIR, "target", "classpath.txt");
const PRODUCER_MAIN = "org.apache.rocketmq.example.benchmark.Producer";
const MAVEN_TIMEOUT_MS = 600_000;
/** Created with the client's default 4 queues (the brokers pre-create "BenchmarkTest" with 1024). */
const TOPIC = "BenchTopic";
const TOPIC_QUEUES = 4;
/** Bound on the NameServer learning the new topic, and its poll period. */
const ROUTE_WAIT_MS = 30_000;
const ROUTE_POLL_MS = 100;
/** Both brokers get the same store settings: Apache's default 1 GiB commit log segments, async flush. */
const BROKER_PROPS: Props = { flushDiskType: "ASYNC_FLUSH", mappedFileSizeCommitLog: 1024 * 1024 * 1024 };
/** The load generator's JVM, the same for both runs. */
const PRODUCER_JVM_OPTIONS = ["-Xms1g", "-Xmx1g"];
/** The Producer prints a line every 10 s, each the rate over its last 9 one-second snapshots. */
const TPS_WINDOW_MS = 9_000;
/** The Producer's output kept for error messages. */
const OUTPUT_KEPT_CHARS = 100_000;
/** Bound on waiting for the killed Producer to exit. */
const PRODUCER_EXIT_TIMEOUT_MS = 10_000;

/** Resolves the Producer's classpath with Maven when the pom is newer than the last resolution. */
async function producerClasspath(): Promise<string> {
  const pom = path.join(PROJECT_DIR, "pom.xml");
  if (!fs.existsSync(CLASSPATH_FILE) || fs.statSync(CLASSPATH_FILE).mtimeMs < fs.statSync(pom).mtimeMs) {
    const mvn = Bun.spawn(["mvn", "-q", "-B", "dependency:build-classpath", `-Dmdep.outputFile=${CLASSPATH_FILE}`], { cwd: PROJECT_DIR, stdout: "inherit", stderr: "inherit" });
    const timer = setTimeout(() => mvn.kill("SIGKILL"), MAVEN_TIMEOUT_MS);
    const code = await mvn.exited;
    clearTimeout(timer);
    if (code !== 0) throw new Error(`mvn could not resolve ${pom} (exit ${code})`);
  }
  return fs.readFileSync(CLASSPATH_FILE, "utf8").trim();
}

const CLOCK_TICKS_PER_S = Number(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim()) || 100;

/** utime + stime of a process, all threads, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the ")" that closes the command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
}

/**
 * The Apache broker JVM's pid: apache-cluster.ts keeps its process to itself, so find the java
 * process whose command line names this broker's own properties file (a unique temp path).
 */
function pidWithArg(arg: string): number {
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").includes(arg)) return Number(entry);
    } catch {
      // The process exited while we looked.
    }
  }
  throw new Error(`no process has the argument ${arg}`);
}

/**
 * Creates the topic before the load starts, so no sender races the auto-creation, and waits until
 * the NameServer serves its route.
 */
async function createTopic(namesrvAddr: string, brokerAddr: string): Promise<void> {
  const admin = new AdminClient({ namesrvAddr });
  try {
    await admin.createTopic(brokerAddr, { topic: TOPIC, readQueueNums: TOPIC_QUEUES, writeQueueNums: TOPIC_QUEUES });
    const deadline = Date.now() + ROUTE_WAIT_MS;
    for (;;) {
      try {
        await admin.topicRoute(TOPIC);
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await Bun.sleep(ROUTE_POLL_MS);
      }
    }
  } finally {
    admin.close();
  }
}

async function storedMessages(namesrvAddr: string): Promise<number> {
  const admin = new AdminClient({ namesrvAddr });
  try {
    return (await admin.topicStats(TOPIC)).reduce((sum, q) => sum + q.maxOffset, 0);
  } finally {
    admin.close();
  }
}

interface TpsLine {
  atMs: number;
  tps: number;
  sendFailed: number;
  responseFailed: number;
}

interface Producer {
  proc: Subprocess;
  lines: TpsLine[];
  output(): string;
}

function startProducer(classpath: string, namesrvAddr: string, threads: number, sizeBytes: number): Producer {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "tsmq-bench-producer-"));
  const argv = ["java", ...PRODUCER_JVM_OPTIONS, `-Duser.home=${home}`, `-Drocketmq.client.logRoot=${path.join(home, "logs")}`, "-cp", classpath, PRODUCER_MAIN];
  const proc = Bun.spawn([...argv, "-n", namesrvAddr, "-t", TOPIC, "-w", String(threads), "-s", String(sizeBytes)], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const lines: TpsLine[] = [];
  let output = "";
  const onLine = (line: string) => {
    const m = /^Send TPS: (\d+) .*Send Failed: (\d+) Response Failed: (\d+)/.exec(line);
    if (m) lines.push({ atMs: Date.now(), tps: Number(m[1]), sendFailed: Number(m[2]), responseFailed: Number(m[3]) });
  };
  const pump = async (stream: ReadableStream<Uint8Array>, parse: boolean) => {
    const decoder = new TextDecoder();
    // Java's printf reaches the pipe in pieces: parse whole lines only.
    let pending = "";
    for await (const chunk of stream) {
      const text = decoder.decode(chunk, { stream: true });
      output = (output + text).slice(-OUTPUT_KEPT_CHARS);
      if (!parse) continue;
      pending += text;
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        onLine(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
    }
  };
  void Promise.all([pump(proc.stdout, true), pump(proc.stderr, false)]);
  void proc.exited.then(() => fs.rmSync(home, { recursive: true, force: true }));
  return { proc, lines, output: () => output };
}

interface RunResult {
  broker: string;
  tpsLines: number[];
  producerTps: number;
  stored: number;
  storedPerS: number;
  brokerCpuUsPerMsg: number;
  failed: number;
  /** 1-minute load average at the window's end: other work on the machine shows here. */
  loadAvg1: number;
}

interface RunOptions {
  classpath: string;
  seconds: number;
  warmupS: number;
  threads: number;
  sizeBytes: number;
}

/** Loads one broker for warm-up + window and measures the window. */
async function measure(broker: string, namesrvAddr: string, brokerAddr: string, brokerPid: number, o: RunOptions): Promise<RunResult> {
  await createTopic(namesrvAddr, brokerAddr);
  const producer = startProducer(o.classpath, namesrvAddr, o.threads, o.sizeBytes);
  try {
    // A benchmark runs for a fixed time by design; these sleeps are its clock, not a wait on state.
    await Bun.sleep(o.warmupS * 1000);
    if (producer.proc.exitCode !== null) throw new Error(`the Producer exited:\n${producer.output()}`);
    const start = { atMs: Date.now(), cpuS: cpuSeconds(brokerPid), stored: await storedMessages(namesrvAddr) };
    await Bun.sleep(o.seconds * 1000);
    const end = { atMs: Date.now(), cpuS: cpuSeconds(brokerPid), stored: await storedMessages(namesrvAddr) };
    const inWindow = producer.lines.filter((l) => l.atMs - TPS_WINDOW_MS >= start.atMs && l.atMs <= end.atMs);
    if (inWindow.length === 0) throw new Error(`no Send TPS line inside the window ${start.atMs}..${end.atMs} (lines at ${producer.lines.map((l) => l.atMs).join(", ")}):\n${producer.output().slice(-5_000)}`);
    const stored = end.stored - start.stored;
    const last = producer.lines[producer.lines.length - 1]!;
    return {
      broker,
      tpsLines: inWindow.map((l) => l.tps),
      producerTps: Math.round(inWindow.reduce((s, l) => s + l.tps, 0) / inWindow.length),
      stored,
      storedPerS: Math.round(stored / ((end.atMs - start.atMs) / 1000)),
      brokerCpuUsPerMsg: ((end.cpuS - start.cpuS) * 1e6) / stored,
      failed: last.sendFailed + last.responseFailed,
      loadAvg1: os.loadavg()[0]!,
    };
  } finally {
    producer.proc.kill("SIGKILL");
    await Promise.race([producer.proc.exited, Bun.sleep(PRODUCER_EXIT_TIMEOUT_MS)]);
  }
}

async function benchTsmq(o: RunOptions): Promise<RunResult> {
  const cluster = await startTsmqCluster({ brokers: [{ name: "broker-a", props: BROKER_PROPS }] });
  try {
    const broker = cluster.broker("broker-a");
    return await measure("tsmq (./tsmq namesrv + ./tsmq broker)", cluster.namesrvAddr, broker.addr, broker.proc!.proc.pid, o);
  } finally {
    await cluster.stop();
  }
}

async function benchApache(o: RunOptions): Promise<RunResult> {
  const cluster = await startApacheCluster({ brokers: [{ name: "broker-a", props: BROKER_PROPS }] });
  try {
    const broker = cluster.broker("broker-a");
    return await measure("Apache RocketMQ 4.9.7 (NamesrvStartup + BrokerStartup)", cluster.namesrvAddr, broker.addr, pidWithArg(broker.confPath), o);
  } finally {
    await cluster.stop();
  }
}

function report(results: RunResult[], o: RunOptions): void {
  console.log(`\n${new Date().toISOString()}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.release()}`);
  console.log(`${PRODUCER_MAIN} -w ${o.threads} -s ${o.sizeBytes} -t ${TOPIC}; warm-up ${o.warmupS} s, window ${o.seconds} s; ASYNC_FLUSH\n`);
  console.log("| broker | msgs/s (Producer's Send TPS, mean) | Send TPS lines | stored in window | stored msgs/s | broker CPU µs/msg | failed (whole run) | load avg 1 min |");
  console.log("|---|---:|---|---:|---:|---:|---:|---:|");
  for (const r of results) {
    console.log(`| ${r.broker} | ${r.producerTps} | ${r.tpsLines.join(", ")} | ${r.stored} | ${r.storedPerS} | ${r.brokerCpuUsPerMsg.toFixed(1)} | ${r.failed} | ${r.loadAvg1.toFixed(2)} |`);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: "string", default: "60" },
      warmup: { type: "string", default: "15" },
      threads: { type: "string", default: "64" },
      size: { type: "string", default: "1024" },
      only: { type: "string" },
    },
  });
  if (values.only !== undefined && values.only !== "tsmq" && values.only !== "apache") throw new Error(`--only takes tsmq or apache, not ${values.only}`);
  const o: RunOptions = {
    classpath: await producerClasspath(),
    seconds: Number(values.seconds),
    warmupS: Number(values.warmup),
    threads: Number(values.threads),
    sizeBytes: Number(values.size),
  };
  const results: RunResult[] = [];
  if (values.only !== "apache") results.push(await benchTsmq(o));
  if (values.only !== "tsmq") results.push(await benchApache(o));
  report(results, o);
}

await main();
