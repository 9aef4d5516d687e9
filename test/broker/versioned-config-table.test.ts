import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { VersionedConfigTable, readMasterTable, readVersionedTable, type VersionedTableShape } from "../../src/broker/versioned-config-table.ts";

interface Entry {
  name: string;
  n: number;
}

const shape: VersionedTableShape<Entry> = {
  tableKey: "entryTable",
  entriesName: "entries",
  maxEntries: 2,
  fromJson: (name, raw) => (typeof raw === "number" ? { name, n: raw } : undefined),
  toJson: (entry) => entry.n,
  nameOf: (entry) => entry.name,
};

describe("readVersionedTable (a file on disk)", () => {
  test("reads version and entries, skipping malformed entries", () => {
    const raw = { dataVersion: { counter: 3, timestamp: 1000 }, entryTable: { a: 1, bad: "x", b: 2 } };
    expect(readVersionedTable(raw, shape)).toEqual({ version: { counter: 3, timestamp: 1000 }, entries: [{ name: "a", n: 1 }, { name: "b", n: 2 }] });
  });

  test("a missing file or missing parts read as nothing", () => {
    expect(readVersionedTable(undefined, shape)).toEqual({ version: undefined, entries: [] });
    expect(readVersionedTable({ entryTable: { a: 1 } }, shape)).toEqual({ version: undefined, entries: [{ name: "a", n: 1 }] });
    expect(readVersionedTable({ dataVersion: { counter: 1, timestamp: 2 } }, shape)).toEqual({ version: { counter: 1, timestamp: 2 }, entries: [] });
  });
});

describe("readMasterTable (slave sync)", () => {
  const current = { counter: 3, timestamp: 1000 };

  test("a different version gives the master's entries", () => {
    const update = readMasterTable({ dataVersion: { counter: 4, timestamp: 2000 }, entryTable: { a: 1 } }, current, shape);
    expect(update).toEqual({ version: { counter: 4, timestamp: 2000 }, entries: [{ name: "a", n: 1 }] });
  });

  test("the same version: nothing to replace", () => {
    expect(readMasterTable({ dataVersion: { ...current }, entryTable: { a: 1 } }, current, shape)).toBeUndefined();
  });

  test("missing parts and too many entries throw naming the problem", () => {
    expect(() => readMasterTable({ entryTable: {} }, current, shape)).toThrow("master entries have no dataVersion");
    expect(() => readMasterTable({ dataVersion: { counter: 9, timestamp: 9 } }, current, shape)).toThrow("master entries have no entryTable");
    expect(() => readMasterTable({ dataVersion: { counter: 9, timestamp: 9 }, entryTable: { a: 1, b: 2, c: 3 } }, current, shape)).toThrow(
      "master sent 3 entries, more than 2",
    );
  });
});

describe("VersionedConfigTable", () => {
  test("persist, load into a fresh table, and replace from a master's wrapper", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsmq-versioned-table-"));
    try {
      const file = path.join(dir, "config", "entries.json");
      const written = new VersionedConfigTable(file, shape);
      written.table.set("a", { name: "a", n: 1 });
      written.dataVersion = { counter: 5, timestamp: 500 };
      written.persist();
      await written.flush();
      expect(written.serializeWrapper()).toEqual({ dataVersion: { counter: 5, timestamp: 500 }, entryTable: { a: 1 } });

      const read = new VersionedConfigTable(file, shape);
      read.table.set("builtIn", { name: "builtIn", n: 0 });
      read.load();
      expect([...read.table.keys()]).toEqual(["builtIn", "a"]);
      expect(read.dataVersion).toEqual({ counter: 5, timestamp: 500 });

      expect(read.replaceFromMaster({ dataVersion: { counter: 5, timestamp: 500 }, entryTable: { z: 9 } })).toBe(false);
      expect(read.replaceFromMaster({ dataVersion: { counter: 6, timestamp: 600 }, entryTable: { z: 9 } })).toBe(true);
      expect([...read.table.values()]).toEqual([{ name: "z", n: 9 }]);
      // The replaced table was persisted.
      await read.flush();
      const reread = new VersionedConfigTable(file, shape);
      reread.load();
      expect(reread.serializeWrapper()).toEqual({ dataVersion: { counter: 6, timestamp: 600 }, entryTable: { z: 9 } });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
