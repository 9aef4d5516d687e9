// Shared by the store tests: a small-segment store config in a temp dir, the per-test store
// lifecycle, and a message builder.

import { afterEach, beforeEach, expect } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { encodeBatchBody } from "../../src/client/batch.ts";
import type { MessageBatch } from "../../src/common/message-codec.ts";
import { propertiesToString, tagsHashCode, type MessageInner, type Properties } from "../../src/common/message.ts";
import { MessageStore } from "../../src/store/message-store.ts";
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

export interface TempStores {
  /** This test's store root (a fresh temp dir). */
  readonly root: string;
  /** A small-segment store under `root`, loaded (asserted true) and started; shut down after the test. */
  open(overrides?: Partial<StoreConfig>, opts?: ConstructorParameters<typeof MessageStore>[1]): Promise<MessageStore>;
  /** Shuts `store` down after the test (a store the test built itself). */
  track(store: MessageStore): MessageStore;
  /** The test shut its stores down itself: nothing left to shut down after it. */
  untrackAll(): void;
}

/** Registers per-test hooks: a fresh root before each test; its stores shut down and the root removed after. */
export function useTempStores(): TempStores {
  let root = "";
  const stores: MessageStore[] = [];
  beforeEach(() => {
    root = tempStoreDir();
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.shutdown();
    fs.rmSync(root, { recursive: true, force: true });
  });
  return {
    get root() {
      return root;
    },
    async open(overrides = {}, opts = {}) {
      const s = new MessageStore(smallStoreConfig(root, overrides), opts);
      stores.push(s);
      expect(await s.load()).toBe(true);
      await s.start();
      return s;
    },
    track(store) {
      stores.push(store);
      return store;
    },
    untrackAll() {
      stores.length = 0;
    },
  };
}

/** A MessageInner: `fields` win; the rest are fixed test values, properties string and tags code derived. */
export function messageInner(fields: Partial<MessageInner> & Pick<MessageInner, "topic" | "body">): MessageInner {
  const properties = fields.properties ?? {};
  return {
    queueId: 0,
    flag: 0,
    properties,
    propertiesString: propertiesToString(properties),
    tagsCode: tagsHashCode(properties.TAGS),
    sysFlag: 0,
    bornTimestamp: 1_700_000_000_000,
    bornHost: "127.0.0.1:50000",
    storeHost: "127.0.0.1:10911",
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
    ...fields,
  };
}

export function message(topic: string, queueId: number, body: string, props: Properties = {}): MessageInner {
  return messageInner({ topic, queueId, body: new TextEncoder().encode(body), properties: { ...props } });
}

/** Body text of a stored record (protocol doc 5.5 layout, IPv4 hosts: body length at 84). */
export function bodyOf(record: Uint8Array): string {
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  const length = view.getInt32(84);
  return new TextDecoder().decode(record.subarray(88, 88 + length));
}

/**
 * A batch of `members` as the broker hands it to the store: their bodies, flags and properties in
 * the wire form of SEND_BATCH_MESSAGE; topic, queue, hosts and times of the first; `batchProps`
 * appended to each record's properties.
 */
export function messageBatch(members: MessageInner[], batchProps: Properties = {}): MessageBatch {
  const first = members[0]!;
  return {
    topic: first.topic,
    queueId: first.queueId,
    sysFlag: first.sysFlag,
    bornTimestamp: first.bornTimestamp,
    bornHost: first.bornHost,
    storeHost: first.storeHost,
    reconsumeTimes: first.reconsumeTimes,
    body: encodeBatchBody(members),
    propertiesString: propertiesToString(batchProps),
    waitStoreMsgOK: batchProps.WAIT !== "false",
  };
}
