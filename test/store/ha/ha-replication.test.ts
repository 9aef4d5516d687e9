// Master/slave replication over real TCP between two commit logs in temp dirs. Segments are 64 KiB
// so the stream crosses many segment ends (blank records included).
import { afterEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { MessageInner } from "../../../src/common/message.ts";
import { CommitLog } from "../../../src/store/commit-log.ts";
import { encodeOffsetReport, encodeTransferHeader } from "../../../src/store/ha/ha-codec.ts";
import { HAService } from "../../../src/store/ha/ha-service.ts";
import { DEFAULT_HA_CONFIG, type HAConfig, type HAStore } from "../../../src/store/ha/ha-types.ts";
import { DEFAULT_STORE_CONFIG, type BrokerRole, type StoreConfig } from "../../../src/store/store-config.ts";
import type { PutMessageResult } from "../../../src/store/store-types.ts";
import { waitUntil } from "../../wait-until.ts";
import { messageInner } from "../store-fixtures.ts";

const SEGMENT_SIZE_BYTES = 64 * 1024;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});


function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsmq-ha-"));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A commit log seen through the HAStore contract (what MessageStore provides). */
class Node {
  readonly config: StoreConfig;
  commitLog!: CommitLog;
  private readonly queueOffsets = new Map<string, number>();

  constructor(readonly root: string) {
    this.config = { ...DEFAULT_STORE_CONFIG, storePathRootDir: root, mappedFileSizeCommitLog: SEGMENT_SIZE_BYTES };
    this.open();
  }

  open(): void {
    this.commitLog = new CommitLog(this.config, path.join(this.root, "commitlog"));
    this.commitLog.load();
    this.commitLog.recoverNormally();
    this.commitLog.start();
  }

  async close(): Promise<void> {
    await this.commitLog.shutdown();
  }

  haStore(): HAStore {
    return {
      getMaxPhyOffset: () => this.commitLog.getMaxOffset(),
      getMinPhyOffset: () => this.commitLog.getMinOffset(),
      getCommitLogData: (offset) => this.commitLog.readRegion(offset),
      appendToCommitLog: (offset, bytes) => this.commitLog.appendData(offset, bytes),
    };
  }

  async put(i: number): Promise<{ nextOffset: number }> {
    const result = await this.commitLog.putMessage(message(i), (topic, queueId, count) => {
      const key = `${topic}-${queueId}`;
      const first = this.queueOffsets.get(key) ?? 0;
      this.queueOffsets.set(key, first + count);
      return first;
    });
    expect(result.status).toBe("PUT_OK");
    return { nextOffset: result.wroteOffset + result.wroteBytes };
  }

  /**
   * Segment name -> bytes, read from disk. Without the spare segment prepared ahead of need (all
   * zeros, after the last written one; each side has it or not depending on timing) or its temporary file.
   */
  segments(): Map<string, Uint8Array> {
    const dir = path.join(this.root, "commitlog");
    const names = fs.readdirSync(dir).filter((name) => /^\d{20}$/.test(name)).sort();
    const segments = names.map((name): [string, Uint8Array] => [name, new Uint8Array(fs.readFileSync(path.join(dir, name)))]);
    while (segments.length > 0 && segments[segments.length - 1]![1].every((b) => b === 0)) segments.pop();
    return new Map(segments);
  }
}

function message(i: number): MessageInner {
  const body = new Uint8Array(40 + ((i * 37) % 300)); // 40..339 bytes: records end at odd places
  for (let j = 0; j < body.length; j++) body[j] = (i + j) & 0xff;
  return messageInner({
    topic: `topic-${i % 4}`,
    queueId: i % 2,
    body,
    properties: { TAGS: `tag${i % 3}`, KEYS: `key-${i}` },
    tagsCode: 0,
    bornTimestamp: 1_700_000_000_000 + i,
    bornHost: "127.0.0.1:40000",
  });
}

function haConfig(overrides: Partial<HAConfig> = {}): HAConfig {
  return { ...DEFAULT_HA_CONFIG, haListenPort: 0, mappedFileSizeCommitLog: SEGMENT_SIZE_BYTES, ...overrides };
}

function node(): Node {
  const created = new Node(tempDir());
  cleanups.push(() => created.close());
  return created;
}

function startHA(store: HAStore, role: BrokerRole, config: HAConfig): { service: HAService; port: number } {
  const service = new HAService(store, config, role, { listenHostname: "127.0.0.1" });
  const port = service.start();
  cleanups.push(() => service.shutdown());
  return { service, port };
}

async function putMany(master: Node, ha: HAService, from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i++) {
    await master.put(i);
    if (i % 100 === 0) ha.notifyAppended();
  }
  ha.notifyAppended();
}

