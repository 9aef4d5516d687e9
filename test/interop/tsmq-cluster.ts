// A tsmq cluster for interop tests, from the compiled ./tsmq: one namesrv and any number of
// brokers, each with its own properties file and store under one temp dir, on free ports.
// Brokers can be stopped, killed and started again on the same port and store.
//
//   const cluster = await startTsmqCluster({ brokers: [{ name: "broker-a" }] });
//   ... cluster.namesrvAddr, cluster.broker("broker-a").addr ...
//   await cluster.stop();

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ensureBinary, freeBrokerPort, freePort, spawnTsmq, type TsmqProcess } from "../e2e/helpers.ts";

export type Props = Record<string, string | number | boolean>;

export interface BrokerSpec {
  /** brokerName; also names its store and properties file. */
  name: string;
  brokerId?: number;
  /** Extra or overriding broker properties (RocketMQ keys). */
  props?: Props;
}

export interface ClusterOptions {
  brokers: BrokerSpec[];
  clusterName?: string;
}

/** Defaults for interop brokers: small segments, topics auto-created, quick offset flushes. */
const BROKER_DEFAULTS: Props = {
  brokerIP1: "127.0.0.1",
  autoCreateTopicEnable: true,
  autoCreateSubscriptionGroup: true,
  flushDiskType: "ASYNC_FLUSH",
  mappedFileSizeCommitLog: 16 * 1024 * 1024,
  mappedFileSizeConsumeQueue: 30_000 * 20,
  flushConsumerOffsetInterval: 1_000,
};

export interface ClusterBroker {
  readonly name: string;
  readonly addr: string;
  readonly port: number;
  readonly storeDir: string;
  readonly confPath: string;
  /** The running process, or undefined while stopped. */
  readonly proc: TsmqProcess | undefined;
  start(): Promise<void>;
  /** SIGTERM (graceful shutdown, unregisters from the namesrv). */
  stop(): Promise<void>;
  /** SIGKILL: no shutdown work at all. */
  kill9(): Promise<void>;
}

export interface TsmqCluster {
  readonly dir: string;
  readonly namesrvAddr: string;
  readonly clusterName: string;
  broker(name: string): ClusterBroker;
  /** Stops every process and removes the temp dir. */
  stop(): Promise<void>;
}

function writeProps(file: string, props: Props): void {
  fs.writeFileSync(file, Object.entries(props).map(([k, v]) => `${k}=${v}`).join("\n") + "\n");
}

async function makeBroker(dir: string, namesrvAddr: string, clusterName: string, spec: BrokerSpec): Promise<ClusterBroker> {
  const port = await freeBrokerPort();
  const storeDir = path.join(dir, `store-${spec.name}-${spec.brokerId ?? 0}`);
  const confPath = path.join(dir, `${spec.name}-${spec.brokerId ?? 0}.properties`);
  writeProps(confPath, {
    ...BROKER_DEFAULTS,
    brokerClusterName: clusterName,
    brokerName: spec.name,
    brokerId: spec.brokerId ?? 0,
    listenPort: port,
    haListenPort: await freePort(),
    namesrvAddr,
    storePathRootDir: storeDir,
    ...spec.props,
  });
  let proc: TsmqProcess | undefined;
  return {
    name: spec.name,
    addr: `127.0.0.1:${port}`,
    port,
    storeDir,
    confPath,
    get proc() {
      return proc;
    },
    async start() {
      if (proc) throw new Error(`broker ${spec.name} is already running`);
      proc = await spawnTsmq(["broker", "-c", confPath], { ready: /ready on/ });
    },
    async stop() {
      await proc?.stop();
      proc = undefined;
    },
    async kill9() {
      if (!proc) return;
      proc.proc.kill("SIGKILL");
      await proc.stop();
      proc = undefined;
    },
  };
}

export async function startTsmqCluster(opts: ClusterOptions): Promise<TsmqCluster> {
  await ensureBinary();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsmq-interop-"));
  const clusterName = opts.clusterName ?? "DefaultCluster";
  const nsPort = await freePort();
  const namesrvAddr = `127.0.0.1:${nsPort}`;
  const namesrv = await spawnTsmq(["namesrv", "-p", String(nsPort)], { ready: /boot success/, env: { HOME: dir } });
  const brokers = new Map<string, ClusterBroker>();
  try {
    for (const spec of opts.brokers) {
      const b = await makeBroker(dir, namesrvAddr, clusterName, spec);
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
      if (!b) throw new Error(`no broker ${name} in this cluster (${[...brokers.keys()].join(", ")})`);
      return b;
    },
    async stop() {
      for (const b of brokers.values()) await b.stop();
      await namesrv.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
