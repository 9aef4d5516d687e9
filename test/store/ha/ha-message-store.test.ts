// Replication between two real MessageStores (temp dirs, 64 KiB commit-log segments) over TCP: the
// slave ends with the same commit log and serves the same records from its own consume queues.
import { afterEach, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { propertiesToString, tagsHashCode, type MessageInner } from "../../../src/common/message.ts";
import { HAService } from "../../../src/store/ha/ha-service.ts";
import { DEFAULT_HA_CONFIG, type HAConfig } from "../../../src/store/ha/ha-types.ts";
import { MessageStore } from "../../../src/store/message-store.ts";
import { DEFAULT_STORE_CONFIG, type BrokerRole, type StoreConfig } from "../../../src/store/store-config.ts";
import { waitUntil } from "../../wait-until.ts";

const SEGMENT_SIZE_BYTES = 64 * 1024;
/** Two stores replicating and dispatching on 2 shared cores: allow more than the default wait. */
const CATCH_UP_TIMEOUT_MS = 15_000;
const TOPICS = ["TopicA", "TopicB", "TopicC"];
const QUEUES = 4;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});


function storeConfig(root: string, brokerRole: BrokerRole): StoreConfig {
  return {
    ...DEFAULT_STORE_CONFIG,
    storePathRootDir: root,
    brokerRole,
    mappedFileSizeCommitLog: SEGMENT_SIZE_BYTES,
    mappedFileSizeConsumeQueue: 1000 * 20,
    maxHashSlotNum: 1000,
    maxIndexNum: 4000,
  };
}

async function openStore(root: string, role: BrokerRole): Promise<MessageStore> {
  const store = new MessageStore(storeConfig(root, role), { storeHost: "127.0.0.1:10911" });
  expect(await store.load()).toBe(true);
  await store.start();
  return store;
}

function tempRoot(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsmq-ha-store-"));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function haConfig(overrides: Partial<HAConfig> = {}): HAConfig {
  return { ...DEFAULT_HA_CONFIG, haListenPort: 0, mappedFileSizeCommitLog: SEGMENT_SIZE_BYTES, ...overrides };
}

function message(i: number): MessageInner {
  const properties = { TAGS: `tag${i % 5}`, KEYS: `key-${i}`, UNIQ_KEY: `uniq-${i}` };
  const body = new TextEncoder().encode(`message ${i} `.repeat(1 + (i % 20)));
  return {
    topic: TOPICS[i % TOPICS.length]!,
    queueId: i % QUEUES,
    flag: 0,
    body,
    properties,
    propertiesString: propertiesToString(properties),
    tagsCode: tagsHashCode(properties.TAGS),
    sysFlag: 0,
    bornTimestamp: 1_700_000_000_000 + i,
    bornHost: "127.0.0.1:50000",
    storeHost: "127.0.0.1:10911",
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
  };
}

async function putMany(store: MessageStore, ha: HAService, from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i++) {
    expect((await store.putMessage(message(i))).status).toBe("PUT_OK");
    if (i % 50 === 0) ha.notifyAppended();
  }
  ha.notifyAppended();
}

/**
 * Segment name -> content hash. Without the spare segment prepared ahead of need (all zeros, after
 * the last written one; each side has it or not depending on timing) or its temporary file.
 */
function commitLogFiles(root: string): Map<string, number> {
  const dir = path.join(root, "commitlog");
  const names = fs.readdirSync(dir).filter((name) => /^\d{20}$/.test(name)).sort();
  const segments = names.map((name) => ({ name, bytes: new Uint8Array(fs.readFileSync(path.join(dir, name))) }));
  while (segments.length > 0 && segments[segments.length - 1]!.bytes.every((b) => b === 0)) segments.pop();
  return new Map(segments.map(({ name, bytes }) => [name, Number(Bun.hash(bytes))]));
}

/** Every queue on the slave returns exactly the master's records, page by page. */
function expectSameQueues(master: MessageStore, slave: MessageStore): void {
  for (const topic of TOPICS) {
    for (let queueId = 0; queueId < QUEUES; queueId++) {
      const max = master.getMaxOffsetInQueue(topic, queueId);
      expect(max).toBeGreaterThan(0);
      expect(slave.getMaxOffsetInQueue(topic, queueId)).toBe(max);
      for (let offset = 0; offset < max; ) {
        const fromMaster = master.getMessage("g", topic, queueId, offset, 32);
        const fromSlave = slave.getMessage("g", topic, queueId, offset, 32);
        expect(fromSlave.status).toBe("FOUND");
        expect(fromSlave.nextBeginOffset).toBe(fromMaster.nextBeginOffset);
        expect(fromSlave.messages.length).toBe(fromMaster.messages.length);
        for (let i = 0; i < fromMaster.messages.length; i++) expect(fromSlave.messages[i]!).toEqual(fromMaster.messages[i]!);
        offset = fromMaster.nextBeginOffset;
      }
    }
  }
}

