import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { Prop, SysFlag, tagsHashCode } from "../../src/common/message.ts";
import { decodeOffsetMsgId } from "../../src/common/message-codec.ts";
import { humanReadableBytes, MessageStore } from "../../src/store/message-store.ts";
import type { GetMessageStatus } from "../../src/store/store-types.ts";
import { bodyOf, message, messageBatch, smallStoreConfig, useTempStores } from "./store-fixtures.ts";

const stores = useTempStores();


async function putN(s: MessageStore, topic: string, queueId: number, n: number, tag = "A"): Promise<void> {
  for (let i = 0; i < n; i++) {
    const r = await s.putMessage(message(topic, queueId, `${topic}-${queueId}-${i}`, { TAGS: tag, KEYS: `key${i}` }));
    expect(r.status).toBe("PUT_OK");
  }
}

describe("MessageStore getMessage statuses and nextBeginOffset", () => {
  test("table of RocketMQ cases", async () => {
    const s = await stores.open({ maxTransferCountOnMessageInMemory: 4 });
    await putN(s, "T", 0, 6, "A");
    await putN(s, "T", 1, 3, "B");
    const tagA = tagsHashCode("A");
    const onlyA = (code: number) => code === tagA;
    const cases: Array<{ name: string; queueId: number; offset: number; max: number; filter?: (c: number) => boolean; status: GetMessageStatus; next: number; count: number }> = [
      { name: "unknown queue", queueId: 7, offset: 3, max: 32, status: "NO_MATCHED_LOGIC_QUEUE", next: 0, count: 0 },
      { name: "found, limited by maxMsgNums", queueId: 0, offset: 1, max: 2, status: "FOUND", next: 3, count: 2 },
      { name: "found, limited by maxTransferCountOnMessageInMemory=4", queueId: 0, offset: 0, max: 32, status: "FOUND", next: 4, count: 4 },
      { name: "offset == max", queueId: 0, offset: 6, max: 32, status: "OFFSET_OVERFLOW_ONE", next: 6, count: 0 },
      { name: "offset > max", queueId: 0, offset: 40, max: 32, status: "OFFSET_OVERFLOW_BADLY", next: 6, count: 0 },
      { name: "tag filter matches nothing: scanned entries are skipped", queueId: 1, offset: 0, max: 32, filter: onlyA, status: "NO_MATCHED_MESSAGE", next: 3, count: 0 },
      { name: "tag filter matches", queueId: 0, offset: 4, max: 32, filter: onlyA, status: "FOUND", next: 6, count: 2 },
    ];
    for (const c of cases) {
      const r = s.getMessage("g", "T", c.queueId, c.offset, c.max, c.filter);
      expect({ name: c.name, status: r.status, next: r.nextBeginOffset, count: r.messages.length }).toEqual({ name: c.name, status: c.status, next: c.next, count: c.count });
    }
    const r = s.getMessage("g", "T", 0, 4, 32);
    expect(r.minOffset).toBe(0);
    expect(r.maxOffset).toBe(6);
    expect(r.messages.map(bodyOf)).toEqual(["T-0-4", "T-0-5"]);
    expect(r.bufferTotalSizeBytes).toBe(r.messages[0]!.byteLength + r.messages[1]!.byteLength);
    expect(r.suggestPullingFromSlave).toBe(false);
  });

  test("commit-log segment gone under a live queue: MESSAGE_WAS_REMOVING; queue segment gone: OFFSET_FOUND_NULL", async () => {
    const s = await stores.open();
    await putN(s, "T", 0, 45); // ~120-byte records: commit-log segment 0 holds the first ~30
    const firstSegmentEnd = 4096;
    expect(s.getCommitLogOffsetInQueue("T", 0, 9)).toBeLessThan(firstSegmentEnd);
    // Delete the oldest commit-log segment without the consume-queue cleanup that normally follows.
    expect(s.commitLog.queue.deleteFilesBeforeOffset(firstSegmentEnd)).toBe(1);
    const removing = s.getMessage("g", "T", 0, 0, 32);
    expect(removing.status).toBe("MESSAGE_WAS_REMOVING");
    expect(removing.nextBeginOffset).toBe(10); // the whole consume-queue segment was scanned
    // Now drop consume-queue segment 0 without correcting the queue's minimum.
    const cq = s.getConsumeQueue("T", 0)!;
    expect(cq.files.deleteFilesBeforeOffset(10 * 20)).toBe(1);
    const gone = s.getMessage("g", "T", 0, 3, 32);
    expect(gone.status).toBe("OFFSET_FOUND_NULL");
    expect(gone.nextBeginOffset).toBe(10); // first offset of the next consume-queue segment
  });

  test("maxTransferBytesOnMessageInMemory caps the batch after the first message", async () => {
    const s = await stores.open({ maxTransferBytesOnMessageInMemory: 200 });
    await putN(s, "T", 0, 5);
    const r = s.getMessage("g", "T", 0, 0, 32);
    expect(r.messages.length).toBe(1); // one record is ~120 bytes; a second would pass 200
    expect(r.nextBeginOffset).toBe(1);
  });

  test("data outside the in-memory window: in-disk limits (8 messages) and suggestPullingFromSlave", async () => {
    const s = await stores.open({ accessMessageInMemoryMaxRatio: 0, mappedFileSizeConsumeQueue: 100 * 20 });
    await putN(s, "T", 0, 12);
    const r = s.getMessage("g", "T", 0, 0, 32);
    expect(r.messages.length).toBe(8);
    expect(r.nextBeginOffset).toBe(8);
    expect(r.suggestPullingFromSlave).toBe(true);
    expect(s.checkInDiskByConsumeOffset("T", 0, 0)).toBe(true);
  });

  test("a pull stops at the end of a consume-queue segment", async () => {
    const s = await stores.open();
    await putN(s, "T", 0, 15);
    const r = s.getMessage("g", "T", 0, 7, 32);
    expect(r.messages.map(bodyOf)).toEqual(["T-0-7", "T-0-8", "T-0-9"]); // segments hold 10 entries
    expect(r.nextBeginOffset).toBe(10);
  });
});

