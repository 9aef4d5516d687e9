// TransactionProducer against an in-process NameServer and broker over real sockets, with a real
// push consumer: commit → consumed once; rollback → never; unknown → checked back and committed;
// a dead producer's half message checked through another producer of its group;
// transactionCheckMax with a listener that never knows.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { decodeRecord } from "../../src/common/message-codec.ts";
import { newTopicConfig, SystemTopic } from "../../src/common/topic.ts";
import { parseNamesrvConfig } from "../../src/config/namesrv-config.ts";
import { NameServer } from "../../src/namesrv/namesrv.ts";
import type { ConsumedMessage } from "../../src/client/consumed-message.ts";
import { PushConsumer } from "../../src/client/push-consumer.ts";
import { type LocalTransactionState, type TransactionListener, TransactionProducer } from "../../src/client/transaction-producer.ts";
import { makeTempDir, pollUntil, startTestBroker, type TestBroker } from "../broker/helpers.ts";
import { collectingLogger } from "./standalone-fixture.ts";

/** Short check timing so check-backs happen within a second instead of a minute. */
const CHECK_INTERVAL_MS = 150;
const TRANSACTION_TIMEOUT_MS = 100;
const CHECK_MAX = 3;
const TOPIC = "TxClientTopic";
const WAIT_MS = 10_000;

let namesrv: NameServer;
let nsDir: string;
let tb: TestBroker;
let consumer: PushConsumer;
const consumed: ConsumedMessage[] = [];
const logger = collectingLogger();
const cleanups: Array<() => Promise<unknown> | void> = [];
const text = (b: Uint8Array) => new TextDecoder().decode(b);

function producer(instanceName: string, group: string, listener: TransactionListener): TransactionProducer {
  const p = new TransactionProducer({ namesrvAddr: `127.0.0.1:${namesrv.port}`, instanceName, groupName: group, logger, transactionListener: listener });
  cleanups.push(() => p.shutdown());
  return p.start();
}

/** How often a body is stored in the real topic (the delivery count, whatever the consumer did). */
function storedCount(body: string): number {
  let n = 0;
  for (let q = 0; q < 4; q++) {
    for (const r of tb.broker.store.getMessage("tx-test-reader", TOPIC, q, 0, 1_000).messages) if (text(decodeRecord(r).body) === body) n++;
  }
  return n;
}
const consumedCount = (body: string) => consumed.filter((m) => text(m.body) === body).length;

const fixed = (execute: LocalTransactionState, check: LocalTransactionState, checks: string[] = []): TransactionListener => ({
  executeLocalTransaction: () => execute,
  checkLocalTransaction: (msg) => {
    checks.push(text(msg.body));
    return check;
  },
});

beforeAll(async () => {
  nsDir = makeTempDir("tsmq-tx-ns-");
  namesrv = new NameServer({ config: parseNamesrvConfig(new Map(), { listenPort: 0, kvConfigPath: path.join(nsDir, "kvConfig.json") }).config, host: "127.0.0.1" });
  await namesrv.start();
  tb = await startTestBroker({
    overrides: {
      namesrvAddr: `127.0.0.1:${namesrv.port}`,
      transactionCheckInterval: CHECK_INTERVAL_MS,
      transactionTimeOut: TRANSACTION_TIMEOUT_MS,
      transactionCheckMax: CHECK_MAX,
    },
  });
  tb.broker.topics.update(newTopicConfig(TOPIC, { readQueueNums: 4, writeQueueNums: 4 }));
  await tb.broker.registerBrokerAll();
  consumer = new PushConsumer({ namesrvAddr: `127.0.0.1:${namesrv.port}`, instanceName: "tx-consumer", groupName: "tx_consumer", consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET", logger, rebalanceIntervalMs: 500 });
  consumer.subscribe(TOPIC, "*").registerMessageListener((msgs) => {
    consumed.push(...msgs);
    return "CONSUME_SUCCESS";
  });
  await consumer.start();
});

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  await consumer?.shutdown();
  await tb?.destroy();
  await namesrv?.shutdown();
  fs.rmSync(nsDir, { recursive: true, force: true });
});

