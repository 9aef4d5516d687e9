import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { SysFlag, tagsHashCode } from "../../src/common/message.ts";
import { encodeRecord } from "../../src/common/message-codec.ts";
import { parseDelayLevels } from "../../src/common/delay-levels.ts";
import { parseDispatchRequest } from "../../src/store/dispatch.ts";
import { topicKeyHash } from "../../src/store/index-file.ts";
import { MessageStore } from "../../src/store/message-store.ts";
import { bodyOf, message, smallStoreConfig, tempStoreDir, useTempStores } from "./store-fixtures.ts";
import { waitUntil } from "../wait-until.ts";

const stores = useTempStores();

describe("parseDispatchRequest", () => {
  test("reads topic, queue, offsets, tags code, keys and unique key from a record", () => {
    const msg = message("TopicTest", 1, "Hello", { TAGS: "TagA", KEYS: "k1 k2", UNIQ_KEY: "ABC" });
    const rec = encodeRecord(msg, 5, 1234, 1_700_000_000_005);
    const req = parseDispatchRequest(rec, new DataView(rec.buffer), 0, 0, []);
    expect(req).toEqual({
      topic: "TopicTest",
      queueId: 1,
      commitLogOffset: 1234,
      sizeBytes: rec.byteLength,
      tagsCode: tagsHashCode("TagA"),
      storeTimestamp: 1_700_000_000_005,
      queueOffset: 5,
      keys: "k1 k2",
      uniqKeyHash: topicKeyHash("TopicTest", "ABC"),
      sysFlag: 0,
    });
  });

  test("property values: first occurrence wins, UTF-8 decoded, a name only counts before its separator", () => {
    const propertiesString = "KEYS\u0001TAGS\u0002TAGS\u0001Tagé\u0002TAGS\u0001second\u0002UNIQ_KEY\u0001\u0002KEYS\u0001clé k2\u0002X\u0001y\u0002";
    const rec = encodeRecord({ ...message("TopicTest", 1, "Hello"), propertiesString }, 0, 0, 0);
    const req = parseDispatchRequest(rec, new DataView(rec.buffer), 0, 0, []);
    expect([req.tagsCode, req.keys, req.uniqKeyHash]).toEqual([tagsHashCode("Tagé"), "TAGS", undefined]); // the first UNIQ_KEY is empty
    const utf8 = encodeRecord({ ...message("TopicTest", 1, "Hello"), propertiesString: "UNIQ_KEY\u0001clé" }, 0, 0, 0);
    expect(parseDispatchRequest(utf8, new DataView(utf8.buffer), 0, 0, []).uniqKeyHash).toBe(topicKeyHash("TopicTest", "clé"));
    const none = encodeRecord({ ...message("TopicTest", 1, "Hello"), propertiesString: "\u0001TAGS\u0002KEYS" }, 0, 0, 0);
    const empty = parseDispatchRequest(none, new DataView(none.buffer), 0, 0, []);
    expect([empty.tagsCode, empty.keys, empty.uniqKeyHash]).toEqual([0, undefined, undefined]);
  });

  test("schedule topic tags code is store time + level delay, clamped to the last level", () => {
    const levels = parseDelayLevels("1s 5s 2m 1h 1d");
    expect(levels).toEqual([1000, 5000, 120_000, 3_600_000, 86_400_000]);
    const rec = encodeRecord(message("SCHEDULE_TOPIC_XXXX", 1, "x", { DELAY: "2", TAGS: "T" }), 0, 0, 10_000);
    expect(parseDispatchRequest(rec, new DataView(rec.buffer), 0, 0, levels).tagsCode).toBe(15_000);
    const clamped = encodeRecord(message("SCHEDULE_TOPIC_XXXX", 4, "x", { DELAY: "99" }), 0, 0, 10_000);
    expect(parseDispatchRequest(clamped, new DataView(clamped.buffer), 0, 0, levels).tagsCode).toBe(10_000 + 86_400_000);
    expect(() => parseDelayLevels("1s 5x")).toThrow("bad level");
  });
});

