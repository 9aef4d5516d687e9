// SYNC_MASTER against a slave running in a real subprocess: frozen with SIGSTOP the slave keeps its
// connection but stops acknowledging (FLUSH_SLAVE_TIMEOUT); stopped, it is gone (SLAVE_NOT_AVAILABLE).
import { afterEach, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { MessageInner } from "../../../src/common/message.ts";
import { HAService } from "../../../src/store/ha/ha-service.ts";
import { DEFAULT_HA_CONFIG } from "../../../src/store/ha/ha-types.ts";
import { MessageStore } from "../../../src/store/message-store.ts";
import { DEFAULT_STORE_CONFIG } from "../../../src/store/store-config.ts";
import { waitUntil } from "../../wait-until.ts";
import { messageInner } from "../store-fixtures.ts";

const SEGMENT_SIZE_BYTES = 64 * 1024;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});


function message(i: number): MessageInner {
  return messageInner({ topic: "SyncTopic", body: new TextEncoder().encode(`sync message ${i}`), properties: { TAGS: "t" }, tagsCode: 0, bornTimestamp: Date.now() });
}

test("frozen slave process: FLUSH_SLAVE_TIMEOUT; resumed: PUT_OK; stopped: SLAVE_NOT_AVAILABLE", async () => {
  const masterRoot = fs.mkdtempSync(path.join(os.tmpdir(), "tsmq-ha-master-"));
  const slaveRoot = fs.mkdtempSync(path.join(os.tmpdir(), "tsmq-ha-slave-"));
  cleanups.push(() => {
    fs.rmSync(masterRoot, { recursive: true, force: true });
    fs.rmSync(slaveRoot, { recursive: true, force: true });
  });
  const master = new MessageStore({ ...DEFAULT_STORE_CONFIG, storePathRootDir: masterRoot, brokerRole: "SYNC_MASTER", mappedFileSizeCommitLog: SEGMENT_SIZE_BYTES });
  expect(await master.load()).toBe(true);
  await master.start();
  cleanups.push(() => master.shutdown());
  const ha = new HAService(master, { ...DEFAULT_HA_CONFIG, haListenPort: 0, mappedFileSizeCommitLog: SEGMENT_SIZE_BYTES }, "SYNC_MASTER", {
    listenHostname: "127.0.0.1",
  });
  const port = ha.start();
  cleanups.push(() => ha.shutdown());

  const slave = Bun.spawn(["bun", path.join(import.meta.dir, "slave-process.fixture.ts"), slaveRoot, `127.0.0.1:${port}`, String(SEGMENT_SIZE_BYTES)], {
    stdout: "ignore",
    stderr: "inherit",
  });
  cleanups.push(async () => {
    slave.kill("SIGCONT");
    slave.kill("SIGKILL");
    await slave.exited;
  });
  await waitUntil("slave connected and reported", () => ha.getRuntimeInfo().haConnectionInfo[0]?.slaveAckOffset === 0);

  const put = async (i: number) => {
    const result = await master.putMessage(message(i));
    expect(result.status).toBe("PUT_OK");
    return result.wroteOffset + result.wroteBytes;
  };
  expect(await ha.waitForSlaveAck(await put(0), 3_000)).toBe("PUT_OK");

  slave.kill("SIGSTOP");
  const frozenAt = await put(1);
  expect(await ha.waitForSlaveAck(frozenAt, 300)).toBe("FLUSH_SLAVE_TIMEOUT");
  expect(ha.connectionCount()).toBe(1);

  slave.kill("SIGCONT");
  expect(await ha.waitForSlaveAck(await put(2), 3_000)).toBe("PUT_OK");
  expect(ha.getPush2SlaveMaxOffset()).toBe(master.getMaxPhyOffset());

  slave.kill("SIGTERM");
  expect(await slave.exited).toBe(0);
  await waitUntil("master noticed", () => ha.connectionCount() === 0);
  expect(await ha.waitForSlaveAck(await put(3), 3_000)).toBe("SLAVE_NOT_AVAILABLE");
});
