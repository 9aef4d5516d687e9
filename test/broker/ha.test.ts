// Broker-level HA over real sockets, in process: a SYNC_MASTER and a SLAVE that finds it through a
// namesrv, replication acknowledgement (SUCCESS / SLAVE_NOT_AVAILABLE / FLUSH_SLAVE_TIMEOUT), the
// slave refusing sends, metadata sync from the master, offsets on a slave, pull suggestions and the
// HA runtime-info keys.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { parseNamesrvConfig } from "../../src/config/namesrv-config.ts";
import { NameServer } from "../../src/namesrv/namesrv.ts";
import { RequestCode, ResponseCode } from "../../src/remoting/codes.ts";
import { RemotingCommand } from "../../src/remoting/command.ts";
import { vipChannelAddr } from "../../src/broker/slave-sync.ts";
import { INVOKE_TIMEOUT_MS, jsonOf, makeTempDir, pollUntil, pullRequest, sendRequest, startTestBroker, type TestBroker } from "./helpers.ts";

const TOPIC = "HaTopic";
const GROUP = "G-ha";
/** Short enough for the FLUSH_SLAVE_TIMEOUT test to be quick. */
const SLAVE_TIMEOUT_MS = 400;

let nsDir: string;
let namesrv: NameServer;
let master: TestBroker;
let slave: TestBroker;
let lone: TestBroker;

const call = (tb: TestBroker, cmd: RemotingCommand) => tb.client.invoke(tb.addr, cmd, INVOKE_TIMEOUT_MS);
const runtimeInfo = async (tb: TestBroker): Promise<Record<string, string>> => jsonOf(await call(tb, RemotingCommand.request(RequestCode.GET_BROKER_RUNTIME_INFO, {}))).table;
const getAll = async (tb: TestBroker, code: number) => jsonOf(await call(tb, RemotingCommand.request(code, {})));

beforeAll(async () => {
  nsDir = makeTempDir("tsmq-ha-ns-");
  namesrv = new NameServer({ config: parseNamesrvConfig(new Map(), { listenPort: 0, kvConfigPath: path.join(nsDir, "kv.json") }).config, host: "127.0.0.1" });
  await namesrv.start();
  const namesrvAddr = `127.0.0.1:${namesrv.port}`;
  master = await startTestBroker({
    // Ratio 0: every message counts as "in disk", so the master suggests the slave.
    overrides: { namesrvAddr, brokerName: "broker-ha", brokerRole: "SYNC_MASTER", slaveReadEnable: true, accessMessageInMemoryMaxRatio: 0, slaveTimeout: SLAVE_TIMEOUT_MS },
  });
  slave = await startTestBroker({
    overrides: { namesrvAddr, brokerName: "broker-ha", brokerRole: "SLAVE", brokerId: 1, slaveSynchronizeInterval: 200 },
    brokerOptions: { slaveSyncFirstDelayMs: 0 },
  });
  lone = await startTestBroker({ overrides: { brokerName: "broker-lone", brokerRole: "SYNC_MASTER", slaveTimeout: SLAVE_TIMEOUT_MS } });
});

afterAll(async () => {
  await Promise.all([slave?.destroy(), lone?.destroy()]);
  await master?.destroy();
  await namesrv?.shutdown();
  fs.rmSync(nsDir, { recursive: true, force: true });
});

