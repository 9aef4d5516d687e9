// HA with real processes (the compiled ./tsmq): namesrv + SYNC_MASTER + SLAVE found through the
// namesrv. 10,000 acknowledged sends; kill -9 of the master while a push consumer is mid-stream;
// the consumer goes on from the slave and gets every acknowledged message; after the master comes
// back it continues there without re-delivering committed messages and the master's offsets catch
// up; a slave killed mid-stream catches up from its own offset. One flow, steps in order.

import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { AdminClient } from "../../src/client/admin.ts";
import type { ClientLogger } from "../../src/client/client-config.ts";
import { Producer } from "../../src/client/producer.ts";
import { PushConsumer } from "../../src/client/push-consumer.ts";
import { RequestCode, ResponseCode } from "../../src/remoting/codes.ts";
import { RemotingCommand } from "../../src/remoting/command.ts";
import { RemotingClient } from "../../src/remoting/client.ts";
import { ensureBinary, freeBrokerPort, freePort, spawnTsmq, stopAllTsmq, type TsmqProcess } from "./helpers.ts";

const TOPIC = "HaE2E";
const GROUP = "ha_e2e_consumer";
const QUEUES = 4;
const FIRST_BATCH = 10_000;
const SECOND_BATCH = 1_000;
const THIRD_BATCH = 1_500;
/** Sends in flight at once: enough to batch the slave acks. */
const SEND_WINDOW = 128;
/** The consumer holds its listener once it has this many messages, until the master is dead. */
const KILL_AFTER_CONSUMED = 3_000;
/** Small client-side cache, so most messages must be pulled after the kill, i.e. from the slave. */
const PULL_THRESHOLD_FOR_QUEUE = 100;
const PULL_BATCH_SIZE = 32;
/** Longest wait for any one condition; the slave's HA client reconnects every 5 s. */
const WAIT_TIMEOUT_MS = 20_000;
const RPC_TIMEOUT_MS = 3_000;

let dir: string;
let master: TsmqProcess;
let slave: TsmqProcess;
let namesrvAddr: string;
let masterAddr: string;
let slaveAddr: string;
let masterConf: string;
let slaveConf: string;
const rpc = new RemotingClient();
const warnings: string[] = [];
const logger: ClientLogger = { warn: (m) => void warnings.push(m), info: () => {} };
const cleanups: Array<() => Promise<unknown> | unknown> = [];

async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = WAIT_TIMEOUT_MS): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await Promise.resolve(check()).catch(() => undefined);
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(50);
  }
}

async function runtimeInfo(addr: string): Promise<Record<string, string>> {
  const r = await rpc.invoke(addr, RemotingCommand.request(RequestCode.GET_BROKER_RUNTIME_INFO, {}), RPC_TIMEOUT_MS);
  return JSON.parse(new TextDecoder().decode(r.body)).table;
}

/** True once `addr` has TOPIC in its topic config (a slave gets it by syncing from its master). */
async function knowsTopic(addr: string): Promise<boolean> {
  const r = await rpc.invoke(addr, RemotingCommand.request(RequestCode.GET_ALL_TOPIC_CONFIG, {}), RPC_TIMEOUT_MS);
  return r.code === ResponseCode.SUCCESS && new TextDecoder().decode(r.body).includes(`"${TOPIC}"`);
}

async function queueMaxOffsets(addr: string): Promise<number[]> {
  const out: number[] = [];
  for (let q = 0; q < QUEUES; q++) {
    const r = await rpc.invoke(addr, RemotingCommand.request(RequestCode.GET_MAX_OFFSET, { topic: TOPIC, queueId: String(q) }), RPC_TIMEOUT_MS);
    out.push(Number(r.extFields.offset));
  }
  return out;
}

async function committedOffsets(addr: string): Promise<number[]> {
  const out: number[] = [];
  for (let q = 0; q < QUEUES; q++) {
    const r = await rpc.invoke(addr, RemotingCommand.request(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: GROUP, topic: TOPIC, queueId: String(q) }), RPC_TIMEOUT_MS);
    out.push(r.code === ResponseCode.SUCCESS ? Number(r.extFields.offset) : -1);
  }
  return out;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

function writeConf(name: string, lines: Record<string, string | number>): string {
  const file = path.join(dir, `${name}.properties`);
  fs.writeFileSync(file, Object.entries(lines).map(([k, v]) => `${k}=${v}`).join("\n") + "\n");
  return file;
}

const startMaster = () => spawnTsmq(["broker", "-c", masterConf], { ready: /ready on/ });
const startSlave = () => spawnTsmq(["broker", "-c", slaveConf], { ready: /ready on/ });

async function kill9(p: TsmqProcess): Promise<void> {
  p.proc.kill("SIGKILL");
  await p.proc.exited;
}

