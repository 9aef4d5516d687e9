// A `./tsmq standalone` subprocess on free ports and a temp store, for the client end-to-end tests,
// plus small waiting helpers.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freeBrokerPort, freePort, spawnTsmq, type TsmqProcess } from "../e2e/helpers.ts";
import type { ClientLogger } from "../../src/client/client-config.ts";
import { waitUntil as waitUntilWithin } from "../wait-until.ts";

/** Every delay level 1 s, so retries and delayed messages come back fast. */
const SHORT_DELAY_LEVELS = Array(18).fill("1s").join(" ");

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

/** Client tests wait longer by default: a consumer's first rebalance and pull take seconds. */
const CLIENT_WAIT_TIMEOUT_MS = 20_000;

/** Polls `check` until it returns true, failing with `what` after `timeoutMs`. */
export function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = CLIENT_WAIT_TIMEOUT_MS): Promise<void> {
  return waitUntilWithin(what, check, timeoutMs);
}

/** Collects client warnings instead of printing them. */
export function collectingLogger(): ClientLogger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, warn: (m) => warnings.push(m), info: () => {} };
}

export const text = (b: Uint8Array) => new TextDecoder().decode(b);