describe("MessageStore put paths", () => {
  test("queue offsets are dense per queue; lookups by offset, msgId, time and key", async () => {
    const s = await stores.open();
    const r0 = await s.putMessage(message("T", 0, "a", { KEYS: "order-1 order-2", UNIQ_KEY: "UNIQ0" }));
    const r1 = await s.putMessage(message("T", 1, "b"));
    const r2 = await s.putMessage(message("T", 0, "c", { KEYS: "order-2" }));
    expect([r0.queueOffset, r1.queueOffset, r2.queueOffset]).toEqual([0, 0, 1]);
    expect(decodeOffsetMsgId(r2.msgId)).toEqual({ address: "127.0.0.1:10911", offset: r2.wroteOffset });
    expect(s.getMaxOffsetInQueue("T", 0)).toBe(2);
    expect(s.getMinOffsetInQueue("T", 0)).toBe(0);
    expect(s.getMinOffsetInQueue("nope", 0)).toBe(-1);
    expect(s.getCommitLogOffsetInQueue("T", 0, 1)).toBe(r2.wroteOffset);
    expect(s.lookMessageByOffset(r2.wroteOffset)!.queueOffset).toBe(1);
    expect(bodyOf(s.selectOneMessageByOffset(r1.wroteOffset)!)).toBe("b");
    expect(s.getMessageStoreTimeStamp("T", 0, 1)).toBe(r2.storeTimestamp);
    expect(s.getEarliestMessageTime("T", 0)).toBe(r0.storeTimestamp);
    expect(s.getOffsetInQueueByTime("T", 0, r2.storeTimestamp + 60_000)).toBe(1);
    expect(s.getOffsetInQueueByTime("T", 0, 0)).toBe(0);
    const q = s.queryMessage("T", "order-2", 32, 0, Date.now() + 1000);
    expect(q.messages.map(bodyOf)).toEqual(["a", "c"]);
    expect(s.queryMessage("T", "UNIQ0", 32, 0, Date.now() + 1000).messages.map(bodyOf)).toEqual(["a"]);
    expect(q.indexLastUpdatePhyoffset).toBe(r2.wroteOffset);
    expect(s.getRuntimeInfo().commitLogMaxOffset).toBe(String(s.getMaxPhyOffset()));
  });

  test("batch gets consecutive offsets; delayed batch is illegal", async () => {
    const s = await stores.open();
    const r = await s.putMessages(messageBatch([message("B", 2, "x"), message("B", 2, "y", { UNIQ_KEY: "UY", KEYS: "ky" }), message("B", 2, "z")]));
    expect(r.status).toBe("PUT_OK");
    expect(r.msgNum).toBe(3);
    expect(s.getMessage("g", "B", 2, 0, 32).messages.map(bodyOf)).toEqual(["x", "y", "z"]);
    // Members are indexed by their own UNIQ_KEY and KEYS.
    expect(s.queryMessage("B", "UY", 32, 0, Date.now() + 1000).messages.map(bodyOf)).toEqual(["y"]);
    expect(s.queryMessage("B", "ky", 32, 0, Date.now() + 1000).messages.map(bodyOf)).toEqual(["y"]);
    const bad = await s.putMessages(messageBatch([message("B", 2, "d", { [Prop.DELAY]: "2" })]));
    expect(bad.status).toBe("MESSAGE_ILLEGAL");
  });

  test("a delayed message goes to SCHEDULE_TOPIC_XXXX with its delivery time as tags code", async () => {
    const s = await stores.open({ messageDelayLevel: "1s 5s 10s" });
    const r = await s.putMessage(message("Real", 3, "later", { [Prop.DELAY]: "9" })); // clamped to level 3
    expect(r.status).toBe("PUT_OK");
    expect(s.getMaxOffsetInQueue("Real", 3)).toBe(0);
    const entry = s.getConsumeQueueEntry("SCHEDULE_TOPIC_XXXX", 2, 0)!;
    expect(entry.tagsCode).toBe(r.storeTimestamp + 10_000);
    const stored = s.lookMessageByOffset(entry.commitLogOffset)!;
    expect(stored.properties[Prop.REAL_TOPIC]).toBe("Real");
    expect(stored.properties[Prop.REAL_QID]).toBe("3");
    expect(stored.properties[Prop.DELAY]).toBe("3");
  });

  test("prepared and rollback records are not in consume queues; commit records are", async () => {
    const s = await stores.open();
    const prepared = { ...message("Tx", 0, "half"), sysFlag: SysFlag.TRANSACTION_PREPARED_TYPE };
    const rollback = { ...message("Tx", 0, "rb"), sysFlag: SysFlag.TRANSACTION_ROLLBACK_TYPE };
    const commit = { ...message("Tx", 0, "ok"), sysFlag: SysFlag.TRANSACTION_COMMIT_TYPE };
    expect((await s.putMessage(prepared)).queueOffset).toBe(0);
    await s.putMessage(rollback);
    expect((await s.putMessage(commit)).queueOffset).toBe(0);
    expect(s.getMessage("g", "Tx", 0, 0, 32).messages.map(bodyOf)).toEqual(["ok"]);
  });

  test("the arriving listener sees each dispatched message with the new max offset", async () => {
    const s = await stores.open();
    const seen: string[] = [];
    s.setMessageArrivingListener((topic, queueId, logicOffset, tagsCode) => seen.push(`${topic}/${queueId}/${logicOffset}/${tagsCode}`));
    await putN(s, "L", 1, 2, "A");
    expect(seen).toEqual([`L/1/1/${tagsHashCode("A")}`, `L/1/2/${tagsHashCode("A")}`]);
    // A batch is one run on one queue: one notice past its last message, no single tags code.
    seen.length = 0;
    expect((await s.putMessages(messageBatch([message("L", 1, "x"), message("L", 1, "y")]))).status).toBe("PUT_OK");
    expect(seen).toEqual(["L/1/4/undefined"]);
  });

  test("disk above 90% refuses writes with SERVICE_NOT_AVAILABLE and a reason", async () => {
    let ratio = 0.95;
    const s = await stores.open({}, { diskUsedRatio: () => ratio });
    const r = await s.putMessage(message("T", 0, "x"));
    expect(r.status).toBe("SERVICE_NOT_AVAILABLE");
    expect(r.remark).toContain("disk is full");
    ratio = 0.5;
    s.runCleanup();
    expect((await s.putMessage(message("T", 0, "x"))).status).toBe("PUT_OK");
  });

  test("deleteTopics and cleanUnusedTopic drop queues and offsets", async () => {
    const s = await stores.open();
    await putN(s, "Keep", 0, 2);
    await putN(s, "Drop", 0, 2);
    await putN(s, "Old", 0, 2);
    s.deleteTopics(new Set(["Drop"]));
    expect(s.getMessage("g", "Drop", 0, 0, 32).status).toBe("NO_MATCHED_LOGIC_QUEUE");
    expect(fs.existsSync(path.join(stores.root, "consumequeue", "Drop"))).toBe(false);
    s.cleanUnusedTopic(new Set(["Keep"]));
    expect(s.getMaxOffsetInQueue("Old", 0)).toBe(0);
    expect(s.getMaxOffsetInQueue("Keep", 0)).toBe(2);
    expect((await s.putMessage(message("Drop", 0, "again"))).queueOffset).toBe(0);
  });

  test("slave stores refuse puts", async () => {
    const s = await stores.open({ brokerRole: "SLAVE" });
    const r = await s.putMessage(message("T", 0, "x"));
    expect(r.status).toBe("SERVICE_NOT_AVAILABLE");
    expect(r.remark).toContain("slave");
  });
});