test("10,000 messages: same commit log bytes and same consume-queue reads on the slave", async () => {
  const masterRoot = tempRoot();
  const slaveRoot = tempRoot();
  const master = await openStore(masterRoot, "ASYNC_MASTER");
  cleanups.push(() => master.shutdown());
  const slave = await openStore(slaveRoot, "SLAVE");
  cleanups.push(() => slave.shutdown());
  const masterHA = new HAService(master, haConfig(), "ASYNC_MASTER", { listenHostname: "127.0.0.1" });
  const port = masterHA.start();
  cleanups.push(() => masterHA.shutdown());
  const slaveHA = new HAService(slave, haConfig({ haMasterAddress: `127.0.0.1:${port}` }), "SLAVE");
  slaveHA.start();
  cleanups.push(() => slaveHA.shutdown());
  await waitUntil("slave report", () => masterHA.getRuntimeInfo().haConnectionInfo[0]?.slaveAckOffset === 0, CATCH_UP_TIMEOUT_MS);

  await putMany(master, masterHA, 0, 10_000);
  const end = master.getMaxPhyOffset();
  expect(end).toBeGreaterThan(10 * SEGMENT_SIZE_BYTES);
  await waitUntil("slave caught up and dispatched", () => slave.getMaxPhyOffset() === end && slave.dispatchBehindBytes() === 0, CATCH_UP_TIMEOUT_MS);

  expect(commitLogFiles(slaveRoot)).toEqual(commitLogFiles(masterRoot));
  expectSameQueues(master, slave);
  expect(slave.queryMessage("TopicA", "key-9999", 10, 0, Number.MAX_SAFE_INTEGER).messages.length).toBe(1);
  // The slave store refuses client writes.
  expect((await slave.putMessage(message(0))).status).toBe("SERVICE_NOT_AVAILABLE");
});

test("slave store restarted mid-stream recovers and catches up from its own offset", async () => {
  const masterRoot = tempRoot();
  const slaveRoot = tempRoot();
  const master = await openStore(masterRoot, "ASYNC_MASTER");
  cleanups.push(() => master.shutdown());
  // Small frames that split records, so the slave is likely stopped inside a record.
  const masterHA = new HAService(master, haConfig({ haTransferBatchSize: 1000 }), "ASYNC_MASTER", { listenHostname: "127.0.0.1" });
  const port = masterHA.start();
  cleanups.push(() => masterHA.shutdown());
  const slaveConfig = haConfig({ haMasterAddress: `127.0.0.1:${port}` });

  let slave = await openStore(slaveRoot, "SLAVE");
  let slaveHA = new HAService(slave, slaveConfig, "SLAVE");
  slaveHA.start();
  await waitUntil("slave report", () => masterHA.connectionCount() === 1, CATCH_UP_TIMEOUT_MS);
  await putMany(master, masterHA, 0, 5_000);
  await waitUntil("some data replicated", () => slave.getMaxPhyOffset() > 0, CATCH_UP_TIMEOUT_MS);
  slaveHA.shutdown();
  await slave.shutdown();
  const stoppedAt = slave.getMaxPhyOffset();
  expect(stoppedAt).toBeLessThanOrEqual(master.getMaxPhyOffset());

  await putMany(master, masterHA, 5_000, 5_000);
  slave = await openStore(slaveRoot, "SLAVE");
  cleanups.push(() => slave.shutdown());
  slaveHA = new HAService(slave, slaveConfig, "SLAVE");
  slaveHA.start();
  cleanups.push(() => slaveHA.shutdown());
  const end = master.getMaxPhyOffset();
  await waitUntil("slave caught up and dispatched", () => slave.getMaxPhyOffset() === end && slave.dispatchBehindBytes() === 0, CATCH_UP_TIMEOUT_MS);
  expect(commitLogFiles(slaveRoot)).toEqual(commitLogFiles(masterRoot));
  expectSameQueues(master, slave);
});
