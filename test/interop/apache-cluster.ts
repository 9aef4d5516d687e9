// The released Apache RocketMQ servers (NameServer and broker 4.9.7 jars from Maven Central, see
// test/interop/apache/pom.xml) as test peers: tsmq's client and CLI run against them, and stores
// move between them and tsmq. Same shape as tsmq-cluster.ts.
//
//   const apache = await startApacheCluster({ brokers: [{ name: "broker-a" }] });
//   ... apache.namesrvAddr, apache.broker("broker-a").addr ...
//   await apache.stop();

import type { Subprocess } from "bun";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freeBrokerPort, freePort } from "../e2e/helpers.ts";
import type { BrokerSpec, ClusterBroker, Props } from "./tsmq-cluster.ts";

const APACHE_PROJECT_DIR = path.join(import.meta.dir, "apache");
const CLASSPATH_FILE = path.join(APACHE_PROJECT_DIR, "target", "classpath.txt");
const MAVEN_TIMEOUT_MS = 600_000;
/** A JVM broker needs seconds to boot on two busy cores. */
const BOOT_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 15_000;
/**
 * Small heaps (Apache's scripts default to 8 GB for the broker) and the module opens RocketMQ 4.9's
 * store needs on Java 17 (it unmaps files through sun.nio.ch / java.nio internals).
 */
const SERVER_JVM_OPTIONS = [
  "-Xms128m",
  "-Xmx512m",
  "-XX:MaxDirectMemorySize=512m",
  "-XX:+UseSerialGC",
  "--add-opens=java.base/java.nio=ALL-UNNAMED",
  "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
  "--add-opens=java.base/java.lang=ALL-UNNAMED",
  "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
  "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
];

/** Defaults for Apache brokers in tests: small segments, topics auto-created, like tsmq-cluster.ts. */
const BROKER_DEFAULTS: Props = {
  brokerIP1: "127.0.0.1",
  autoCreateTopicEnable: true,
  autoCreateSubscriptionGroup: true,
  flushDiskType: "ASYNC_FLUSH",
  mappedFileSizeCommitLog: 16 * 1024 * 1024,
  mappedFileSizeConsumeQueue: 30_000 * 20,
  flushConsumerOffsetInterval: 1_000,
};

let classpath: Promise<string> | undefined;

/** Resolves the servers' classpath with Maven (once per test process). */
export function ensureApacheServers(): Promise<string> {
  classpath ??= (async () => {
    if (!fs.existsSync(CLASSPATH_FILE) || fs.statSync(CLASSPATH_FILE).mtimeMs < fs.statSync(path.join(APACHE_PROJECT_DIR, "pom.xml")).mtimeMs) {
      const mvn = Bun.spawn(["mvn", "-q", "-B", "dependency:build-classpath", `-Dmdep.outputFile=${CLASSPATH_FILE}`], { cwd: APACHE_PROJECT_DIR, stdout: "pipe", stderr: "pipe" });
      const timer = setTimeout(() => mvn.kill("SIGKILL"), MAVEN_TIMEOUT_MS);
      const [out, err, code] = await Promise.all([new Response(mvn.stdout).text(), new Response(mvn.stderr).text(), mvn.exited]);
      clearTimeout(timer);
      if (code !== 0) throw new Error(`mvn could not resolve the Apache RocketMQ servers (exit ${code}):\n${out}\n${err}`);
    }
    return fs.readFileSync(CLASSPATH_FILE, "utf8").trim();
  })();
  return classpath;
}

export interface ApacheServer {
  readonly proc: Subprocess;
  output(): string;
  stop(): Promise<void>;
  kill9(): Promise<void>;
}

const runningServers = new Set<ApacheServer>();
process.on("exit", () => {
  for (const s of runningServers) s.proc.kill("SIGKILL");
});

/**
 * Starts one Apache server main class with its ROCKETMQ_HOME (which holds our logback files) and
 * user.home under `home`, and waits for its "boot success" line.
 */