describe("MessageStore load", () => {
  test("a second store on a live store's directory is refused before it reads or recovers anything", async () => {
    const live = await stores.open();
    await putN(live, "T", 0, 12);
    const cqFile = path.join(stores.root, "consumequeue", "T", "0", "00000000000000000000");
    const cqBefore = fs.readFileSync(cqFile);
    const second = stores.track(new MessageStore(smallStoreConfig(stores.root)));
    expect(await second.load()).toBe(false);
    // Nothing was opened: the second store saw no commit log and truncated no consume queue.
    expect(second.getMaxPhyOffset()).toBe(0);
    expect(second.getConsumeQueue("T", 0)).toBeUndefined();
    expect(fs.readFileSync(cqFile)).toEqual(cqBefore);
    expect((await live.putMessage(message("T", 0, "still served"))).queueOffset).toBe(12);
  });

  test("clean shutdown and reload keeps reads and continues queue offsets", async () => {
    const s = await stores.open();
    await putN(s, "T", 0, 30);
    await s.shutdown();
    expect(fs.existsSync(path.join(stores.root, "abort"))).toBe(false);
    const again = await stores.open();
    const r = again.getMessage("g", "T", 0, 20, 32);
    expect(r.messages.map(bodyOf)).toEqual(Array.from({ length: 10 }, (_, i) => `T-0-${20 + i}`));
    expect((await again.putMessage(message("T", 0, "next"))).queueOffset).toBe(30);
    expect(again.queryMessage("T", "key3", 32, 0, Date.now() + 1000).messages.map(bodyOf)).toEqual(["T-0-3"]);
  });

  test("after a crash (subprocess exits without shutdown) a torn commit-log tail truncates the consume queues", async () => {
    const script = `
      import { MessageStore } from ${JSON.stringify(path.resolve(import.meta.dir, "../../src/store/message-store.ts"))};
      import { message, smallStoreConfig } from ${JSON.stringify(path.resolve(import.meta.dir, "store-fixtures.ts"))};
      const s = new MessageStore(smallStoreConfig(${JSON.stringify(stores.root)}));
      if (!(await s.load())) process.exit(2);
      await s.start();
      for (let i = 0; i < 12; i++) await s.putMessage(message("T", 0, "T-0-" + i, { TAGS: "A", KEYS: "crash" + i }));
      await s.putMessage(message("Last", 0, "only", { TAGS: "A" }));
      process.exit(0); // no shutdown: abort file stays, like kill -9
    `;
    const proc = Bun.spawn([process.execPath, "-e", script], { stdout: "inherit", stderr: "inherit" });
    expect(await proc.exited).toBe(0);
    expect(fs.existsSync(path.join(stores.root, "abort"))).toBe(true);

    // Tear the commit log after T-0-10: zero the last three records (T-0-11 and Last-0).
    const clDir = path.join(stores.root, "commitlog");
    const probe = stores.track(new MessageStore(smallStoreConfig(stores.root)));
    expect(await probe.load()).toBe(true); // abnormal recovery; nothing torn yet
    const cut = probe.getCommitLogOffsetInQueue("T", 0, 11);
    expect(probe.getMaxOffsetInQueue("Last", 0)).toBe(1);
    await probe.shutdown();
    stores.untrackAll();
    fs.writeFileSync(path.join(stores.root, "abort"), "");
    const segment = path.join(clDir, String(cut - (cut % 4096)).padStart(20, "0"));
    const fd = fs.openSync(segment, "r+");
    fs.writeSync(fd, new Uint8Array(200), 0, 200, cut % 4096); // zeroes: not a record
    fs.closeSync(fd);

    const s = await stores.open();
    expect(s.getMaxPhyOffset()).toBe(cut);
    expect(s.getMaxOffsetInQueue("T", 0)).toBe(11);
    expect(s.getMessage("g", "T", 0, 10, 32).messages.map(bodyOf)).toEqual(["T-0-10"]);
    expect(s.getMessage("g", "T", 0, 11, 32).status).toBe("OFFSET_OVERFLOW_ONE");
    const last = s.getMessage("g", "Last", 0, 0, 32);
    expect(last.status).toBe("NO_MESSAGE_IN_QUEUE");
    expect(last.nextBeginOffset).toBe(0);
    // The index was dropped (newer than the checkpoint) and rebuilt by re-dispatch.
    expect(s.queryMessage("T", "crash3", 32, 0, Date.now() + 1000).messages.map(bodyOf)).toEqual(["T-0-3"]);
    expect(s.queryMessage("T", "crash11", 32, 0, Date.now() + 1000).messages).toEqual([]); // torn away
    // New puts continue from the truncated offsets.
    expect((await s.putMessage(message("T", 0, "again"))).queueOffset).toBe(11);
    expect(s.getMessage("g", "T", 0, 11, 32).messages.map(bodyOf)).toEqual(["again"]);
  });
});

describe("humanReadableBytes (Java MixAll.humanReadableByteCount, binary units)", () => {
  test("bytes below 1 KiB as is, then one decimal of the largest unit", () => {
    // Apache 4.9.7 brokerStatus: "remainHowManyDataToFlush : 2.1 KiB" for 2120 bytes, "Total : 252.0 GiB".
    expect([humanReadableBytes(0), humanReadableBytes(1023), humanReadableBytes(2120), humanReadableBytes(252 * 1024 ** 3)]).toEqual(["0 B", "1023 B", "2.1 KiB", "252.0 GiB"]);
  });
});