describe("ReputService via the store", () => {
  test("consume queues are rebuilt from the commit log after the consumequeue dir is deleted", async () => {
    const s = await stores.open();
    for (let i = 0; i < 40; i++) {
      expect((await s.putMessage(message("R", i % 3, `m${i}`, { TAGS: i % 2 ? "odd" : "even" }))).status).toBe("PUT_OK");
    }
    // a prepared half message must stay out of the rebuilt queues too
    await s.putMessage({ ...message("R", 0, "half"), sysFlag: SysFlag.TRANSACTION_PREPARED_TYPE });
    const snapshot = (st: MessageStore) =>
      [0, 1, 2].map((q) => {
        const out: string[] = [];
        for (let off = 0; off < st.getMaxOffsetInQueue("R", q); ) {
          const r = st.getMessage("g", "R", q, off, 32);
          out.push(...r.messages.map(bodyOf));
          off = r.nextBeginOffset;
        }
        return { max: st.getMaxOffsetInQueue("R", q), bodies: out };
      });
    const before = snapshot(s);
    expect(before[0]!.bodies.length).toBe(14);
    await s.shutdown();
    stores.untrackAll();
    fs.rmSync(path.join(stores.root, "consumequeue"), { recursive: true });

    const again = await stores.open();
    expect(snapshot(again)).toEqual(before);
    expect((await again.putMessage(message("R", 0, "next"))).queueOffset).toBe(14);
  });

  test("a slave store dispatches commit-log bytes replicated from a master", async () => {
    const master = await stores.open();
    for (let i = 0; i < 40; i++) await master.putMessage(message("H", i % 2, `h${i}`, { KEYS: `k${i}` }));
    const slaveRoot = tempStoreDir();
    const slave = new MessageStore(smallStoreConfig(slaveRoot, { brokerRole: "SLAVE" }));
    try {
      expect(await slave.load()).toBe(true);
      await slave.start();
      // Ship segment by segment, as the HA master does (data never crosses a segment; a full
      // segment's region runs through its blank tail to the segment end).
      for (let offset = 0, rounds = 0; offset < master.getMaxPhyOffset() && rounds < 100; rounds++) {
        const data = master.getCommitLogData(offset)!;
        expect(slave.appendToCommitLog(offset, data)).toBe(true);
        offset += data.byteLength;
      }
      expect(slave.appendToCommitLog(1, new Uint8Array([1]))).toBe(false); // 1 byte: not the end offset
      expect(slave.getMaxPhyOffset()).toBe(master.getMaxPhyOffset());
      const bodies = (s: MessageStore) => s.getMessage("g", "H", 1, 10, 32).messages.map(bodyOf);
      expect(bodies(slave)).toEqual(bodies(master));
      expect(slave.queryMessage("H", "k7", 32, 0, Date.now() + 1000).messages.map(bodyOf)).toEqual(["h7"]);
      expect((await slave.putMessage(message("H", 0, "x"))).status).toBe("SERVICE_NOT_AVAILABLE");
    } finally {
      await slave.shutdown();
      fs.rmSync(slaveRoot, { recursive: true, force: true });
    }
  });

  test("records appended outside putMessage (HA-style) are caught up in the background", async () => {
    const s = await stores.open();
    let queueOffset = 0;
    const r = await s.commitLog.putMessage(message("H", 0, "replicated"), () => queueOffset++);
    expect(r.status).toBe("PUT_OK");
    await waitUntil("the appended record dispatched", () => s.getMaxOffsetInQueue("H", 0) === 1);
    expect(s.getMessage("g", "H", 0, 0, 32).messages.map(bodyOf)).toEqual(["replicated"]);
    expect(s.dispatchBehindBytes()).toBe(0);
  });
});

describe("ReputService isolates a record it cannot dispatch", () => {
  test("the put answers PUT_OK, the record is skipped and counted, others are served, and a restart re-dispatching it starts", async () => {
    const s = await stores.open();
    // A regular file where the topic's consume-queue directory would go: creating the queue
    // throws ENOTDIR, as a group name resolving through an existing file once did.
    fs.mkdirSync(path.join(stores.root, "consumequeue"), { recursive: true });
    fs.writeFileSync(path.join(stores.root, "consumequeue", "Blocked"), "not a directory");
    expect((await s.putMessage(message("Ok", 0, "before"))).status).toBe("PUT_OK");
    const blocked = await s.putMessage(message("Blocked", 0, "cannot be queued"));
    expect(blocked.status).toBe("PUT_OK"); // stored in the commit log: never an error for it
    expect((await s.putMessage(message("Ok", 0, "after"))).status).toBe("PUT_OK");
    expect(s.getMessage("g", "Ok", 0, 0, 32).messages.map(bodyOf)).toEqual(["before", "after"]);
    expect(s.getRuntimeInfo().dispatchSkippedRecords).toBe("1");
    expect(s.dispatchBehindBytes()).toBe(0);
    await s.shutdown();
    stores.untrackAll();

    // Start-up re-dispatches the whole log (queues deleted): the bad record again, skipped again.
    fs.rmSync(path.join(stores.root, "consumequeue", "Ok"), { recursive: true });
    const again = await stores.open();
    expect(again.getMessage("g", "Ok", 0, 0, 32).messages.map(bodyOf)).toEqual(["before", "after"]);
    expect(again.getRuntimeInfo().dispatchSkippedRecords).toBe("1");
    expect((await again.putMessage(message("Ok", 0, "next"))).queueOffset).toBe(2);
  });
});
