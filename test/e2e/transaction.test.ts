// `tsmq produce --transaction commit|rollback|unknown` against the compiled `./tsmq standalone`,
// consumed with `tsmq consume`: commit and unknown (committed by the check-back) arrive once each,
// rollback never; the half topic shows up in topic stats.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { AdminClient } from "../../src/client/admin.ts";
import { TransactionProducer, type TransactionProducerOptions } from "../../src/client/transaction-producer.ts";
import { SystemTopic } from "../../src/common/topic.ts";
import { RequestCode, ResponseCode } from "../../src/remoting/codes.ts";
import { RemotingCommand } from "../../src/remoting/command.ts";
import { RemotingClient } from "../../src/remoting/client.ts";
import { type Standalone, collectingLogger, startStandalone, waitUntil } from "../client/standalone-fixture.ts";
import { freeBrokerPort, freePort, spawnTsmq, stopAllTsmq, type TsmqProcess } from "./helpers.ts";

/**
 * Fast check-backs: a run every 300 ms; halves checkable 1.5 s after birth, long enough to kill a
 * producer before its half message is checked.
 */
const BROKER_CONF = "transactionCheckInterval=300\ntransactionTimeOut=1500\n";
const TOPIC = "E2ETransaction";
const RUN_TIMEOUT_MS = 30_000;
/** Client timers short enough to find the restarted broker within a second. */
const FAST_CLIENT_TIMERS = { pollNameServerIntervalMs: 200, heartbeatBrokerIntervalMs: 200, requestTimeoutMs: 1_000 };

let sa: Standalone;
let admin: AdminClient;

/**
 * A started producer whose local transactions stay UNKNOW and whose check-backs answer commit;
 * `checked` collects the bodies the broker asked about.
 */
function committingOnCheck(options: Omit<TransactionProducerOptions, "transactionListener" | "logger">): { producer: TransactionProducer; checked: string[] } {
  const checked: string[] = [];
  const producer = new TransactionProducer({
    ...options,
    logger: collectingLogger(),
    transactionListener: {
      executeLocalTransaction: () => "UNKNOW",
      checkLocalTransaction: (msg) => {
        checked.push(new TextDecoder().decode(msg.body));
        return "COMMIT_MESSAGE";
      },
    },
  }).start();
  return { producer, checked };
}

function produceArgs(body: string, mode: string, group = "e2e_tx_producer"): string[] {
  return ["produce", "-n", sa.namesrvAddr, "-t", TOPIC, "-g", group, "--body", body, "--transaction", mode, "--json"];
}

async function produce(body: string, mode: string): Promise<string> {
  const p = await spawnTsmq(produceArgs(body, mode));
  const code = await p.proc.exited;
  const out = await p.stop().then(() => p.output());
  if (code !== 0) throw new Error(`produce --transaction ${mode} exited ${code}:\n${out}`);
  return out;
}

beforeAll(async () => {
  sa = await startStandalone(BROKER_CONF);
  admin = new AdminClient({ namesrvAddr: sa.namesrvAddr, logger: collectingLogger() });
}, 120_000);

afterAll(async () => {
  admin?.close();
  await sa?.stop();
  await stopAllTsmq();
});

