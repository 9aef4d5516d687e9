// Index files an Apache RocketMQ 4.9.7 broker left behind when killed with kill -9 (taken from
// test/interop/store-migration.test.ts with maxHashSlotNum=16, maxIndexNum=32): two full files and
// a partial one. Abnormal recovery drops the partial file (its end is past the checkpoint's index
// timestamp) and re-dispatches from the commit log; the boundary message "rest-0" at offset 5690 is
// the last entry of the second full file and must not be indexed a second time.

import { afterEach, beforeEach, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { INDEX_HEADER_SIZE_BYTES } from "../../src/store/index-file.ts";
import { IndexService } from "../../src/store/index-service.ts";

const FIXTURE_DIR = path.join(import.meta.dir, "fixtures", "apache-4.9.7-index-kill9");
const HASH_SLOT_NUM = 16;
const INDEX_NUM = 32;
/** The checkpoint's indexMsgTimestamp (bytes 16..23 of Apache's checkpoint file): the end of the last full index file flushed. */
const CHECKPOINT_INDEX_TIMESTAMP_MS = 1796677973801;
const TOPIC = "MigrateA";

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "tsmq-index-apache-"));
  fs.cpSync(FIXTURE_DIR, path.join(root, "index"), { recursive: true });
});
afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

test("the second full Apache index file ends at the boundary message", () => {
  const header = [...fs.readFileSync(path.join(FIXTURE_DIR, "20261207211253399")).subarray(0, INDEX_HEADER_SIZE_BYTES)];
  expect(header).toEqual([
    0x00, 0x00, 0x01, 0xa2, 0x52, 0x5a, 0x35, 0x95, // beginTimestamp 1796677973397 (a-15's second key)
    0x00, 0x00, 0x01, 0xa2, 0x52, 0x5a, 0x37, 0x29, // endTimestamp 1796677973801 = the checkpoint's index timestamp
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0b, 0x1d, // beginPhyOffset 2845 (a-15, split over two files)
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x16, 0x3a, // endPhyOffset 5690 (rest-0)
    0x00, 0x00, 0x00, 0x0d, // hashSlotCount 13
    0x00, 0x00, 0x00, 0x20, // indexCount 32 = maxIndexNum: full
  ]);
});

test("re-dispatch after a crash adds the boundary message's keys once, and the messages after it", () => {
  const svc = new IndexService(root, HASH_SLOT_NUM, INDEX_NUM, () => 1796677990000);
  svc.load(false, CHECKPOINT_INDEX_TIMESTAMP_MS);
  expect(svc.fileCount).toBe(2); // the partial third file is gone, to be rebuilt
  // What recovery re-dispatches from the commit log (offsets, store times, keys as Apache stored them).
  const redispatched = [
    { commitLogOffset: 5501, storeTimestamp: 1796677973455, keys: "key-b-9", uniqKey: "C000020253062A0EDA7D237385CF001D", topic: "MigrateB" },
    { commitLogOffset: 5690, storeTimestamp: 1796677973801, keys: "key-rest-0", uniqKey: "C000020253062A0EDA7D23738728001E", topic: TOPIC },
    { commitLogOffset: 5885, storeTimestamp: 1796677973807, keys: "key-rest-1", uniqKey: "C000020253062A0EDA7D2373872D001F", topic: TOPIC },
  ];
  for (const req of redispatched) svc.buildIndex(req);
  const query = (topic: string, key: string) => svc.queryOffset(topic, key, 64, 0, Number.MAX_SAFE_INTEGER).phyOffsets;
  expect(query("MigrateB", "key-b-9")).toEqual([5501]);
  expect(query(TOPIC, "key-rest-0")).toEqual([5690]);
  expect(query(TOPIC, "C000020253062A0EDA7D23738728001E")).toEqual([5690]);
  expect(query(TOPIC, "key-rest-1")).toEqual([5885]);
  // Older keys are still answered from Apache's files.
  expect(query(TOPIC, "key-a-0")).toEqual([0]);
  expect(query(TOPIC, "key-a-15")).toEqual([2845]);
  svc.close();
});
