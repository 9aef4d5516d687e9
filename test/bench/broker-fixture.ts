// An in-process NameServer + broker (what `tsmq standalone` runs) on ephemeral ports and a temp
// store, for the bench tests; plus a poll-until helper.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { BrokerController } from "../../src/broker/broker.ts";
import { loadBrokerConfig } from "../../src/config/broker-config.ts";
import { loadNamesrvConfig } from "../../src/config/namesrv-config.ts";
import { NameServer } from "../../src/namesrv/namesrv.ts";

/** Small segments: a test writes a few hundred messages. */
const TEST_COMMITLOG_FILE_SIZE_BYTES = 4 * 1024 * 1024;
const TEST_CONSUMEQUEUE_FILE_SIZE_BYTES = 1_000 * 20;
const POLL_INTERVAL_MS = 20;

export interface TestBroker {
  namesrvAddr: string;
  dir: string;
  stop(): Promise<void>;
}

export async function startTestBroker(): Promise<TestBroker> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsmq-bench-test-"));
  const namesrv = new NameServer({
    config: (await loadNamesrvConfig(undefined, { listenPort: "0", kvConfigPath: path.join(dir, "kvConfig.json") })).config,
  });
  await namesrv.start();
  const { config } = await loadBrokerConfig(undefined, {
    listenPort: "0",
    storePathRootDir: path.join(dir, "store"),
    storePathCommitLog: path.join(dir, "store", "commitlog"),
    namesrvAddr: `127.0.0.1:${namesrv.port}`,
    brokerName: "broker-a",
    brokerIP1: "127.0.0.1",
    autoCreateTopicEnable: true,
    mappedFileSizeCommitLog: TEST_COMMITLOG_FILE_SIZE_BYTES,
    mappedFileSizeConsumeQueue: TEST_CONSUMEQUEUE_FILE_SIZE_BYTES,
  });
  const broker = new BrokerController(config);
  await broker.start();
  return {
    namesrvAddr: `127.0.0.1:${namesrv.port}`,
    dir,
    async stop() {
      await broker.shutdown();
      await namesrv.shutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until true; fails naming `what` after `timeoutMs`. */
export async function waitUntil(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(POLL_INTERVAL_MS);
  }
}
