// Broker metadata files (config-file.ts over common/atomic-file.ts): changes coalesce into one
// background write (temp + fsync + rename, the previous content kept as .bak); a corrupt file
// falls back to .bak with a warning, and without a usable .bak loading fails loudly, naming the
// file, instead of resetting the table (issue 13, item 3).

import { afterEach, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { CorruptFileError } from "../../src/common/atomic-file.ts";
import { MetadataFile } from "../../src/broker/config-file.ts";
import { ConsumerOffsetManager } from "../../src/broker/consumer-offsets.ts";
import { makeTempDir, startTestBroker } from "./helpers.ts";

const dirs: string[] = [];
function tempDir(): string {
  const dir = makeTempDir("tsmq-metadata-");
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

test("many changes make one write; the previous content stays as .bak; no temp file is left", async () => {
  const file = path.join(tempDir(), "config", "x.json");
  let n = 0;
  const m = new MetadataFile(file, () => ({ n }));
  for (n = 1; n <= 1_000; n++) m.markDirty();
  n = 1_000;
  await m.flush();
  expect(m.writesCompleted).toBe(1);
  expect(JSON.parse(fs.readFileSync(file, "utf8"))).toEqual({ n: 1_000 });
  n = 1_001;
  m.markDirty();
  await m.flush();
  expect(m.writesCompleted).toBe(2);
  expect(JSON.parse(fs.readFileSync(file + ".bak", "utf8"))).toEqual({ n: 1_000 });
  expect(fs.existsSync(file + ".tmp")).toBe(false);
});

test("a change made during a write is written right after it", async () => {
  const file = path.join(tempDir(), "x.json");
  let n = 1;
  const m = new MetadataFile(file, () => ({ n }));
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const real = m.persistWith;
  let started = 0;
  m.persistWith = async (f, content) => {
    if (++started === 1) await held;
    await real(f, content);
  };
  m.markDirty();
  const first = m.flush();
  n = 2;
  m.markDirty(); // while the first write is held
  release();
  await first;
  await m.flush();
  expect(JSON.parse(fs.readFileSync(file, "utf8"))).toEqual({ n: 2 });
});

test("a corrupt file loads its .bak with a warning; with no usable .bak it is a loud error naming the file", async () => {
  const dir = tempDir();
  const file = path.join(dir, "config", "consumerOffset.json");
  const offsets = new ConsumerOffsetManager(dir);
  offsets.commitOffset("g", "T", 0, 5);
  await offsets.flush();
  offsets.commitOffset("g", "T", 0, 7);
  await offsets.flush();
  fs.writeFileSync(file, '{"offsetTable":{"T@g":{0:'); // torn
  const fromBackup = new ConsumerOffsetManager(dir);
  fromBackup.load();
  expect(fromBackup.queryOffset("g", "T", 0)).toBe(5);

  fs.writeFileSync(file + ".bak", "");
  expect(() => new ConsumerOffsetManager(dir).load()).toThrow(CorruptFileError);
  expect(() => new ConsumerOffsetManager(dir).load()).toThrow(/consumerOffset\.json is corrupt .* refusing to start/);
  fs.writeFileSync(file, "[1,2]"); // parses, but is not the file's shape
  expect(() => new ConsumerOffsetManager(dir).load()).toThrow(/not a JSON object/);
});

test("a broker whose subscriptionGroup.json is corrupt without a backup refuses to start", async () => {
  const dir = tempDir();
  fs.mkdirSync(path.join(dir, "config"), { recursive: true });
  fs.writeFileSync(path.join(dir, "config", "subscriptionGroup.json"), "{not json");
  await expect(startTestBroker({ dir })).rejects.toThrow(/subscriptionGroup\.json is corrupt/);
});