describe("tsmq produce --transaction", () => {
  test(
    "commit and unknown are consumed once each, rollback never",
    async () => {
      expect(await produce("tx-commit", "commit")).toContain('"sendStatus":"SEND_OK"');
      expect(await produce("tx-rollback", "rollback")).toContain('"sendStatus":"SEND_OK"');
      const unknown = await produce("tx-unknown", "unknown");
      expect(unknown).toMatch(/checked back: COMMIT_MESSAGE/);

      // Exactly two messages reached the topic's queues: no rollback, no duplicate.
      const stats = await admin.topicStats(TOPIC);
      expect(stats.reduce((n, s) => n + s.maxOffset - s.minOffset, 0)).toBe(2);
      const half = await admin.topicStats(SystemTopic.TRANS_HALF);
      expect(half.reduce((n, s) => n + s.maxOffset, 0)).toBeGreaterThanOrEqual(3); // 3 halves (+ check re-puts)

      const c = await spawnTsmq(["consume", "-n", sa.namesrvAddr, "-t", TOPIC, "-g", "e2e_tx_consumer", "--from", "first", "--count", "2", "--json"]);
      expect(await c.proc.exited).toBe(0);
      const bodies = c
        .output()
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l).body as string)
        .sort();
      expect(bodies).toEqual(["tx-commit", "tx-unknown"]);
    },
    RUN_TIMEOUT_MS * 2,
  );

  test(
    "a producer killed after its half message is checked through another producer of its group",
    async () => {
      const group = "e2e_tx_failover";
      const countInTopic = async () => (await admin.topicStats(TOPIC)).reduce((n, s) => n + s.maxOffset - s.minOffset, 0);
      const before = await countInTopic();
      const victim = await spawnTsmq(produceArgs("tx-orphan", "unknown", group), { ready: /"sendStatus":"SEND_OK"/ });
      victim.proc.kill("SIGKILL");
      await victim.stop();
      expect(victim.output()).not.toMatch(/checked back/);

      const { producer: survivor, checked } = committingOnCheck({ namesrvAddr: sa.namesrvAddr, instanceName: "e2e-tx-survivor", groupName: group });
      try {
        await waitUntil("the orphan committed through the survivor", async () => (await countInTopic()) === before + 1, RUN_TIMEOUT_MS);
        expect(checked).toContain("tx-orphan");
      } finally {
        await survivor.shutdown();
      }
    },
    RUN_TIMEOUT_MS * 2,
  );
});

describe("broker crash", () => {
  test(
    "kill -9 between half message and check-back: after recovery the check commits it exactly once",
    async () => {
      const dir = fs.mkdtempSync(path.join(sa.dir, "crash-"));
      const conf = path.join(dir, "broker.conf");
      fs.writeFileSync(conf, BROKER_CONF);
      const nsPort = await freePort();
      const brokerPort = await freeBrokerPort();
      const namesrvAddr = `127.0.0.1:${nsPort}`;
      const brokerAddr = `127.0.0.1:${brokerPort}`;
      const boot = () =>
        spawnTsmq(["standalone", "--store", path.join(dir, "store"), "-p", String(nsPort), "--broker-port", String(brokerPort), "-c", conf], {
          ready: /standalone ready/,
          readyTimeoutMs: RUN_TIMEOUT_MS,
        });
      let server: TsmqProcess = await boot();
      const raw = new RemotingClient();
      const { producer, checked } = committingOnCheck({ namesrvAddr, instanceName: "e2e-tx-crash", groupName: "e2e_tx_crash", ...FAST_CLIENT_TIMERS });
      const maxOffset = async (topic: string, queueId: number) =>
        Number((await raw.invoke(brokerAddr, RemotingCommand.request(RequestCode.GET_MAX_OFFSET, { topic, queueId: String(queueId) }), 1_000)).extFields.offset ?? 0);
      const countInTopic = async () => {
        let n = 0;
        for (let q = 0; q < 4; q++) n += await maxOffset("E2ETxCrash", q);
        return n;
      };
      try {
        const r = await producer.sendMessageInTransaction({ topic: "E2ETxCrash", body: "tx-crash" });
        expect(r.localTransactionState).toBe("UNKNOW");
        server.proc.kill("SIGKILL"); // before transactionTimeOut: no check has happened yet
        await server.stop();
        expect(checked).toHaveLength(0);

        server = await boot();
        await waitUntil("the half message committed by a check after recovery", async () => (await countInTopic().catch(() => 0)) === 1, RUN_TIMEOUT_MS);
        expect(checked).toContain("tx-crash");
        // Exactly once: wait until the check progress has passed every half message, then count again.
        const progress = async () => {
          const q = await raw.invoke(brokerAddr, RemotingCommand.request(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: "CID_RMQ_SYS_TRANS", topic: SystemTopic.TRANS_HALF, queueId: "0" }), 1_000);
          return q.code === ResponseCode.SUCCESS ? Number(q.extFields.offset) : -1;
        };
        await waitUntil("check progress past every half message", async () => (await progress()) === (await maxOffset(SystemTopic.TRANS_HALF, 0)), RUN_TIMEOUT_MS);
        expect(await countInTopic()).toBe(1);
      } finally {
        await producer.shutdown();
        raw.close();
        await server.stop();
      }
    },
    RUN_TIMEOUT_MS * 3,
  );
});