function expectSameSegments(master: Node, slave: Node, fromSegment?: string): void {
  const masterSegments = [...master.segments()].filter(([name]) => fromSegment === undefined || name >= fromSegment);
  const slaveSegments = [...slave.segments()];
  expect(slaveSegments.map(([name]) => name)).toEqual(masterSegments.map(([name]) => name));
  for (let i = 0; i < masterSegments.length; i++) {
    expect(Bun.hash(slaveSegments[i]![1])).toBe(Bun.hash(masterSegments[i]![1]));
  }
}

describe("replication", () => {
  test("10,000 messages: the slave's commit log is byte-identical across segments", async () => {
    const master = node();
    const slave = node();
    const { service: masterHA, port } = startHA(master.haStore(), "ASYNC_MASTER", haConfig());
    const { service: slaveHA } = startHA(slave.haStore(), "SLAVE", haConfig({ haMasterAddress: `127.0.0.1:${port}` }));
    // The slave reports 0 while the master is still empty, so it is fed from offset 0.
    await waitUntil("slave report", () => masterHA.getRuntimeInfo().haConnectionInfo[0]?.slaveAckOffset === 0);

    await putMany(master, masterHA, 0, 10_000);
    const end = master.commitLog.getMaxOffset();
    expect(end).toBeGreaterThan(20 * SEGMENT_SIZE_BYTES);
    await waitUntil("slave caught up", () => slave.commitLog.getMaxOffset() === end);
    await waitUntil("master saw the ack", () => masterHA.getPush2SlaveMaxOffset() === end);
    expectSameSegments(master, slave);

    const info = masterHA.getRuntimeInfo();
    expect(info.master).toBe(true);
    expect(info.inSyncSlaveNums).toBe(1);
    expect(info.haConnectionInfo[0]).toMatchObject({ slaveAckOffset: end, diff: 0, inSync: true, transferFromWhere: end });
    expect(masterHA.slaveFallBehindMuch()).toBe(0);
    expect(slaveHA.getRuntimeInfo().haClientRuntimeInfo).toMatchObject({ masterAddr: `127.0.0.1:${port}`, maxOffset: end, isActivated: true });
  });

  test("an empty slave joining late starts at the master's last segment", async () => {
    const master = node();
    const { service: masterHA, port } = startHA(master.haStore(), "ASYNC_MASTER", haConfig());
    await putMany(master, masterHA, 0, 1_000);
    const end = master.commitLog.getMaxOffset();
    const lastSegmentStart = end - (end % SEGMENT_SIZE_BYTES);
    expect(lastSegmentStart).toBeGreaterThan(0);

    const slave = node();
    startHA(slave.haStore(), "SLAVE", haConfig({ haMasterAddress: `127.0.0.1:${port}` }));
    await waitUntil("slave caught up", () => slave.commitLog.getMaxOffset() === end);
    expect(slave.commitLog.getMinOffset()).toBe(lastSegmentStart);
    expectSameSegments(master, slave, String(lastSegmentStart).padStart(20, "0"));
  });

  test("a restarted slave catches up from its own offset", async () => {
    const master = node();
    const slave = node();
    const { service: masterHA, port } = startHA(master.haStore(), "ASYNC_MASTER", haConfig());
    const slaveConfig = haConfig({ haMasterAddress: `127.0.0.1:${port}` });
    const first = new HAService(slave.haStore(), slaveConfig, "SLAVE");
    first.start();
    await waitUntil("slave report", () => masterHA.connectionCount() === 1);
    await putMany(master, masterHA, 0, 5_000);
    const half = master.commitLog.getMaxOffset();
    await waitUntil("first half replicated", () => slave.commitLog.getMaxOffset() === half);

    first.shutdown();
    await slave.close();
    await waitUntil("master dropped the slave", () => masterHA.connectionCount() === 0);
    await putMany(master, masterHA, 5_000, 5_000);
    const end = master.commitLog.getMaxOffset();

    slave.open(); // recovery runs again on the slave's own files
    expect(slave.commitLog.getMaxOffset()).toBe(half);
    startHA(slave.haStore(), "SLAVE", slaveConfig);
    await waitUntil("slave caught up", () => slave.commitLog.getMaxOffset() === end);
    expectSameSegments(master, slave);
    // Only the missing part travelled: the data plus a 12-byte header per frame of at most 32 KiB.
    const transferred = masterHA.getRuntimeInfo().haConnectionInfo[0]!.transferredBytes;
    const missing = end - half;
    expect(transferred).toBeGreaterThanOrEqual(missing);
    expect(transferred).toBeLessThan(missing + 12 * (Math.ceil(missing / 1024) + 10));
  });
});

