// A versioned name → entry table kept in one JSON file (Java ConfigManager with DataVersion):
// topics.json and subscriptionGroup.json, whose `{ dataVersion, <table>: { name: entry } }`
// wrappers (Java TopicConfigSerializeWrapper, SubscriptionGroupWrapper) are read leniently from
// disk and strictly from a master during slave sync.

import { MetadataFile } from "./config-file.ts";
import { dataVersionFromJson, newDataVersion, type DataVersion } from "./data-version.ts";

export interface VersionedTableShape<T, Key extends string = string> {
  /** JSON key of the name → entry object, e.g. "topicConfigTable". */
  tableKey: Key;
  /** Names the entries in errors, e.g. "topics". */
  entriesName: string;
  /** Bound on entries taken from a master. */
  maxEntries: number;
  /** An entry from parsed JSON; undefined when its shape is wrong (skipped). */
  fromJson(name: string, raw: unknown): T | undefined;
  toJson(entry: T): unknown;
  /** The table key of an entry read from JSON (its own name field). */
  nameOf(entry: T): string;
}

export class VersionedConfigTable<T, Key extends string> {
  readonly table = new Map<string, T>();
  dataVersion: DataVersion = newDataVersion();
  /** The JSON file, written in the background after changes (config-file.ts). */
  readonly metadata: MetadataFile;

  constructor(
    file: string,
    private readonly shape: VersionedTableShape<T, Key>,
  ) {
    this.metadata = new MetadataFile(file, () => this.serializeWrapper());
  }

  /**
   * Loads the file on top of the entries already present (built-ins); a missing file is a fresh
   * broker, a corrupt one without a usable .bak throws CorruptFileError naming it.
   */
  load(): void {
    const { version, entries } = readVersionedTable(this.metadata.load(), this.shape);
    if (version) this.dataVersion = version;
    for (const entry of entries) this.table.set(this.shape.nameOf(entry), entry);
  }

  /** Schedules a background write of the table (coalesced with other changes). */
  persist(): void {
    this.metadata.markDirty();
  }

  /** Writes pending changes and waits for them to be durable. */
  flush(): Promise<void> {
    return this.metadata.flush();
  }

  /**
   * Slave sync (Java SlaveSynchronize.syncTopicConfig / syncSubscriptionGroupConfig): when the
   * master's DataVersion differs, its table replaces this one. `raw` is the parsed GET_ALL_* body;
   * true when replaced.
   */
  replaceFromMaster(raw: unknown): boolean {
    const update = readMasterTable(raw, this.dataVersion, this.shape);
    if (!update) return false;
    this.table.clear();
    for (const entry of update.entries) this.table.set(this.shape.nameOf(entry), entry);
    this.dataVersion = update.version;
    this.persist();
    return true;
  }

  /** The wrapper: body of GET_ALL_TOPIC_CONFIG / GET_ALL_SUBSCRIPTIONGROUP_CONFIG and the file's content. */
  serializeWrapper(): { dataVersion: DataVersion } & Record<Key, Record<string, unknown>> {
    const entries: Record<string, unknown> = {};
    for (const [name, entry] of this.table) entries[name] = this.shape.toJson(entry);
    return { dataVersion: { ...this.dataVersion }, [this.shape.tableKey]: entries } as { dataVersion: DataVersion } & Record<Key, Record<string, unknown>>;
  }
}

/** The version and entries of a wrapper read from disk; absent or malformed parts read as none. */
export function readVersionedTable<T>(raw: unknown, shape: VersionedTableShape<T>): { version: DataVersion | undefined; entries: T[] } {
  if (typeof raw !== "object" || raw === null) return { version: undefined, entries: [] };
  const r = raw as Record<string, unknown>;
  const table = r[shape.tableKey];
  return { version: dataVersionFromJson(r.dataVersion), entries: typeof table === "object" && table !== null ? entriesOf(table, shape) : [] };
}

/**
 * A master's wrapper (GET_ALL_* body): undefined when its version equals `current` (nothing
 * changed); throws naming what is missing or too large.
 */
export function readMasterTable<T>(raw: unknown, current: DataVersion, shape: VersionedTableShape<T>): { version: DataVersion; entries: T[] } | undefined {
  const r = raw as Record<string, unknown>;
  const version = dataVersionFromJson(r.dataVersion);
  if (!version) throw new Error(`master ${shape.entriesName} have no dataVersion`);
  const table = r[shape.tableKey];
  if (typeof table !== "object" || table === null) throw new Error(`master ${shape.entriesName} have no ${shape.tableKey}`);
  if (version.counter === current.counter && version.timestamp === current.timestamp) return undefined;
  const count = Object.keys(table).length;
  if (count > shape.maxEntries) throw new Error(`master sent ${count} ${shape.entriesName}, more than ${shape.maxEntries}`);
  return { version, entries: entriesOf(table, shape) };
}

function entriesOf<T>(table: object, shape: VersionedTableShape<T>): T[] {
  const entries: T[] = [];
  for (const [name, value] of Object.entries(table)) {
    const entry = shape.fromJson(name, value);
    if (entry) entries.push(entry);
  }
  return entries;
}