beforeAll(async () => {
  await ensureBinary();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsmq-ha-e2e-"));
  const [nsPort, masterPort, slavePort] = [await freePort(), await freeBrokerPort(), await freeBrokerPort()];
  namesrvAddr = `127.0.0.1:${nsPort}`;
  masterAddr = `127.0.0.1:${masterPort}`;
  slaveAddr = `127.0.0.1:${slavePort}`;
  const common = {
    brokerClusterName: "HaCluster",
    brokerName: "broker-ha",
    namesrvAddr,
    brokerIP1: "127.0.0.1",
    flushDiskType: "ASYNC_FLUSH",
    mappedFileSizeCommitLog: 16 * 1024 * 1024,
    // Every 500 ms rather than 5 s: a kill -9 loses less of the master's offset file.
    flushConsumerOffsetInterval: 500,
  };
  masterConf = writeConf("master", {
    ...common,
    brokerId: 0,
    brokerRole: "SYNC_MASTER",
    listenPort: masterPort,
    haListenPort: await freePort(),
    slaveTimeout: 1_000,
    storePathRootDir: path.join(dir, "master"),
  });
  slaveConf = writeConf("slave", {
    ...common,
    brokerId: 1,
    brokerRole: "SLAVE",
    listenPort: slavePort,
    haListenPort: await freePort(),
    slaveSynchronizeInterval: 1_000,
    storePathRootDir: path.join(dir, "slave"),
  });
  await spawnTsmq(["namesrv", "-p", String(nsPort)], { ready: /boot success/ });
  master = await startMaster();
  slave = await startSlave();
}, 240_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  rpc.close();
  await stopAllTsmq();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test("SYNC_MASTER + SLAVE: acknowledged sends survive kill -9 of the master; consumers fail over and back; a restarted slave catches up", async () => {
  await waitFor("the slave connected to the master", async () => (await runtimeInfo(masterAddr)).haSlaveCount === "1");
  const admin = new AdminClient({ namesrvAddr, logger });
  cleanups.push(() => admin.close());
  await admin.createTopic(masterAddr, { topic: TOPIC, readQueueNums: QUEUES, writeQueueNums: QUEUES });

  const clientOpts = { namesrvAddr, logger, pollNameServerIntervalMs: 500, persistConsumerOffsetIntervalMs: 300, rebalanceIntervalMs: 1_000 };
  const producer = new Producer({ ...clientOpts, instanceName: "ha-producer", groupName: "ha_e2e_producer" }).start();
  cleanups.push(() => producer.shutdown());

  // ---- 10,000 acknowledged sends, SEND_WINDOW in flight --------------------------------------
  const acked: string[] = [];
  const statuses = new Map<string, number>();
  const sendRange = async (from: number, to: number, window: number) => {
    let next = from;
    await Promise.all(
      Array.from({ length: window }, async () => {
        while (next < to) {
          const key = `k${next++}`;
          const r = await producer.send({ topic: TOPIC, body: `body-${key}`, keys: key });
          statuses.set(r.sendStatus, (statuses.get(r.sendStatus) ?? 0) + 1);
          if (r.sendStatus === "SEND_OK") acked.push(key);
        }
      }),
    );
  };
  const sendStarted = performance.now();
  await sendRange(0, FIRST_BATCH, SEND_WINDOW);
  const sendMs = performance.now() - sendStarted;
  expect(Object.fromEntries(statuses)).toEqual({ SEND_OK: FIRST_BATCH });
  console.log(`HA e2e: ${FIRST_BATCH} SYNC_MASTER sends in ${sendMs.toFixed(0)} ms (${((FIRST_BATCH / sendMs) * 1000).toFixed(0)} msg/s)`);
  // ASYNC lag report keys are there on a SYNC master too: nothing is behind after acknowledged sends.
  const afterSends = await runtimeInfo(masterAddr);
  expect(afterSends.haSlaveAckOffset).toBe(afterSends.haMasterPutWhere!);
  expect(afterSends.haSlaveFallBehindBytes).toBe("0");

  // ---- a push consumer, held once it has KILL_AFTER_CONSUMED messages --------------------------
  const counts = new Map<string, number>();
  let masterDead = false;
  let releaseHold: () => void = () => {};
  const hold = new Promise<void>((resolve) => (releaseHold = resolve));
  const consumer = new PushConsumer({ ...clientOpts, instanceName: "ha-consumer", groupName: GROUP, consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET", pullThresholdForQueue: PULL_THRESHOLD_FOR_QUEUE, pullBatchSize: PULL_BATCH_SIZE });
  cleanups.push(() => consumer.shutdown());
  consumer.subscribe(TOPIC, "*");
  consumer.registerMessageListener(async (msgs) => {
    if (!masterDead && counts.size >= KILL_AFTER_CONSUMED) await hold;
    for (const m of msgs) counts.set(m.keys ?? "", (counts.get(m.keys ?? "") ?? 0) + 1);
    return "CONSUME_SUCCESS" as const;
  });
  await consumer.start();
  await waitFor(`${KILL_AFTER_CONSUMED} messages consumed`, () => counts.size >= KILL_AFTER_CONSUMED);
  // Let the consumer commit what it has, so the returning master has some offsets for the group.
  await waitFor("offsets committed on the master", async () => sum(await committedOffsets(masterAddr)) > 0);

  // A slave learns topics from its master's periodic sync (as in Java); until then it answers
  // TOPIC_NOT_EXIST to pulls, so the master must live until the slave has the topic.
  await waitFor("the slave synced the topic from the master", () => knowsTopic(slaveAddr));

  // ---- kill -9 the master: every acknowledged message is on the slave ---------------------------
  await kill9(master);
  masterDead = true;
  // Consumed plus at most a full cache per queue: the rest can only come from the slave.
  const pulledBeforeKill = counts.size + QUEUES * (PULL_THRESHOLD_FOR_QUEUE + PULL_BATCH_SIZE);
  expect(pulledBeforeKill).toBeLessThan(FIRST_BATCH / 2);
  releaseHold();
  expect(sum(await queueMaxOffsets(slaveAddr))).toBe(FIRST_BATCH);
  await waitFor("every acknowledged message consumed from the slave", () => acked.every((k) => counts.has(k)), 40_000);
  const duplicatesWhileDown = [...counts.values()].filter((n) => n > 1).length;
  // The consumer committed to the slave while the master was down (Java RemoteBrokerOffsetStore falls back to it).
  await waitFor("offsets committed on the slave", async () => sum(await committedOffsets(slaveAddr)) === FIRST_BATCH);

  // ---- the master returns ---------------------------------------------------------------------
  master = await startMaster();
  await waitFor("the slave reconnected to the returning master", async () => (await runtimeInfo(masterAddr)).haSlaveCount === "1");
  statuses.clear();
  await sendRange(FIRST_BATCH, FIRST_BATCH + SECOND_BATCH, 32);
  expect(Object.fromEntries(statuses)).toEqual({ SEND_OK: SECOND_BATCH });
  await waitFor("the second batch consumed", () => acked.every((k) => counts.has(k)));
  // The consumer's offsets reach the master: nothing left to re-deliver if it restarted.
  await waitFor("master offsets at the queue ends", async () => sum(await committedOffsets(masterAddr)) === FIRST_BATCH + SECOND_BATCH);

  // ---- a slave killed mid-stream catches up from its own offset ---------------------------------
  statuses.clear();
  const slaveOffsetBeforeKill = Number((await runtimeInfo(slaveAddr)).haSlaveMaxOffset);
  const stored: string[] = [];
  let sent = 0;
  const third = (async () => {
    for (let i = 0; i < THIRD_BATCH; i++) {
      const key = `k${FIRST_BATCH + SECOND_BATCH + i}`;
      const r = await producer.send({ topic: TOPIC, body: `body-${key}`, keys: key });
      statuses.set(r.sendStatus, (statuses.get(r.sendStatus) ?? 0) + 1);
      stored.push(key); // every status here means "stored on the master"
      sent++;
    }
  })();
  await waitFor("a third of the third batch sent", () => sent >= THIRD_BATCH / 3);
  await kill9(slave);
  await waitFor("two thirds of the third batch sent", () => sent >= (2 * THIRD_BATCH) / 3);
  slave = await startSlave();
  await third;
  // It resumes from what it has on disk, not from the start of the master's last segment.
  const line = await slave.waitForOutput(/connected to master \S+, reporting offset \d+/, WAIT_TIMEOUT_MS);
  const reported = Number(/connected to master \S+, reporting offset (\d+)/.exec(line)![1]);
  expect(reported).toBeGreaterThanOrEqual(slaveOffsetBeforeKill);
  await waitFor("the restarted slave caught up", async () => {
    const info = await runtimeInfo(masterAddr);
    return info.haSlaveCount === "1" && info.haSlaveFallBehindBytes === "0";
  });
  expect(await queueMaxOffsets(slaveAddr)).toEqual(await queueMaxOffsets(masterAddr));
  expect(statuses.get("SEND_OK") ?? 0).toBeGreaterThan(0);
  await waitFor("the third batch consumed", () => stored.every((k) => counts.has(k)));
  await waitFor("master offsets at the queue ends after the third batch", async () => sum(await committedOffsets(masterAddr)) === FIRST_BATCH + SECOND_BATCH + THIRD_BATCH);

  // No message was delivered twice: not across the fail-over, not after the master returned.
  const duplicates = [...counts.entries()].filter(([, n]) => n > 1).map(([k]) => k);
  expect(duplicatesWhileDown).toBe(0);
  expect(duplicates).toEqual([]);
  expect(counts.size).toBe(FIRST_BATCH + SECOND_BATCH + THIRD_BATCH);
}, 90_000);
