// Broker metadata files under <storePathRootDir>/config (storage doc §11): topics.json,
// subscriptionGroup.json, consumerOffset.json, delayOffset.json. A change only marks the file
// dirty; one background write per METADATA_PERSIST_DELAY_MS carries every change made meanwhile
// (coalesced), through common/atomic-file.ts (temp + fsync + rename + directory fsync, previous
// content kept as .bak). No request ever waits for, or pays O(table size) for, a write of these.
// Reading is strict: a corrupt file falls back to its .bak with a warning, else the broker refuses
// to start (it never silently resets offsets or groups).

import { readFileWithBackup, writeFileAtomic } from "../common/atomic-file.ts";
import { parseFastjson } from "../common/fastjson.ts";
import { createLogger } from "../log.ts";

const log = createLogger("metadata");

/** How long changes gather before one write: a burst (1,000 groups in a heartbeat) costs one write. */
export const METADATA_PERSIST_DELAY_MS = 50;
/** After a failed write (disk full, EIO), the next attempt waits this long; the change stays pending. */
const METADATA_RETRY_DELAY_MS = 1_000;

/** Standard JSON with tab indentation, the shape fastjson's pretty printer gives (Java reads both). */
export function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, "\t");
}

/** Parses a metadata file's text; throws when it is not a JSON object (a corrupt file, never "empty"). */
function parseMetadata(text: string): Record<string, unknown> {
  const value = parseFastjson(text);
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("the content is not a JSON object");
  return value as Record<string, unknown>;
}

export class MetadataFile {
  /** Writes completed since start (tests and metrics wait on it). */
  writesCompleted = 0;
  /** How a rendered file reaches the disk; tests replace it to hold a write and observe others meanwhile. */
  persistWith: (file: string, content: string) => Promise<void> = writeFileAtomic;
  private dirty = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private writing: Promise<void> | undefined;

  constructor(
    readonly file: string,
    private readonly render: () => unknown,
  ) {}

  /** The parsed file (or its .bak), undefined when neither exists; throws CorruptFileError naming it. */
  load(): Record<string, unknown> | undefined {
    return readFileWithBackup(this.file, parseMetadata, (message) => log.warn(message));
  }

  /** Records a change: a write follows within METADATA_PERSIST_DELAY_MS, however many changes come. */
  markDirty(): void {
    this.dirty = true;
    this.schedule(METADATA_PERSIST_DELAY_MS);
  }

  /** Writes pending changes now and waits for them (shutdown, admin answers); throws if the write fails. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.writing) await this.writing.catch(() => {});
    if (this.dirty) await this.write();
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.writing) return; // the running write re-checks `dirty` when it ends
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.write().catch(() => {}); // logged in write(); retried on its timer
    }, delayMs);
    // Shutdown flushes; a pending write alone must not keep the process alive.
    this.timer.unref();
  }

  /** One write at a time; changes made during a write are written right after it. */
  private write(): Promise<void> {
    if (this.writing) return this.writing;
    this.writing = (async () => {
      try {
        while (this.dirty) {
          this.dirty = false;
          const content = prettyJson(this.render());
          try {
            await this.persistWith(this.file, content);
            this.writesCompleted++;
          } catch (err) {
            this.dirty = true;
            log.error(`persisting ${this.file} failed; retrying in ${METADATA_RETRY_DELAY_MS} ms`, err);
            throw err;
          }
        }
      } finally {
        this.writing = undefined;
        if (this.dirty) this.schedule(METADATA_RETRY_DELAY_MS);
      }
    })();
    return this.writing;
  }
}
