import { afterAll, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { LocalFileOffsetStore } from "../../src/client/offset-store.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsmq-offsets-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const mq = (queueId: number) => ({ topic: "T", brokerName: "b", queueId });

test("local offsets survive a restart; increase-only updates; the .bak covers a corrupt file", async () => {
  const a = new LocalFileOffsetStore(dir, "1.2.3.4@x", "g");
  a.load();
  expect(a.readMemory(mq(0))).toBe(-1);
  a.update(mq(0), 10, false);
  a.update(mq(0), 5, true); // ignored: smaller
  a.update(mq(1), 3, false);
  await a.persistAll([]);
  a.update(mq(0), 12, true);
  await a.persistAll([]);
  expect(a.filePath).toBe(path.join(dir, "1.2.3.4@x", "g", "offsets.json"));

  const b = new LocalFileOffsetStore(dir, "1.2.3.4@x", "g");
  b.load();
  expect([await b.readStore(mq(0)), await b.readStore(mq(1)), await b.readStore(mq(2))]).toEqual([12, 3, -1]);

  fs.writeFileSync(b.filePath, "{ torn");
  const c = new LocalFileOffsetStore(dir, "1.2.3.4@x", "g");
  c.load();
  expect(c.readMemory(mq(0))).toBe(10); // from the previous generation in .bak
});