/** A raw HA peer speaking the wire format by hand (bytes annotated where built). */
async function rawSlave(port: number, firstReport: number | undefined): Promise<{ socket: Awaited<ReturnType<typeof Bun.connect>>; received: () => Uint8Array; closed: () => boolean }> {
  let buffer = new Uint8Array(0);
  let isClosed = false;
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_socket, chunk) {
        const next = new Uint8Array(buffer.length + chunk.length);
        next.set(buffer);
        next.set(chunk, buffer.length);
        buffer = next;
      },
      close() {
        isClosed = true;
      },
    },
  });
  cleanups.push(() => {
    socket.end();
  });
  if (firstReport !== undefined) socket.write(encodeOffsetReport(firstReport));
  return { socket, received: () => buffer, closed: () => isClosed };
}

describe("SYNC_MASTER acknowledgement", () => {
  test("SLAVE_NOT_AVAILABLE without a slave", async () => {
    const master = node();
    const { service } = startHA(master.haStore(), "SYNC_MASTER", haConfig());
    const { nextOffset } = await master.put(0);
    expect(await service.waitForSlaveAck(nextOffset, 1_000)).toBe("SLAVE_NOT_AVAILABLE");
  });

  test("PUT_OK only once the slave has applied the bytes; many waiters, one ack", async () => {
    const master = node();
    const slave = node();
    const { service: masterHA, port } = startHA(master.haStore(), "SYNC_MASTER", haConfig());
    startHA(slave.haStore(), "SLAVE", haConfig({ haMasterAddress: `127.0.0.1:${port}` }));
    await waitUntil("slave report", () => masterHA.getRuntimeInfo().haConnectionInfo[0]?.slaveAckOffset === 0);
    const waits: Array<Promise<void>> = [];
    for (let i = 0; i < 200; i++) {
      const { nextOffset } = await master.put(i);
      waits.push(
        masterHA.waitForSlaveAck(nextOffset, 5_000).then((status) => {
          expect(status).toBe("PUT_OK");
          expect(slave.commitLog.getMaxOffset()).toBeGreaterThanOrEqual(nextOffset);
        }),
      );
    }
    await Promise.all(waits);
  });

  test("FLUSH_SLAVE_TIMEOUT when the connected slave stops acknowledging", async () => {
    const master = node();
    const { service: masterHA, port } = startHA(master.haStore(), "SYNC_MASTER", haConfig());
    await master.put(0);
    const stuck = await rawSlave(port, master.commitLog.getMaxOffset()); // reports once, then never again
    await waitUntil("report seen", () => masterHA.getPush2SlaveMaxOffset() === master.commitLog.getMaxOffset());
    const { nextOffset } = await master.put(1);
    const started = Date.now();
    expect(await masterHA.waitForSlaveAck(nextOffset, 200)).toBe("FLUSH_SLAVE_TIMEOUT");
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(stuck.closed()).toBe(false);
  });

  test("SLAVE_NOT_AVAILABLE once the slave is stopped or lags more than haSlaveFallbehindMax", async () => {
    const master = node();
    const slave = node();
    const { service: masterHA, port } = startHA(master.haStore(), "SYNC_MASTER", haConfig({ haSlaveFallbehindMax: 10_000 }));
    const slaveHA = new HAService(slave.haStore(), haConfig({ haMasterAddress: `127.0.0.1:${port}` }), "SLAVE");
    slaveHA.start();
    await waitUntil("slave report", () => masterHA.connectionCount() === 1);
    const { nextOffset } = await master.put(0);
    expect(await masterHA.waitForSlaveAck(nextOffset, 5_000)).toBe("PUT_OK");
    slaveHA.shutdown();
    await waitUntil("master dropped the slave", () => masterHA.connectionCount() === 0);
    expect(await masterHA.waitForSlaveAck((await master.put(1)).nextOffset, 5_000)).toBe("SLAVE_NOT_AVAILABLE");

    // A connected slave that stays at its first offset while the master runs 10,000 bytes ahead.
    await rawSlave(port, nextOffset);
    await waitUntil("lagging slave connected", () => masterHA.connectionCount() === 1);
    let last = 0;
    for (let i = 2; master.commitLog.getMaxOffset() - nextOffset < 10_000; i++) last = (await master.put(i)).nextOffset;
    expect(await masterHA.waitForSlaveAck(last, 5_000)).toBe("SLAVE_NOT_AVAILABLE");
  });
});