async function startServer(mainClass: string, home: string, rocketmqHome: string, argv: string[]): Promise<ApacheServer> {
  const cp = await ensureApacheServers();
  const proc = Bun.spawn(["java", ...SERVER_JVM_OPTIONS, `-Duser.home=${home}`, `-Drocketmq.home.dir=${rocketmqHome}`, "-cp", cp, mainClass, ...argv], {
    env: { ...process.env, ROCKETMQ_HOME: rocketmqHome },
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  let output = "";
  let exited = false;
  const pump = async (s: ReadableStream<Uint8Array>) => {
    const d = new TextDecoder();
    for await (const chunk of s) output += d.decode(chunk, { stream: true });
  };
  const pumps = Promise.all([pump(proc.stdout), pump(proc.stderr)]);
  const done = proc.exited.then(async () => {
    await pumps;
    exited = true;
  });
  const server: ApacheServer = {
    proc,
    output: () => output,
    async stop() {
      runningServers.delete(server);
      if (!exited) {
        proc.kill("SIGTERM");
        const t = setTimeout(() => proc.kill("SIGKILL"), STOP_GRACE_MS);
        await done;
        clearTimeout(t);
      }
    },
    async kill9() {
      runningServers.delete(server);
      if (!exited) proc.kill("SIGKILL");
      await done;
    },
  };
  runningServers.add(server);
  const deadline = Date.now() + BOOT_TIMEOUT_MS;
  while (!/boot success/.test(output)) {
    if (exited || Date.now() > deadline) {
      await server.kill9();
      throw new Error(`${mainClass} did not boot (${exited ? `exit ${proc.exitCode}` : "timeout"}):\n${output}`);
    }
    await Bun.sleep(50);
  }
  return server;
}

function writeProps(file: string, props: Props): void {
  fs.writeFileSync(file, Object.entries(props).map(([k, v]) => `${k}=${v}`).join("\n") + "\n");
}

/** A ROCKETMQ_HOME with the conf/ files the servers insist on reading. */
function makeRocketmqHome(dir: string): string {
  const home = path.join(dir, "rocketmq-home");
  fs.mkdirSync(path.join(home, "conf"), { recursive: true });
  for (const f of fs.readdirSync(path.join(APACHE_PROJECT_DIR, "conf"))) fs.copyFileSync(path.join(APACHE_PROJECT_DIR, "conf", f), path.join(home, "conf", f));
  return home;
}

export interface ApacheCluster {
  readonly dir: string;
  readonly namesrvAddr: string;
  readonly clusterName: string;
  broker(name: string): ClusterBroker;
  stop(): Promise<void>;
}

export interface ApacheClusterOptions {
  brokers: BrokerSpec[];
  clusterName?: string;
}

async function makeApacheBroker(dir: string, rocketmqHome: string, namesrvAddr: string, clusterName: string, spec: BrokerSpec): Promise<ClusterBroker> {
  const port = await freeBrokerPort();
  const id = spec.brokerId ?? 0;
  const storeDir = path.join(dir, `store-${spec.name}-${id}`);
  const confPath = path.join(dir, `${spec.name}-${id}.properties`);
  writeProps(confPath, {
    ...BROKER_DEFAULTS,
    brokerClusterName: clusterName,
    brokerName: spec.name,
    brokerId: id,
    listenPort: port,
    namesrvAddr,
    storePathRootDir: storeDir,
    storePathCommitLog: path.join(storeDir, "commitlog"),
    ...spec.props,
  });
  const home = path.join(dir, `home-${spec.name}-${id}`);
  fs.mkdirSync(home, { recursive: true });
  let server: ApacheServer | undefined;
  return {
    name: spec.name,
    addr: `127.0.0.1:${port}`,
    port,
    storeDir,
    confPath,
    get proc() {
      return undefined;
    },
    async start() {
      if (server) throw new Error(`Apache broker ${spec.name} is already running`);
      server = await startServer("org.apache.rocketmq.broker.BrokerStartup", home, rocketmqHome, ["-c", confPath]);
    },
    async stop() {
      await server?.stop();
      server = undefined;
    },
    async kill9() {
      await server?.kill9();
      server = undefined;
    },
  };
}

/** Starts the Apache NameServer and brokers; `brokers: []` gives a namesrv only. */
export async function startApacheCluster(opts: ApacheClusterOptions): Promise<ApacheCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsmq-apache-"));
  const rocketmqHome = makeRocketmqHome(dir);
  const clusterName = opts.clusterName ?? "DefaultCluster";
  const nsPort = await freePort();
  const nsConf = path.join(dir, "namesrv.properties");
  writeProps(nsConf, { listenPort: nsPort, kvConfigPath: path.join(dir, "namesrv", "kvConfig.json") });
  const nsHome = path.join(dir, "home-namesrv");
  fs.mkdirSync(nsHome, { recursive: true });
  const namesrv = await startServer("org.apache.rocketmq.namesrv.NamesrvStartup", nsHome, rocketmqHome, ["-c", nsConf]);
  const namesrvAddr = `127.0.0.1:${nsPort}`;
  const brokers = new Map<string, ClusterBroker>();
  try {
    for (const spec of opts.brokers) {
      const b = await makeApacheBroker(dir, rocketmqHome, namesrvAddr, clusterName, spec);
      brokers.set(spec.brokerId ? `${spec.name}-${spec.brokerId}` : spec.name, b);
      await b.start();
    }
  } catch (err) {
    for (const b of brokers.values()) await b.stop();
    await namesrv.stop();
    throw err;
  }
  return {
    dir,
    namesrvAddr,
    clusterName,
    broker(name) {
      const b = brokers.get(name);
      if (!b) throw new Error(`no Apache broker ${name} (${[...brokers.keys()].join(", ")})`);
      return b;
    },
    async stop() {
      for (const b of brokers.values()) await b.stop();
      await namesrv.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