describe("broker HA", () => {
  test("the slave finds its master through the namesrv; SYNC_MASTER sends are acknowledged after replication", async () => {
    await pollUntil(async () => (await runtimeInfo(master)).haSlaveCount === "1");
    const slaveInfo = await runtimeInfo(slave);
    expect(slaveInfo.haRole).toBe("SLAVE");
    expect(slaveInfo.haMasterAddress).toBe(`127.0.0.1:${master.broker.haPort}`);
    expect(slaveInfo.haMasterConnected).toBe("true");

    for (let i = 0; i < 20; i++) {
      const r = await call(master, sendRequest(TOPIC, `m${i}`));
      expect(r.code).toBe(ResponseCode.SUCCESS);
    }
    // Acknowledged means the slave has the bytes.
    expect(slave.broker.store.getMaxPhyOffset()).toBe(master.broker.store.getMaxPhyOffset());
    const info = await runtimeInfo(master);
    expect(info).toMatchObject({ haRole: "SYNC_MASTER", haSlaveCount: "1", haInSyncSlaveCount: "1", haSlaveFallBehindBytes: "0" });
    expect(info.haSlaveAckOffset).toBe(info.haMasterPutWhere!);
  });

  test("the slave refuses sends with SERVICE_NOT_AVAILABLE, like Java's store in slave mode", async () => {
    const r = await call(slave, sendRequest(TOPIC, "to-slave"));
    expect(r.code).toBe(ResponseCode.SERVICE_NOT_AVAILABLE);
    expect(r.remark).toContain("slave");
  });

  test("the slave copies topics, subscription groups, consumer offsets and delay offsets from the master", async () => {
    const create = RemotingCommand.request(RequestCode.UPDATE_AND_CREATE_TOPIC, {
      topic: "HaAdminTopic", defaultTopic: "TBW102", readQueueNums: "2", writeQueueNums: "2", perm: "6", topicFilterType: "SINGLE_TAG", topicSysFlag: "0", order: "false",
    });
    expect((await call(master, create)).code).toBe(ResponseCode.SUCCESS);
    const group = { groupName: "G-ha-synced", consumeEnable: true, retryMaxTimes: 7, brokerId: 0, whichBrokerWhenConsumeSlowly: 1 };
    expect((await call(master, RemotingCommand.request(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, new TextEncoder().encode(JSON.stringify(group))))).code).toBe(ResponseCode.SUCCESS);
    const commit = RemotingCommand.request(RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: "G-ha-synced", topic: TOPIC, queueId: "0", commitOffset: "5" });
    expect((await call(master, commit)).code).toBe(ResponseCode.SUCCESS);
    // Delay level 1 (1 s): the master's schedule service moves the level-1 offset to 1 once delivered.
    expect((await call(master, sendRequest(TOPIC, "delayed", { DELAY: "1" }))).code).toBe(ResponseCode.SUCCESS);
    await pollUntil(async () => (await getAll(master, RequestCode.GET_ALL_DELAY_OFFSET)).offsetTable["1"] === 1, 5_000);

    await pollUntil(async () => {
      const topics = await getAll(slave, RequestCode.GET_ALL_TOPIC_CONFIG);
      const groups = await getAll(slave, RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG);
      const offsets = await getAll(slave, RequestCode.GET_ALL_CONSUMER_OFFSET);
      const delays = await getAll(slave, RequestCode.GET_ALL_DELAY_OFFSET);
      return (
        topics.topicConfigTable.HaAdminTopic?.readQueueNums === 2 &&
        groups.subscriptionGroupTable["G-ha-synced"]?.retryMaxTimes === 7 &&
        offsets.offsetTable[`${TOPIC}@G-ha-synced`]?.["0"] === 5 &&
        delays.offsetTable["1"] === 1
      );
    }, 5_000);
    // Same DataVersion as the master: the next round leaves the table alone.
    expect((await getAll(slave, RequestCode.GET_ALL_TOPIC_CONFIG)).dataVersion).toEqual((await getAll(master, RequestCode.GET_ALL_TOPIC_CONFIG)).dataVersion);
  });

  test("the slave serves pulls; master and slave suggest brokers as Java does", async () => {
    await pollUntil(async () => (await getAll(slave, RequestCode.GET_ALL_TOPIC_CONFIG)).topicConfigTable[TOPIC] !== undefined, 5_000);
    // Master with slaveReadEnable and data "in disk": suggest the group's slave (whichBrokerWhenConsumeSlowly = 1).
    const fromMaster = await call(master, pullRequest(GROUP, TOPIC, 0, 0));
    expect(fromMaster.code).toBe(ResponseCode.SUCCESS);
    expect(fromMaster.extFields.suggestWhichBrokerId).toBe("1");
    // Slave without slaveReadEnable: the data is served (Java's status switch overrides PULL_RETRY_IMMEDIATELY), the suggestion is the master.
    const fromSlave = await call(slave, pullRequest(GROUP, TOPIC, 0, 0));
    expect(fromSlave.code).toBe(ResponseCode.SUCCESS);
    expect(fromSlave.extFields.suggestWhichBrokerId).toBe("0");
    // The slave's commit log is a byte copy of the master's: the same records come back (the master,
    // treating them as "in disk", returns at most 8 of them, the slave up to 32).
    const masterBody = Buffer.from(fromMaster.body!);
    expect(Buffer.from(fromSlave.body!).subarray(0, masterBody.length).equals(masterBody)).toBe(true);
    expect(Number(fromSlave.extFields.nextBeginOffset)).toBeGreaterThanOrEqual(Number(fromMaster.extFields.nextBeginOffset));
  });

  test("UPDATE_CONSUMER_OFFSET on a slave is stored; a pull's piggy-backed commit is not", async () => {
    const commit = RemotingCommand.request(RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: "G-ha-slave", topic: TOPIC, queueId: "1", commitOffset: "3" });
    expect((await call(slave, commit)).code).toBe(ResponseCode.SUCCESS);
    const query = (queueId: number) => call(slave, RemotingCommand.request(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: "G-ha-slave", topic: TOPIC, queueId: String(queueId) }));
    expect((await query(1)).extFields.offset).toBe("3");
    // sysFlag 0x1 | 0x4: COMMIT_OFFSET + SUBSCRIPTION.
    expect((await call(slave, pullRequest("G-ha-slave", TOPIC, 0, 0, { sysFlag: String(0x1 | 0x4), commitOffset: "4" }))).code).toBe(ResponseCode.SUCCESS);
    expect(slave.broker.offsets.queryOffset("G-ha-slave", TOPIC, 0)).toBe(-1);
  });

  test("a SYNC_MASTER without a slave answers SLAVE_NOT_AVAILABLE; the message is stored", async () => {
    const r = await call(lone, sendRequest(TOPIC, "no-slave"));
    expect(r.code).toBe(ResponseCode.SLAVE_NOT_AVAILABLE);
    expect(r.extFields.msgId).toBeDefined();
    expect(r.remark).toContain("slave");
    // WAIT=false: the producer does not wait for replication.
    expect((await call(lone, sendRequest(TOPIC, "no-wait", { WAIT: "false" }))).code).toBe(ResponseCode.SUCCESS);
    expect(lone.broker.store.getMaxOffsetInQueue(TOPIC, 0)).toBe(2);
  });

  test("a SYNC_MASTER whose slave stops acknowledging answers FLUSH_SLAVE_TIMEOUT after slaveTimeout", async () => {
    // A stand-in slave: reports the master's current end (in sync) once, then never again.
    const haPort = lone.broker.haPort;
    const socket = net.connect({ host: "127.0.0.1", port: haPort });
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    try {
      const report = Buffer.alloc(8); // int64 big-endian: "I have everything below this offset"
      report.writeBigInt64BE(BigInt(lone.broker.store.getMaxPhyOffset()));
      socket.write(report);
      await pollUntil(async () => (await runtimeInfo(lone)).haSlaveCount === "1");
      await pollUntil(() => lone.broker.ha.isSlaveOK(lone.broker.store.getMaxPhyOffset()));
      const started = performance.now();
      const r = await call(lone, sendRequest(TOPIC, "unacked"));
      expect(r.code).toBe(ResponseCode.FLUSH_SLAVE_TIMEOUT);
      expect(performance.now() - started).toBeGreaterThanOrEqual(SLAVE_TIMEOUT_MS - 50);
    } finally {
      socket.destroy();
    }
  });

  test("an ASYNC_MASTER answers at once and reports its slave's lag in the runtime info", async () => {
    const asyncMaster = await startTestBroker({ overrides: { brokerName: "broker-async", brokerRole: "ASYNC_MASTER" } });
    const socket = net.connect({ host: "127.0.0.1", port: asyncMaster.broker.haPort });
    try {
      await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
      expect((await call(asyncMaster, sendRequest(TOPIC, "first"))).code).toBe(ResponseCode.SUCCESS);
      const acked = asyncMaster.broker.store.getMaxPhyOffset();
      const report = Buffer.alloc(8); // int64 big-endian: the stand-in slave has everything below `acked`
      report.writeBigInt64BE(BigInt(acked));
      socket.write(report);
      await pollUntil(async () => (await runtimeInfo(asyncMaster)).haSlaveAckOffset === String(acked));
      // No slave ack is awaited: SUCCESS although the stand-in never reports again.
      expect((await call(asyncMaster, sendRequest(TOPIC, "second"))).code).toBe(ResponseCode.SUCCESS);
      const putWhere = asyncMaster.broker.store.getMaxPhyOffset();
      expect(await runtimeInfo(asyncMaster)).toMatchObject({
        haRole: "ASYNC_MASTER",
        haSlaveCount: "1",
        haInSyncSlaveCount: "1",
        haMasterPutWhere: String(putWhere),
        haSlaveAckOffset: String(acked),
        haSlaveFallBehindBytes: String(putWhere - acked),
      });
    } finally {
      socket.destroy();
      await asyncMaster.destroy();
    }
  });

  test("a slave given haMasterAddress replicates without a namesrv; as SYNC_FLUSH it fsyncs and moves its checkpoint", async () => {
    const asyncMaster = await startTestBroker({ overrides: { brokerName: "broker-pair" } });
    const pairSlave = await startTestBroker({
      overrides: { brokerName: "broker-pair", brokerRole: "SLAVE", brokerId: 1, flushDiskType: "SYNC_FLUSH", haMasterAddress: `127.0.0.1:${asyncMaster.broker.haPort}` },
    });
    try {
      const sentAfterMs = Date.now();
      for (let i = 0; i < 5; i++) expect((await call(asyncMaster, sendRequest(TOPIC, `pair-${i}`))).code).toBe(ResponseCode.SUCCESS);
      const end = asyncMaster.broker.store.getMaxPhyOffset();
      await pollUntil(() => pairSlave.broker.store.getMaxPhyOffset() === end);
      // Nothing waits for an fsync on a slave; the replicated bytes are still made durable.
      await pollUntil(() => pairSlave.broker.store.getFlushedPhyOffset() === end);
      await pairSlave.stop();
      // Checkpoint bytes 0..7: int64 physicMsgTimestamp, the store time of the newest durable record.
      const checkpoint = fs.readFileSync(path.join(pairSlave.dir, "checkpoint"));
      expect(Number(checkpoint.readBigInt64BE(0))).toBeGreaterThanOrEqual(sentAfterMs);
    } finally {
      await pairSlave.destroy();
      await asyncMaster.destroy();
    }
  });

  test("GET_ALL_TOPIC_CONFIG goes to the master's VIP port, listenPort - 2 (Java brokerVIPChannel)", () => {
    expect(vipChannelAddr("10.0.0.1:10911")).toBe("10.0.0.1:10909");
    expect(vipChannelAddr("10.0.0.1:2")).toBe("10.0.0.1:2");
    expect(vipChannelAddr("no-port")).toBe("no-port");
  });

  test("UPDATE_BROKER_CONFIG cannot change brokerRole or brokerId of a running broker", async () => {
    const update = RemotingCommand.request(RequestCode.UPDATE_BROKER_CONFIG, {}, new TextEncoder().encode("brokerRole=SLAVE\nbrokerId=3\n"));
    const r = await call(lone, update);
    expect(r.code).toBe(ResponseCode.NO_PERMISSION);
    expect(lone.broker.config.brokerRole).toBe("SYNC_MASTER");
    expect(lone.broker.config.brokerId).toBe(0);
  });

  test("a SLAVE with brokerId 0 does not start", async () => {
    const dir = makeTempDir("tsmq-ha-bad-");
    try {
      await expect(startTestBroker({ dir, overrides: { brokerRole: "SLAVE", brokerId: 0 } })).rejects.toThrow("brokerId > 0");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
