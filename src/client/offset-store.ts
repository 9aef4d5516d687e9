// Consume offsets (protocol doc 6.9): kept in memory per queue, persisted to the broker for
// clustering consumers (Java RemoteBrokerOffsetStore) or to a local file for broadcasting ones
// (Java LocalFileOffsetStore, `~/.rocketmq_offsets/<clientId>/<group>/offsets.json`).

import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { queryConsumerOffset, updateConsumerOffset } from "./broker-api.ts";
import { errorText } from "./errors.ts";
import type { ClientInstance } from "./instance.ts";
import { parseMqKey } from "./json-body.ts";
import { type MessageQueue, mqJson, mqKey } from "./message-queue.ts";
import type { MessageModel } from "./rebalance.ts";

export interface OffsetStore {
  load(): void;
  /** Sets the in-memory offset; with `increaseOnly` a smaller value is ignored. */
  update(mq: MessageQueue, offset: number, increaseOnly: boolean): void;
  /** In-memory offset, or -1. */
  readMemory(mq: MessageQueue): number;
  /** Persisted offset: -1 when none; throws when the store cannot be reached. */
  readStore(mq: MessageQueue): Promise<number>;
  /** Persists the given queues' offsets; `sync` waits for the broker's answer (shutdown). */
  persistAll(mqs: MessageQueue[], sync?: boolean): Promise<void>;
  persist(mq: MessageQueue, sync?: boolean): Promise<void>;
  remove(mq: MessageQueue): void;
}

/** The in-memory offset table both stores keep (Java's offsetTable); subclasses say where it persists. */
abstract class InMemoryOffsets implements OffsetStore {
  protected readonly offsets = new Map<string, { mq: MessageQueue; offset: number }>();

  update(mq: MessageQueue, offset: number, increaseOnly: boolean): void {
    const key = mqKey(mq);
    const cur = this.offsets.get(key);
    if (cur === undefined) {
      this.offsets.set(key, { mq, offset });
      return;
    }
    if (increaseOnly && offset <= cur.offset) return;
    // In place: this runs after every consumed batch.
    cur.offset = offset;
  }

  readMemory(mq: MessageQueue): number {
    return this.offsets.get(mqKey(mq))?.offset ?? -1;
  }

  abstract load(): void;
  abstract readStore(mq: MessageQueue): Promise<number>;
  abstract persistAll(mqs: MessageQueue[], sync?: boolean): Promise<void>;
  abstract persist(mq: MessageQueue, sync?: boolean): Promise<void>;
  abstract remove(mq: MessageQueue): void;
}

export class RemoteOffsetStore extends InMemoryOffsets {
  constructor(
    private readonly inst: ClientInstance,
    private readonly group: string,
  ) {
    super();
  }

  load(): void {}

  async readStore(mq: MessageQueue): Promise<number> {
    const offset = await queryConsumerOffset(this.inst, this.group, mq);
    if (offset >= 0) this.update(mq, offset, false);
    return offset;
  }

  async persistAll(mqs: MessageQueue[], sync = false): Promise<void> {
    await Promise.all(mqs.map((mq) => this.persist(mq, sync)));
  }

  async persist(mq: MessageQueue, sync = false): Promise<void> {
    const cur = this.offsets.get(mqKey(mq));
    if (!cur) return;
    const offset = cur.offset; // the entry is updated in place while this awaits
    try {
      await updateConsumerOffset(this.inst, this.group, mq, offset, sync);
    } catch (err) {
      this.inst.log.warn(`persist offset ${offset} of ${mq.topic}/${mq.brokerName}/${mq.queueId} failed: ${errorText(err)}`);
    }
  }

  remove(mq: MessageQueue): void {
    this.offsets.delete(mqKey(mq));
  }
}

/** A consumer's offset store, loaded: the broker for clustering, a local file under `localDir` for broadcasting (like Java). */
export function openOffsetStore(inst: ClientInstance, group: string, messageModel: MessageModel, localDir: string): OffsetStore {
  const store = messageModel === "CLUSTERING" ? new RemoteOffsetStore(inst, group) : new LocalFileOffsetStore(localDir, inst.clientId, group);
  store.load();
  return store;
}

/** Default root of local offset files (Java rocketmq.client.localOffsetStoreDir). */
export function defaultLocalOffsetDir(): string {
  return process.env.ROCKETMQ_CLIENT_LOCAL_OFFSET_STORE_DIR ?? path.join(os.homedir(), ".rocketmq_offsets");
}

export class LocalFileOffsetStore extends InMemoryOffsets {
  readonly filePath: string;

  constructor(dir: string, clientId: string, group: string) {
    super();
    this.filePath = path.join(dir, clientId, group, "offsets.json");
  }

  /** Reads the file (or its .bak); a missing or corrupt file means no offsets yet. */
  load(): void {
    for (const file of [this.filePath, this.filePath + ".bak"]) {
      let text: string;
      try {
        text = fs.readFileSync(file, "utf8");
      } catch {
        continue;
      }
      try {
        const parsed = JSON.parse(text) as { offsetTable?: Record<string, unknown> };
        for (const [key, value] of Object.entries(parsed.offsetTable ?? {})) {
          const mq = parseMqKey(key);
          if (mq && typeof value === "number") this.offsets.set(mqKey(mq), { mq, offset: value });
        }
        return;
      } catch {
        // corrupt: try the backup
      }
    }
  }

  async readStore(mq: MessageQueue): Promise<number> {
    return this.readMemory(mq);
  }

  /** Writes every offset (tmp file + rename, previous file kept as .bak); writes are serialized. */
  persistAll(_mqs: MessageQueue[], _sync = false): Promise<void> {
    const table: Record<string, number> = {};
    for (const { mq, offset } of this.offsets.values()) table[JSON.stringify(mqJson(mq))] = offset;
    const text = JSON.stringify({ offsetTable: table }, null, 1);
    this.writing = this.writing.catch(() => {}).then(() => this.write(text));
    return this.writing;
  }

  private writing: Promise<void> = Promise.resolve();

  private async write(text: string): Promise<void> {
    await fsp.mkdir(path.dirname(this.filePath), { recursive: true });
    const tmp = `${this.filePath}.tmp`;
    await fsp.writeFile(tmp, text);
    await fsp.copyFile(this.filePath, this.filePath + ".bak").catch(() => {}); // none yet on the first write
    await fsp.rename(tmp, this.filePath);
  }

  persist(mq: MessageQueue, sync = false): Promise<void> {
    return this.persistAll([mq], sync);
  }

  remove(_mq: MessageQueue): void {
    // Broadcasting keeps offsets of every queue it ever consumed, like Java.
  }
}