describe("TransactionProducer", () => {
  test("commit: the message is consumed exactly once, with its transaction id", async () => {
    const seen: unknown[] = [];
    const p = producer("tx-commit", "tx_commit", {
      executeLocalTransaction: (msg, arg) => {
        seen.push(msg.transactionId, arg, text(msg.body), msg.properties.TAGS, msg.properties.PGROUP);
        return "COMMIT_MESSAGE";
      },
      checkLocalTransaction: () => "UNKNOW",
    });
    const r = await p.sendMessageInTransaction({ topic: TOPIC, body: "tx-commit", tags: "TagTx", keys: "k-commit" }, 42);
    expect(r.sendStatus).toBe("SEND_OK");
    expect(r.localTransactionState).toBe("COMMIT_MESSAGE");
    expect(r.transactionId).toBe(r.msgId);
    expect(seen).toEqual([r.msgId, 42, "tx-commit", "TagTx", "tx_commit"]);
    await pollUntil(() => consumedCount("tx-commit") > 0, WAIT_MS);
    const m = consumed.find((c) => text(c.body) === "tx-commit")!;
    expect(m.msgId).toBe(r.msgId);
    expect(m.tags).toBe("TagTx");
    expect(m.keys).toBe("k-commit");
    expect(m.properties.TRAN_MSG).toBe("true");
    expect(storedCount("tx-commit")).toBe(1);
  });

  test("rollback: the message is never stored in its topic nor consumed", async () => {
    const p = producer("tx-rollback", "tx_rollback", fixed("ROLLBACK_MESSAGE", "ROLLBACK_MESSAGE"));
    const before = tb.broker.store.getMaxOffsetInQueue(SystemTopic.TRANS_OP_HALF, 0);
    const r = await p.sendMessageInTransaction({ topic: TOPIC, body: "tx-rollback" });
    expect(r.localTransactionState).toBe("ROLLBACK_MESSAGE");
    // The oneway END_TRANSACTION has been processed once its op record exists.
    await pollUntil(() => tb.broker.store.getMaxOffsetInQueue(SystemTopic.TRANS_OP_HALF, 0) > before, WAIT_MS);
    expect(storedCount("tx-rollback")).toBe(0);
    expect(consumedCount("tx-rollback")).toBe(0);
  });

  test("a throwing local transaction is UNKNOW, then resolved by the check listener", async () => {
    const checks: string[] = [];
    const p = producer("tx-unknown", "tx_unknown", {
      executeLocalTransaction: () => {
        throw new Error("local database down");
      },
      checkLocalTransaction: (msg) => {
        checks.push(text(msg.body));
        expect(msg.transactionId).toBe(msg.msgId);
        return "COMMIT_MESSAGE";
      },
    });
    const r = await p.sendMessageInTransaction({ topic: TOPIC, body: "tx-unknown" });
    expect(r.localTransactionState).toBe("UNKNOW");
    await pollUntil(() => consumedCount("tx-unknown") > 0, WAIT_MS);
    expect(checks).toContain("tx-unknown");
    expect(storedCount("tx-unknown")).toBe(1);
  });

  test("a producer that died after its half message is checked through another producer of the group", async () => {
    const group = "tx_failover";
    const deadChecks: string[] = [];
    const liveChecks: string[] = [];
    const dead = producer("tx-dead", group, fixed("UNKNOW", "ROLLBACK_MESSAGE", deadChecks));
    await dead.sendMessageInTransaction({ topic: TOPIC, body: "tx-orphan" });
    await dead.shutdown();
    // The survivor registers with the broker from start(), before sending anything.
    producer("tx-live", group, fixed("UNKNOW", "COMMIT_MESSAGE", liveChecks));
    await pollUntil(() => consumedCount("tx-orphan") > 0, WAIT_MS);
    expect(liveChecks).toContain("tx-orphan");
    expect(deadChecks).toHaveLength(0);
    expect(storedCount("tx-orphan")).toBe(1);
  });

  test("transactionCheckMax: a transaction nobody knows is checked that many times, then dropped", async () => {
    const checks: string[] = [];
    const p = producer("tx-max", "tx_max", fixed("UNKNOW", "UNKNOW", checks));
    await p.sendMessageInTransaction({ topic: TOPIC, body: "tx-forever-unknown" });
    await pollUntil(() => {
      for (const r of tb.broker.store.getMessage("tx-test-reader", SystemTopic.TRANS_CHECK_MAX_TIME, 0, 0, 1_000).messages) {
        if (text(decodeRecord(r).body) === "tx-forever-unknown") return true;
      }
      return false;
    }, WAIT_MS);
    await pollUntil(() => checks.length === CHECK_MAX, WAIT_MS);
    expect(storedCount("tx-forever-unknown")).toBe(0);
    expect(consumedCount("tx-forever-unknown")).toBe(0);
  });
});