describe("awaitReplication (what the broker calls after a put)", () => {
  const stored: PutMessageResult = { status: "PUT_OK", wroteOffset: 0, wroteBytes: 100, msgId: "", queueOffset: 0, msgNum: 1, storeTimestamp: 0 };

  test("SYNC_MASTER: replication status replaces PUT_OK and FLUSH_DISK_TIMEOUT; WAIT=false skips the wait", async () => {
    const master = node();
    await master.put(0);
    const { service } = startHA(master.haStore(), "SYNC_MASTER", haConfig());
    expect((await service.awaitReplication(stored, true)).status).toBe("SLAVE_NOT_AVAILABLE");
    expect((await service.awaitReplication({ ...stored, status: "FLUSH_DISK_TIMEOUT" }, true)).status).toBe("SLAVE_NOT_AVAILABLE");
    expect((await service.awaitReplication(stored, false)).status).toBe("PUT_OK");
    const failed: PutMessageResult = { ...stored, status: "MESSAGE_ILLEGAL", wroteBytes: 0 };
    expect(await service.awaitReplication(failed, true)).toBe(failed);
  });

  test("ASYNC_MASTER and SLAVE never wait", async () => {
    const master = node();
    await master.put(0);
    const { service: asyncMaster } = startHA(master.haStore(), "ASYNC_MASTER", haConfig());
    expect(await asyncMaster.awaitReplication(stored, true)).toBe(stored);
    const { service: slave } = startHA(node().haStore(), "SLAVE", haConfig());
    expect(await slave.awaitReplication(stored, true)).toBe(stored);
  });
});

describe("HA wire behaviour", () => {
  test("idle master sends heartbeat frames; a silent slave is closed by housekeeping", async () => {
    const master = node();
    await master.put(0);
    const end = master.commitLog.getMaxOffset();
    const { service: masterHA, port } = startHA(master.haStore(), "ASYNC_MASTER", haConfig({ haSendHeartbeatInterval: 50, haHousekeepingInterval: 400 }));
    const peer = await rawSlave(port, end);
    // 12-byte frames, offset = end, size 0
    await waitUntil("two heartbeats", () => peer.received().length >= 24);
    const view = new DataView(peer.received().buffer);
    expect(Number(view.getBigInt64(0))).toBe(end);
    expect(view.getInt32(8)).toBe(0);
    await waitUntil("housekeeping close", () => peer.closed(), 3_000);
    expect(masterHA.connectionCount()).toBe(0);
  });

  test("master closes a slave that claims more than the master has", async () => {
    const master = node();
    await master.put(0);
    const { service: masterHA, port } = startHA(master.haStore(), "ASYNC_MASTER", haConfig());
    const peer = await rawSlave(port, master.commitLog.getMaxOffset() + 1);
    await waitUntil("closed", () => peer.closed());
    expect(masterHA.connectionCount()).toBe(0);
  });

  test("slave drops a stream that does not continue its log, and reconnects", async () => {
    const slave = node();
    await slave.put(0); // the slave's log is not empty: offsets must match exactly
    const slaveEnd = slave.commitLog.getMaxOffset();
    const reports: number[] = [];
    let connections = 0;
    const fakeMaster = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open(socket) {
          connections++;
          socket.write(encodeTransferHeader(slaveEnd + 100, 0)); // heartbeat at the wrong offset
        },
        data(_socket, chunk) {
          for (let i = 0; i + 8 <= chunk.length; i += 8) reports.push(Number(new DataView(chunk.buffer, chunk.byteOffset + i, 8).getBigInt64(0)));
        },
      },
    });
    cleanups.push(() => fakeMaster.stop(true));
    startHA(slave.haStore(), "SLAVE", haConfig({ haMasterAddress: `127.0.0.1:${fakeMaster.port}` }));
    await waitUntil("reconnected", () => connections >= 2, 5_000);
    expect(reports[0]).toBe(slaveEnd);
    expect(slave.commitLog.getMaxOffset()).toBe(slaveEnd);
  });

  test("slave reconnects when the master comes back", async () => {
    const master = node();
    const slave = node();
    const first = new HAService(master.haStore(), haConfig(), "ASYNC_MASTER", { listenHostname: "127.0.0.1" });
    const port = first.start();
    startHA(slave.haStore(), "SLAVE", haConfig({ haMasterAddress: `127.0.0.1:${port}` }));
    await waitUntil("connected", () => first.connectionCount() === 1);
    first.shutdown();
    await putMany(master, first, 0, 100);
    const { service: second } = startHA(master.haStore(), "ASYNC_MASTER", haConfig({ haListenPort: port }));
    await waitUntil("slave caught up after reconnecting", () => slave.commitLog.getMaxOffset() === master.commitLog.getMaxOffset(), 10_000);
    expect(second.connectionCount()).toBe(1);
  });
});
