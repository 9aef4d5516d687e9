// Namespaced key/value config of the NameServer (Java KVConfigManager), persisted as
// `{"configTable":{"<namespace>":{"<key>":"<value>"}}}` at kvConfigPath after every change.

import fs from "node:fs/promises";
import path from "node:path";
import { encodeFastjson, parseFastjson } from "../common/fastjson.ts";
import { createLogger } from "../log.ts";

const log = createLogger("kv-config");

/** KV namespace whose entries mark order topics: key topic, value "brokerName:queueNums;...". */
export const NAMESPACE_ORDER_TOPIC_CONFIG = "ORDER_TOPIC_CONFIG";

export class KvConfig {
  private readonly table = new Map<string, Map<string, string>>();
  /** Writes run one after another so the file always ends with the latest table. */
  private persistChain: Promise<void> = Promise.resolve();

  constructor(private readonly filePath: string) {}

  /** Loads the file if present. A file that does not parse is an error naming it (never silently dropped). */
  async load(): Promise<void> {
    let text: string;
    try {
      text = await fs.readFile(this.filePath, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
      throw err;
    }
    let parsed: unknown;
    try {
      parsed = parseFastjson(text);
    } catch (err) {
      throw new Error(`KV config file ${this.filePath} does not parse: ${(err as Error).message}`);
    }
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

  async put(namespace: string, key: string, value: string): Promise<void> {
    let ns = this.table.get(namespace);
    if (!ns) this.table.set(namespace, (ns = new Map()));
    ns.set(key, value);
    await this.persist();
  }

  async delete(namespace: string, key: string): Promise<void> {
    this.table.get(namespace)?.delete(key);
    await this.persist();
  }

  /** Writes the table to a temp file and renames it over kvConfigPath (never a half-written file). */
  persist(): Promise<void> {
    const content = encodeFastjson({ configTable: this.table });
    const next = this.persistChain.then(async () => {
      await fs.mkdir(path.dirname(this.filePath), { recursive: true });
      const tmp = `${this.filePath}.tmp`;
      await fs.writeFile(tmp, content);
      await fs.rename(tmp, this.filePath);
    });
    // A failed write is logged and does not block later ones.
    this.persistChain = next.catch((err) => log.error(`persisting ${this.filePath} failed`, err));
    return next;
  }
}
