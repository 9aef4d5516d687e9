// Committed consume offsets (Java ConsumerOffsetManager, storage doc §11.2): `topic@group` →
// queueId → next offset to consume, kept in memory and flushed to config/consumerOffset.json.

import path from "node:path";
import { MetadataFile } from "./config-file.ts";

const KEY_SEPARATOR = "@";

/** Upper bound on `topic@group` entries, so clients committing for made-up names stay bounded. */
export const MAX_OFFSET_TABLE_ENTRIES = 1_000_000;

/**
 * The `topic@group` → queueId → offset entries of a parsed offsetTable (the file, or a master's
 * GET_ALL_CONSUMER_OFFSET body); malformed keys, queue ids and offsets are skipped.
 */
function* offsetTableEntries(table: object): Generator<[string, Map<number, number>]> {
  for (const [key, queues] of Object.entries(table as Record<string, unknown>)) {
    if (typeof queues !== "object" || queues === null || !key.includes(KEY_SEPARATOR)) continue;
    const m = new Map<number, number>();
    for (const [qid, offset] of Object.entries(queues as Record<string, unknown>)) {
      const q = Number(qid);
      const o = Number(offset);
      if (Number.isInteger(q) && Number.isFinite(o)) m.set(q, o);
    }
    yield [key, m];
  }
}

export class ConsumerOffsetManager {
  /** `topic@group` → queueId → offset. */
  readonly table = new Map<string, Map<number, number>>();
  /** consumerOffset.json, written in the background (config-file.ts). */
  readonly metadata: MetadataFile;
  private dirty = false;

  constructor(storePathRootDir: string) {
    this.metadata = new MetadataFile(path.join(storePathRootDir, "config", "consumerOffset.json"), () => this.toJson());
  }

  /** A corrupt file without a usable .bak throws CorruptFileError: offsets are never silently reset. */
  load(): void {
    const raw = this.metadata.load();
    const table = raw?.offsetTable;
    if (typeof table !== "object" || table === null) return;
    for (const [key, queues] of offsetTableEntries(table)) this.table.set(key, queues);
  }

  /**
   * Schedules a background write when something changed since the last one (called every
   * flushConsumerOffsetInterval, like Java); commits themselves only touch memory.
   */
  persist(): void {
    if (!this.dirty) return;
    this.dirty = false;
    this.metadata.markDirty();
  }

  /** persist() and wait until the file is durable (shutdown). */
  flush(): Promise<void> {
    this.persist();
    return this.metadata.flush();
  }

  /** ConsumerOffsetSerializeWrapper with quoted numeric keys (Java fastjson reads them back as Integer). */
  toJson(): { offsetTable: Record<string, Record<string, number>> } {
    const offsetTable: Record<string, Record<string, number>> = {};
    for (const [key, queues] of this.table) {
      const q: Record<string, number> = {};
      for (const [qid, offset] of queues) q[String(qid)] = offset;
      offsetTable[key] = q;
    }
    return { offsetTable };
  }

  /**
   * Slave sync (Java SlaveSynchronize.syncConsumerOffset, a putAll): the master's `topic@group`
   * entries replace these; entries only the slave has stay. `raw` is the GET_ALL_CONSUMER_OFFSET body.
   */
  mergeFromMaster(raw: unknown): void {
    const table = (raw as Record<string, unknown>).offsetTable;
    if (typeof table !== "object" || table === null) throw new Error("master consumer offsets have no offsetTable");
    for (const [key, queues] of offsetTableEntries(table)) {
      if (!this.table.has(key) && this.table.size >= MAX_OFFSET_TABLE_ENTRIES) throw new Error(`consumer offset table is full (${MAX_OFFSET_TABLE_ENTRIES} entries)`);
      this.table.set(key, queues);
    }
    this.dirty = true;
    this.persist();
  }

  /** Stored offset, or -1 when the group never committed one for this queue. */
  queryOffset(group: string, topic: string, queueId: number): number {
    return this.table.get(topic + KEY_SEPARATOR + group)?.get(queueId) ?? -1;
  }

  queryOffsets(group: string, topic: string): Map<number, number> | undefined {
    return this.table.get(topic + KEY_SEPARATOR + group);
  }

  /** Stored without a monotonic check, like Java (ali-ons may commit -1). */
  commitOffset(group: string, topic: string, queueId: number, offset: number): void {
    const key = topic + KEY_SEPARATOR + group;
    let queues = this.table.get(key);
    if (!queues) {
      if (this.table.size >= MAX_OFFSET_TABLE_ENTRIES) throw new Error(`consumer offset table is full (${MAX_OFFSET_TABLE_ENTRIES} entries)`);
      queues = new Map();
      this.table.set(key, queues);
    }
    queues.set(queueId, offset);
    this.dirty = true;
  }

  /** Groups with a stored offset for `topic`. */
  groupsByTopic(topic: string): Set<string> {
    const groups = new Set<string>();
    for (const key of this.table.keys()) {
      const at = key.indexOf(KEY_SEPARATOR);
      if (key.slice(0, at) === topic) groups.add(key.slice(at + 1));
    }
    return groups;
  }

  /** Topics with a stored offset for `group`. */
  topicsByGroup(group: string): Set<string> {
    const topics = new Set<string>();
    for (const key of this.table.keys()) {
      const at = key.indexOf(KEY_SEPARATOR);
      if (key.slice(at + 1) === group) topics.add(key.slice(0, at));
    }
    return topics;
  }

  removeGroup(group: string): void {
    for (const key of [...this.table.keys()]) {
      if (key.slice(key.indexOf(KEY_SEPARATOR) + 1) === group) {
        this.table.delete(key);
        this.dirty = true;
      }
    }
  }
}
