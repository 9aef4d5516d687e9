// Shared by the store-queue tests: a small-segment store config in a temp dir and a message builder.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { propertiesToString, tagsHashCode, type MessageInner, type Properties } from "../../src/common/message.ts";
import { DEFAULT_STORE_CONFIG, type StoreConfig } from "../../src/store/store-config.ts";

/** 4 KiB commit-log segments (~25 small records), 10-entry consume-queue segments, a tiny index. */
export function smallStoreConfig(root: string, overrides: Partial<StoreConfig> = {}): StoreConfig {
  return {
    ...DEFAULT_STORE_CONFIG,
    storePathRootDir: root,
    mappedFileSizeCommitLog: 4096,
    mappedFileSizeConsumeQueue: 10 * 20,
    maxHashSlotNum: 64,
    maxIndexNum: 200,
    flushIntervalConsumeQueue: 50,
    flushIntervalCommitLog: 50,
    ...overrides,
  };
}

export function tempStoreDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "tsmq-store-"));
}

export function message(topic: string, queueId: number, body: string, props: Properties = {}): MessageInner {
  const properties = { ...props };
  return {
    topic,
    queueId,
    flag: 0,
    body: new TextEncoder().encode(body),
    properties,
    propertiesString: propertiesToString(properties),
    tagsCode: tagsHashCode(properties.TAGS),
    sysFlag: 0,
    bornTimestamp: 1_700_000_000_000,
    bornHost: "127.0.0.1:50000",
    storeHost: "127.0.0.1:10911",
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
  };
}

/** Body text of a stored record (protocol doc 5.5 layout, IPv4 hosts: body length at 84). */
export function bodyOf(record: Uint8Array): string {
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  const length = view.getInt32(84);
  return new TextDecoder().decode(record.subarray(88, 88 + length));
}

/** Polls `cond` every few ms until it holds or `timeoutMs` passes. */
export async function waitUntil(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await Bun.sleep(5);
  }
}
