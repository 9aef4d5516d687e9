// Namespaced key/value config of the NameServer (Java KVConfigManager), persisted as
// `{"configTable":{"<namespace>":{"<key>":"<value>"}}}` at kvConfigPath after every change.

import { readFileWithBackup, writeFileAtomic } from "../common/atomic-file.ts";
import { encodeFastjson, parseFastjson } from "../common/fastjson.ts";
import { createLogger } from "../log.ts";

const log = createLogger("kv-config");

/** KV namespace whose entries mark order topics: key topic, value "brokerName:queueNums;...". */
export const NAMESPACE_ORDER_TOPIC_CONFIG = "ORDER_TOPIC_CONFIG";

/** Namespaces and keys are short identifiers (Java has no bound; these keep the file small). */
export const KV_NAME_MAX_LENGTH_CHARS = 255;
/** Values are route hints such as `broker-a:4;broker-b:4`. */
export const KV_VALUE_MAX_LENGTH_CHARS = 65_536;
export const MAX_KV_NAMESPACES = 1_000;
export const MAX_KV_KEYS_PER_NAMESPACE = 100_000;
/** Control characters (tab excepted) and Unicode line separators: never in a KV entry. */
const UNSAFE_CHARACTER = /[\u0000-\u0008\u000a-\u001f\u007f\u2028\u2029]/;

export class KvEntryError extends Error {
  override name = "KvEntryError";
}

function checkKvEntry(namespace: string, key: string, value: string): void {
  for (const [field, text, max] of [["namespace", namespace, KV_NAME_MAX_LENGTH_CHARS], ["key", key, KV_NAME_MAX_LENGTH_CHARS], ["value", value, KV_VALUE_MAX_LENGTH_CHARS]] as const) {
    if (field !== "value" && text.trim().length === 0) throw new KvEntryError(`KV ${field} is blank`);
    if (text.length > max) throw new KvEntryError(`KV ${field} is ${text.length} characters, more than ${max}`);
    if (UNSAFE_CHARACTER.test(text)) throw new KvEntryError(`KV ${field} contains a line break or control character`);
  }
}

export class KvConfig {
  private readonly table = new Map<string, Map<string, string>>();
  /** Writes run one after another so the file always ends with the latest table. */
  private persistChain: Promise<void> = Promise.resolve();

  constructor(private readonly filePath: string) {}

  /**
   * Loads the file if present. A file that does not parse falls back to its `.bak` with a warning;
   * with no usable backup it is an error naming it (never silently dropped).
   */
  async load(): Promise<void> {
    const parsed = readFileWithBackup(this.filePath, parseFastjson, (message) => log.warn(message));
    if (parsed === undefined) return;
    const configTable = (parsed as { configTable?: unknown } | null)?.configTable;
    if (typeof configTable !== "object" || configTable === null) return;
    for (const [namespace, entries] of Object.entries(configTable as Record<string, unknown>)) {
      if (typeof entries !== "object" || entries === null) continue;
      const ns = new Map<string, string>();
      for (const [k, v] of Object.entries(entries as Record<string, unknown>)) if (v !== null && v !== undefined) ns.set(k, String(v));
      this.table.set(namespace, ns);
    }
    log.info(`loaded ${this.table.size} KV namespaces from ${this.filePath}`);
  }

  get(namespace: string, key: string): string | undefined {
    return this.table.get(namespace)?.get(key);
  }

  /** All entries of a namespace, or undefined when the namespace does not exist. */
  list(namespace: string): Map<string, string> | undefined {
    return this.table.get(namespace);
  }

  /** Throws KvEntryError when the entry breaks a bound; PUT_KV_CONFIG answers it as SYSTEM_ERROR. */
  async put(namespace: string, key: string, value: string): Promise<void> {
    checkKvEntry(namespace, key, value);
    let ns = this.table.get(namespace);
    if (!ns) {
      if (this.table.size >= MAX_KV_NAMESPACES) throw new KvEntryError(`KV config already has ${MAX_KV_NAMESPACES} namespaces`);
      this.table.set(namespace, (ns = new Map()));
    }
    if (!ns.has(key) && ns.size >= MAX_KV_KEYS_PER_NAMESPACE) throw new KvEntryError(`KV namespace ${namespace} already has ${MAX_KV_KEYS_PER_NAMESPACE} keys`);
    ns.set(key, value);
    await this.persist();
  }

  async delete(namespace: string, key: string): Promise<void> {
    this.table.get(namespace)?.delete(key);
    await this.persist();
  }

  /** Writes the table atomically and durably over kvConfigPath (common/atomic-file.ts). */
  persist(): Promise<void> {
    const content = encodeFastjson({ configTable: this.table });
    const next = this.persistChain.then(() => writeFileAtomic(this.filePath, content));
    // A failed write is logged and does not block later ones.
    this.persistChain = next.catch((err) => log.error(`persisting ${this.filePath} failed`, err));
    return next;
  }
}
