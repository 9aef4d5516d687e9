import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { isTimeToDelete } from "../../src/store/cleanup.ts";
import { bodyOf, message, useTempStores } from "./store-fixtures.ts";

const stores = useTempStores();

const HOUR_MS = 3_600_000;

describe("cleanup", () => {
  test("deleteWhen lists local hours separated by ';'", () => {
    const at = (h: number) => new Date(2024, 0, 1, h, 30).getTime();
    expect(isTimeToDelete("04", at(4))).toBe(true);
    expect(isTimeToDelete("04", at(5))).toBe(false);
    expect(isTimeToDelete("1;13;22", at(13))).toBe(true);
  });

  test("retention deletes only expired segments, then queue and index files below the new minimum", async () => {
    const nowMs = Date.now();
    const hour = String(new Date(nowMs).getHours()).padStart(2, "0");
    const s = await stores.open({ fileReservedTime: 48, deleteWhen: hour, maxIndexNum: 20 }, { diskUsedRatio: () => 0.1 });
    for (let i = 0; i < 150; i++) {
      expect((await s.putMessage(message("C", 0, `m${i}`, { KEYS: `k${i}` }))).status).toBe("PUT_OK");
    }
    const clDir = path.join(stores.root, "commitlog");
    // Segment files only: a spare prepared ahead of need may come and go (and its temporary file).
    const segmentNames = () => fs.readdirSync(clDir).filter((name) => /^\d{20}$/.test(name)).sort();
    const segments = segmentNames();
    expect(segments.length).toBeGreaterThanOrEqual(4);
    // The two oldest segments were last written 49 h ago: expired. The third is 47 h old: kept.
    const setAge = (name: string, hours: number) => {
      const t = new Date(nowMs - hours * HOUR_MS);
      fs.utimesSync(path.join(clDir, name), t, t);
    };
    setAge(segments[0]!, 49);
    setAge(segments[1]!, 49);
    setAge(segments[2]!, 47);
    const indexFilesBefore = fs.readdirSync(path.join(stores.root, "index")).length;

    const round = s.runCleanup();
    expect(round.commitLogFilesDeleted).toBe(2);
    expect(segmentNames().filter((name) => name <= segments[segments.length - 1]!)).toEqual(segments.slice(2));
    expect(s.getMinPhyOffset()).toBe(Number(segments[2]));
    expect(round.consumeQueueFilesDeleted).toBeGreaterThan(0);
    expect(round.indexFilesDeleted).toBeGreaterThan(0);
    expect(fs.readdirSync(path.join(stores.root, "index")).length).toBe(indexFilesBefore - round.indexFilesDeleted);

    // Reads stay consistent: the old offsets are too small, the new minimum points at a live record.
    const min = s.getMinOffsetInQueue("C", 0);
    expect(min).toBeGreaterThan(0);
    expect(s.getCommitLogOffsetInQueue("C", 0, min)).toBeGreaterThanOrEqual(s.getMinPhyOffset());
    const tooSmall = s.getMessage("g", "C", 0, 0, 32);
    expect(tooSmall.status).toBe("OFFSET_TOO_SMALL");
    expect(tooSmall.nextBeginOffset).toBe(min);
    const r = s.getMessage("g", "C", 0, min, 1);
    expect(r.status).toBe("FOUND");
    expect(bodyOf(r.messages[0]!)).toBe(`m${min}`);
    expect(s.queryMessage("C", "k149", 32, 0, Date.now() + 1000).messages.map(bodyOf)).toEqual(["m149"]);

    // Nothing else is old enough: a second round deletes nothing, and the active segment never goes.
    expect(s.runCleanup().commitLogFilesDeleted).toBe(0);
  });

  test("outside deleteWhen with free disk nothing is deleted, a manual request deletes anyway", async () => {
    const nowMs = Date.now();
    const otherHour = String((new Date(nowMs).getHours() + 2) % 24);
    const s = await stores.open({ fileReservedTime: 1, deleteWhen: otherHour }, { diskUsedRatio: () => 0.1 });
    for (let i = 0; i < 60; i++) await s.putMessage(message("C", 0, `m${i}`));
    const clDir = path.join(stores.root, "commitlog");
    const old = new Date(nowMs - 5 * HOUR_MS);
    // Segments holding data: not a spare prepared ahead of need, nor its temporary file.
    const dataSegments = () => fs.readdirSync(clDir).filter((name) => /^\d{20}$/.test(name) && Number(name) <= s.getMaxPhyOffset());
    for (const name of dataSegments()) fs.utimesSync(path.join(clDir, name), old, old);
    expect(s.runCleanup().commitLogFilesDeleted).toBe(0);
    const segmentsBefore = dataSegments().length;
    expect(s.runCleanup(true).commitLogFilesDeleted).toBe(segmentsBefore - 1);
    expect(dataSegments().length).toBe(1); // all expired, but the active segment stays
  });
});

describe("cleanExpiredConsumeQueues (mqadmin cleanExpiredCQ)", () => {
  test("destroys queues whose every entry is below the commit-log minimum, keeps live ones", async () => {
    const nowMs = Date.now();
    const otherHour = String((new Date(nowMs).getHours() + 2) % 24);
    const s = await stores.open({ fileReservedTime: 1, deleteWhen: otherHour }, { diskUsedRatio: () => 0.1 });
    for (let i = 0; i < 3; i++) await s.putMessage(message("Old", 1, `old${i}`));
    for (let i = 0; i < 60; i++) await s.putMessage(message("Live", 0, `m${i}`));
    const clDir = path.join(stores.root, "commitlog");
    const old = new Date(nowMs - 5 * HOUR_MS);
    for (const name of fs.readdirSync(clDir).filter((n) => /^\d{20}$/.test(n))) fs.utimesSync(path.join(clDir, name), old, old);
    expect(s.runCleanup(true).commitLogFilesDeleted).toBeGreaterThan(0);
    expect(s.getMaxOffsetInQueue("Old", 1)).toBe(3); // retention leaves the last queue segment in place

    expect(s.cleanExpiredConsumeQueues()).toBe(1);
    expect(s.getMaxOffsetInQueue("Old", 1)).toBe(0);
    expect(fs.existsSync(path.join(stores.root, "consumequeue", "Old", "1"))).toBe(false);
    expect(s.getMaxOffsetInQueue("Live", 0)).toBe(60);
    // Nothing left to clean: a second call destroys nothing.
    expect(s.cleanExpiredConsumeQueues()).toBe(0);
  });
});

