// A slave's commit log may end inside a record (master frames split records): dispatch must wait
// for the rest instead of skipping it, and the message becomes visible once complete.
import { afterEach, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { MessageInner } from "../../../src/common/message.ts";
import { MessageStore } from "../../../src/store/message-store.ts";
import { DEFAULT_STORE_CONFIG, type BrokerRole } from "../../../src/store/store-config.ts";
import { messageInner } from "../store-fixtures.ts";

const stores: MessageStore[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.shutdown();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

async function openStore(role: BrokerRole): Promise<MessageStore> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "tsmq-ha-dispatch-"));
  dirs.push(root);
  const store = new MessageStore({ ...DEFAULT_STORE_CONFIG, storePathRootDir: root, brokerRole: role, mappedFileSizeCommitLog: 64 * 1024 });
  expect(await store.load()).toBe(true);
  await store.start();
  stores.push(store);
  return store;
}

function message(i: number): MessageInner {
  return messageInner({ topic: "SplitTopic", body: new TextEncoder().encode(`split record ${i}`), properties: { TAGS: "t" }, tagsCode: 0 });
}

test("records split across appends are dispatched once complete", async () => {
  const master = await openStore("ASYNC_MASTER");
  const slave = await openStore("SLAVE");
  for (let i = 0; i < 2; i++) expect((await master.putMessage(message(i))).status).toBe("PUT_OK");
  const bytes = master.getCommitLogData(0)!;
  const firstRecordSize = new DataView(bytes.buffer, bytes.byteOffset).getInt32(0);

  // First record whole plus 5 bytes of the second (less than its 8-byte size+magic prefix).
  const cut1 = firstRecordSize + 5;
  // Then everything but the last 10 bytes of the second record.
  const cut2 = bytes.length - 10;
  expect(slave.appendToCommitLog(0, bytes.subarray(0, cut1))).toBe(true);
  expect(slave.getMaxOffsetInQueue("SplitTopic", 0)).toBe(1);
  expect(slave.appendToCommitLog(cut1, bytes.subarray(cut1, cut2))).toBe(true);
  slave.dispatchPending();
  expect(slave.getMaxOffsetInQueue("SplitTopic", 0)).toBe(1);
  expect(slave.dispatchBehindBytes()).toBe(cut2 - firstRecordSize); // the incomplete second record waits

  expect(slave.appendToCommitLog(cut2, bytes.subarray(cut2))).toBe(true);
  expect(slave.getMaxOffsetInQueue("SplitTopic", 0)).toBe(2);
  expect(slave.dispatchBehindBytes()).toBe(0);
  const got = slave.getMessage("g", "SplitTopic", 0, 0, 10);
  expect(got.messages.map((record) => Bun.hash(record))).toEqual(master.getMessage("g", "SplitTopic", 0, 0, 10).messages.map((record) => Bun.hash(record)));
});

test("appends that do not continue the log are refused", async () => {
  const slave = await openStore("SLAVE");
  const bytes = new Uint8Array(100); // content irrelevant: refused before writing
  expect(slave.appendToCommitLog(10, bytes)).toBe(false); // empty log: only a segment start
  expect(slave.appendToCommitLog(64 * 1024, bytes)).toBe(true); // an empty slave may start at a later segment
  expect(slave.appendToCommitLog(64 * 1024, bytes)).toBe(false); // not the end any more
  expect(slave.appendToCommitLog(64 * 1024 + 100, new Uint8Array(64 * 1024))).toBe(false); // would cross the segment end
  expect(slave.getMaxPhyOffset()).toBe(64 * 1024 + 100);
});
