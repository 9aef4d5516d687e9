// A `./tsmq standalone` subprocess on free ports and a temp store, for the client end-to-end tests,
// plus small waiting helpers.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freeBrokerPort, freePort, spawnTsmq, type TsmqProcess } from "../e2e/helpers.ts";
import type { ClientLogger } from "../../src/client/client-config.ts";

/** Every delay level 1 s, so retries and delayed messages come back fast. */
const SHORT_DELAY_LEVELS = Array(18).fill("1s").join(" ");
const POLL_INTERVAL_MS = 20;

export interface Standalone {
  namesrvAddr: string;
  brokerAddr: string;
  dir: string;
  proc: TsmqProcess;
  stop(): Promise<void>;
}

export async function startStandalone(extraConf = ""): Promise<Standalone> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsmq-client-e2e-"));
  const conf = path.join(dir, "broker.conf");
  fs.writeFileSync(conf, `messageDelayLevel=${SHORT_DELAY_LEVELS}\n${extraConf}`);
  const namesrvPort = await freePort();
  const brokerPort = await freeBrokerPort();
  const proc = await spawnTsmq(["standalone", "--store", path.join(dir, "store"), "-p", String(namesrvPort), "--broker-port", String(brokerPort), "-c", conf], {
    ready: /standalone ready/,
    readyTimeoutMs: 30_000,
  });
  return {
    namesrvAddr: `127.0.0.1:${namesrvPort}`,
    brokerAddr: `127.0.0.1:${brokerPort}`,
    dir,
    proc,
    async stop() {
      await proc.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns true, failing with `what` after `timeoutMs`. */
export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(POLL_INTERVAL_MS);
  }
}

/** Collects client warnings instead of printing them. */
export function collectingLogger(): ClientLogger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, warn: (m) => warnings.push(m), info: () => {} };
}

export const text = (b: Uint8Array) => new TextDecoder().decode(b);
