// The other direction: tsmq's client library and its CLI (`./tsmq produce|consume|admin` as
// subprocesses) against the released Apache RocketMQ NameServer and broker (4.9.7 jars from Maven
// Central; 4.9.8 server jars are not served there). Every count is checked exactly.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { AdminClient } from "../../src/client/admin.ts";
import type { ConsumedMessage } from "../../src/client/consumed-message.ts";
import { Producer, selectByHash } from "../../src/client/producer.ts";
import { PullConsumer } from "../../src/client/pull-consumer.ts";
import { PushConsumer, type PushConsumerOptions } from "../../src/client/push-consumer.ts";
import { TransactionProducer } from "../../src/client/transaction-producer.ts";
import { type ApacheCluster, startApacheCluster } from "./apache-cluster.ts";
import { describeJava } from "./java-peer.ts";
import { collectingLogger, text, waitUntil } from "../client/standalone-fixture.ts";
import { ensureBinary } from "../e2e/helpers.ts";

/**
 * Check-backs soon: Apache checks halves older than transactionTimeOut every
 * transactionCheckInterval (defaults 6 s and 60 s).
 */
const BROKER_PROPS = { transactionCheckInterval: 1_000, transactionTimeOut: 2_000 };
/** Apache's default messageDelayLevel starts "1s 5s 10s". */
const DELAY_LEVEL = 2;
const DELAY_LEVEL_MS = 5_000;
const SLOW_TEST_MS = 120_000;

let apache: ApacheCluster;
let brokerAddr: string;
let admin: AdminClient;
let producer: Producer;
let bin: string;
const logger = collectingLogger();
const cleanups: Array<() => Promise<unknown> | void> = [];

function common(instanceName: string) {
  return { namesrvAddr: apache.namesrvAddr, instanceName, logger, rebalanceIntervalMs: 1_000, persistConsumerOffsetIntervalMs: 500 };
}

async function createTopic(topic: string, queues = 4, order = false): Promise<void> {
  await admin.createTopic(brokerAddr, { topic, readQueueNums: queues, writeQueueNums: queues, order });
  await waitUntil(`route of ${topic}`, async () => (await admin.inst.fetchTopicRoute(topic)) !== undefined);
}

function pushConsumer(group: string, extra: Partial<PushConsumerOptions> = {}): PushConsumer {
  const c = new PushConsumer({ ...common(group), groupName: group, consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET", ...extra });
  cleanups.push(() => c.shutdown());
  return c;
}

/** Starts a concurrent consumer of `topic` that collects every delivery. */
async function collect(group: string, topic: string, expression = "*"): Promise<ConsumedMessage[]> {
  const got: ConsumedMessage[] = [];
  const c = pushConsumer(group).subscribe(topic, expression);
  c.registerMessageListener((msgs) => {
    got.push(...msgs);
    return "CONSUME_SUCCESS";
  });
  await c.start();
  return got;
}

/** Waits until the broker's offsets of `group` on `topic` reach the queue ends (everything consumed and committed). */
async function waitCaughtUp(group: string, topic: string): Promise<void> {
  await waitUntil(`${group} caught up on ${topic}`, async () => {
    const { progress } = await admin.consumeStats(group, topic).catch(() => ({ progress: [] }));
    return progress.length > 0 && progress.every((p) => p.consumerOffset === p.brokerOffset);
  });
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function tsmq(args: string[], stdin?: string): Promise<Run> {
  const proc = Bun.spawn([bin, ...args], {
    env: { ...process.env, NAMESRV_ADDR: apache.namesrvAddr, ROCKETMQ_CLIENT_LOCAL_OFFSET_STORE_DIR: `${apache.dir}/offsets` },
    stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

async function ok(...args: string[]): Promise<string> {
  const r = await tsmq(args);
  if (r.code !== 0) throw new Error(`tsmq ${args.join(" ")} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const jsonLines = (s: string) => s.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);

describeJava("tsmq client and CLI against the Apache broker", () => {
  beforeAll(async () => {
    bin = await ensureBinary();
    apache = await startApacheCluster({ brokers: [{ name: "broker-a", props: BROKER_PROPS }] });
    brokerAddr = apache.broker("broker-a").addr;
    admin = new AdminClient({ namesrvAddr: apache.namesrvAddr, logger });
    producer = new Producer({ ...common("apache-producer"), groupName: "apache_producer" }).start();
  }, 600_000);

  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
    await producer?.shutdown();
    admin?.close();
    await apache?.stop();
  }, 60_000);

  test("sync send, push consume: every message once, tags, keys and properties intact", async () => {
    const topic = "ApacheSync";
    await createTopic(topic);
    const sent = new Map<string, string>();
    for (let i = 0; i < 100; i++) {
      const r = await producer.send({ topic, body: `sync-${i}`, tags: i % 2 ? "TagB" : "TagA", keys: [`k-${i}`], properties: { i: String(i) } });
      expect(r.sendStatus).toBe("SEND_OK");
      sent.set(r.msgId, `sync-${i}`);
    }
    const got = await collect("apache_sync", topic);
    await waitUntil("100 deliveries", () => got.length >= 100);
    await waitCaughtUp("apache_sync", topic);
    expect(got).toHaveLength(100);
    expect(new Map(got.map((m) => [m.msgId, text(m.body)]))).toEqual(sent);
    for (const m of got) {
      const i = Number(m.properties.i);
      expect(m.tags).toBe(i % 2 ? "TagB" : "TagA");
      expect(m.keys).toBe(`k-${i}`);
    }
    // The tag filter is applied by the Apache broker.
    const onlyA = await collect("apache_sync_tag", topic, "TagA");
    await waitCaughtUp("apache_sync_tag", topic);
    expect(onlyA.map((m) => text(m.body)).sort()).toEqual([...Array(50).keys()].map((i) => `sync-${i * 2}`).sort());
  });

  test("batch send: one request, every member consumed once", async () => {
    const topic = "ApacheBatch";
    await createTopic(topic, 1);
    const r = await producer.sendBatch([...Array(10).keys()].map((i) => ({ topic, body: `batch-${i}`, keys: `b-${i}` })));
    expect(r.sendStatus).toBe("SEND_OK");
    expect(r.msgId.split(",")).toHaveLength(10);
    const got = await collect("apache_batch", topic);
    await waitCaughtUp("apache_batch", topic);
    expect(got.map((m) => text(m.body))).toEqual([...Array(10).keys()].map((i) => `batch-${i}`));
    expect(got.map((m) => m.msgId)).toEqual(r.msgId.split(","));
    expect(got.map((m) => m.keys)).toEqual([...Array(10).keys()].map((i) => `b-${i}`));
  });

  test("orderly: each order's steps on one queue, consumed in sequence", async () => {
    const topic = "ApacheOrderly";
    const orders = 6;
    const steps = 20;
    await createTopic(topic, 4, true);
    for (let step = 0; step < steps; step++) {
      for (let order = 0; order < orders; order++) await producer.sendOrderly({ topic, body: `${order}:${step}` }, selectByHash, order);
    }
    const seen = new Map<number, { queueId: number; steps: number[] }>();
    const c = pushConsumer("apache_orderly").subscribe(topic);
    c.registerOrderlyListener((msgs, ctx) => {
      for (const m of msgs) {
        const [order, step] = text(m.body).split(":").map(Number) as [number, number];
        const s = seen.get(order) ?? { queueId: ctx.messageQueue.queueId, steps: [] };
        expect(ctx.messageQueue.queueId).toBe(s.queueId);
        s.steps.push(step);
        seen.set(order, s);
      }
      return "SUCCESS";
    });
    await c.start();
    await waitCaughtUp("apache_orderly", topic);
    expect(seen.size).toBe(orders);
    for (const [order, s] of seen) {
      expect(s.queueId).toBe(order % 4);
      expect(s.steps).toEqual([...Array(steps).keys()]);
    }
  });

  test(
    "transactions: commit delivered, rollback never, unknown committed by the broker's check-back",
    async () => {
      const topic = "ApacheTx";
      await createTopic(topic, 2);
      const checked: string[] = [];
      const tx = new TransactionProducer({
        ...common("apache-tx"),
        groupName: "apache_tx_producer",
        transactionListener: {
          executeLocalTransaction: (msg) => {
            const body = text(msg.body);
            return body === "tx-commit" ? "COMMIT_MESSAGE" : body === "tx-rollback" ? "ROLLBACK_MESSAGE" : "UNKNOW";
          },
          checkLocalTransaction: (msg) => {
            checked.push(text(msg.body));
            return "COMMIT_MESSAGE";
          },
        },
      }).start();
      cleanups.push(() => tx.shutdown());
      for (const body of ["tx-commit", "tx-rollback", "tx-unknown"]) {
        const r = await tx.sendMessageInTransaction({ topic, body });
        expect(r.sendStatus).toBe("SEND_OK");
      }
      const got = await collect("apache_tx", topic);
      await waitUntil("the check-back committed tx-unknown", () => got.length >= 2, SLOW_TEST_MS);
      await waitCaughtUp("apache_tx", topic);
      expect(got.map((m) => text(m.body)).sort()).toEqual(["tx-commit", "tx-unknown"]);
      expect(checked).toContain("tx-unknown");
      expect(checked).not.toContain("tx-commit");
      expect(checked).not.toContain("tx-rollback");
    },
    SLOW_TEST_MS,
  );

  test("delay level: delivered once, no earlier than the level's delay after the send", async () => {
    const topic = "ApacheDelay";
    await createTopic(topic, 1);
    const got = await collect("apache_delay", topic);
    const sentAtMs = Date.now();
    const r = await producer.send({ topic, body: "delayed", delayLevel: DELAY_LEVEL });
    expect(r.sendStatus).toBe("SEND_OK");
    await waitUntil("the delayed message", () => got.length >= 1);
    const arrivedAtMs = Date.now();
    await waitCaughtUp("apache_delay", topic);
    expect(got).toHaveLength(1);
    expect(text(got[0]!.body)).toBe("delayed");
    expect(arrivedAtMs - sentAtMs).toBeGreaterThanOrEqual(DELAY_LEVEL_MS);
    // The real topic's copy is stored when the level expires.
    expect(got[0]!.storeTimestamp - got[0]!.bornTimestamp).toBeGreaterThanOrEqual(DELAY_LEVEL_MS);
    expect(got[0]!.properties.DELAY).toBe(String(DELAY_LEVEL));
  });

  test("pull consumer: assigned queue polled in order, commit stored by the broker, seek", async () => {
    const topic = "ApachePull";
    await createTopic(topic, 1);
    for (let i = 0; i < 5; i++) await producer.send({ topic, body: `p-${i}` });
    const c = new PullConsumer({ ...common("apache-pull"), groupName: "apache_pull", consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET", autoCommit: false });
    cleanups.push(() => c.shutdown());
    await c.start();
    const [mq] = await c.fetchMessageQueues(topic);
    await c.assign([mq!]);
    const seen: string[] = [];
    await waitUntil("5 polled", async () => {
      for (const m of await c.poll(500)) seen.push(text(m.body));
      return seen.length >= 5;
    });
    expect(seen).toEqual(["p-0", "p-1", "p-2", "p-3", "p-4"]);
    await c.commitSync();
    expect(await c.committed(mq!)).toBe(5);
    c.seek(mq!, 3);
    expect((await c.poll(5_000)).map((m) => text(m.body))).toEqual(["p-3", "p-4"]);
    await c.seekToBegin(mq!);
    expect(text((await c.poll(5_000))[0]!.body)).toBe("p-0");
  });
  test("tsmq produce / consume: sync, batch from stdin, keys and tags; the group's offsets committed", async () => {
    const topic = "ApacheCli";
    await createTopic(topic, 2);
    const sent = jsonLines(await ok("produce", "-t", topic, "--tag", "TagA", "--keys", "k1 k2", "--props", "a=1", "--body", "hi", "--count", "3", "--json"));
    expect(sent).toHaveLength(3);
    for (const r of sent) expect(r).toMatchObject({ sendStatus: "SEND_OK", topic, brokerName: "broker-a" });
    const b = await tsmq(["produce", "-t", topic, "--tag", "TagB", "--batch", "2"], "one\ntwo\nthree\n");
    expect(b.code).toBe(0);
    expect(b.stdout.match(/^SEND_OK /gm)).toHaveLength(3);
    const got = jsonLines(await ok("consume", "-t", topic, "-g", "apache_cli", "--from", "first", "--count", "6", "--json"));
    expect(got).toHaveLength(6);
    for (const m of got.filter((m) => m.tags === "TagA")) expect(m).toMatchObject({ topic, keys: "k1 k2", body: "hi", properties: { a: "1" } });
    expect(got.filter((m) => m.tags === "TagA")).toHaveLength(3);
    expect(got.filter((m) => m.tags === "TagB").map((m) => m.body).sort()).toEqual(["one", "three", "two"]);
    expect(JSON.parse(await ok("admin", "consumerProgress", "-g", "apache_cli", "-t", topic, "--json")).diffTotal).toBe(0);
  });

  test("tsmq consume --orderly and --filter, produce --delay-level", async () => {
    const topic = "ApacheCliOrderly";
    await createTopic(topic, 2);
    expect((await ok("produce", "-t", topic, "--body", "o", "--count", "20", "--async")).match(/^SEND_OK /gm)).toHaveLength(20);
    const lines = (await ok("consume", "-t", topic, "-g", "apache_cli_orderly", "--from", "first", "--count", "20", "--orderly")).trim().split("\n");
    expect(lines).toHaveLength(20);
    const last = new Map<string, number>();
    for (const line of lines) {
      const [, queue, offset] = /queue=(\S+) offset=(\d+)/.exec(line)!;
      expect(Number(offset)).toBe((last.get(queue!) ?? -1) + 1);
      last.set(queue!, Number(offset));
    }
    const delayed = "ApacheCliDelay";
    await createTopic(delayed, 1);
    await ok("produce", "-t", delayed, "--tag", "X", "--body", "x");
    const sentAtMs = Date.now();
    await ok("produce", "-t", delayed, "--tag", "Y", "--body", "late", "--delay-level", String(DELAY_LEVEL));
    const got = jsonLines(await ok("consume", "-t", delayed, "-g", "apache_cli_delay", "--from", "first", "--filter", "Y", "--count", "1", "--json"));
    expect(Date.now() - sentAtMs).toBeGreaterThanOrEqual(DELAY_LEVEL_MS);
    expect(got.map((m) => m.body)).toEqual(["late"]);
  }, SLOW_TEST_MS);

  test(
    "tsmq produce --transaction commit | rollback | unknown",
    async () => {
      const topic = "ApacheCliTx";
      await createTopic(topic, 2);
      for (const mode of ["commit", "rollback", "unknown"]) {
        const r = await tsmq(["produce", "-t", topic, "-g", "apache_cli_tx", "--body", `tx-${mode}`, "--transaction", mode, "--json"]);
        expect(r.code).toBe(0);
        expect(jsonLines(r.stdout)[0]).toMatchObject({ sendStatus: "SEND_OK", topic });
        // The broker asked back about the unknown one (printed on stderr).
        if (mode === "unknown") expect(r.stderr).toMatch(/checked back: COMMIT_MESSAGE/);
      }
      await waitUntil("2 messages in the topic", async () => (await admin.topicStats(topic)).reduce((n, s) => n + s.maxOffset - s.minOffset, 0) === 2);
      const got = jsonLines(await ok("consume", "-t", topic, "-g", "apache_cli_tx_c", "--from", "first", "--count", "2", "--json"));
      expect(got.map((m) => m.body).sort()).toEqual(["tx-commit", "tx-unknown"]);
    },
    SLOW_TEST_MS,
  );

  test("tsmq admin: cluster, topics, groups, messages, offsets and broker commands", async () => {
    const admin_ = (...args: string[]) => ok("admin", ...args);
    expect(await admin_("clusterList")).toMatch(new RegExp(`DefaultCluster\\s+broker-a\\s+0\\s+${brokerAddr.replace(/\./g, "\\.")}\\s+V4_9_7`));
    expect(await admin_("updateTopic", "-t", "ApacheAdmin", "-c", "DefaultCluster", "-r", "2", "-w", "2")).toContain("success");
    await waitUntil("ApacheAdmin listed", async () => (await admin_("topicList")).split("\n").includes("ApacheAdmin"));
    expect(JSON.parse(await admin_("topicRoute", "-t", "ApacheAdmin")).queueDatas[0]).toMatchObject({ brokerName: "broker-a", readQueueNums: 2, writeQueueNums: 2, perm: 6 });

    const sent = jsonLines(await ok("produce", "-t", "ApacheAdmin", "--keys", "admin-key", "--body", "admin body", "--json"))[0]!;
    expect(JSON.parse(await admin_("topicStatus", "-t", "ApacheAdmin", "--json")).reduce((s: number, q: { maxOffset: number }) => s + q.maxOffset, 0)).toBe(1);
    expect(JSON.parse(await admin_("queryMsgById", "-i", sent.offsetMsgId, "--json"))).toMatchObject({ body: "admin body", keys: "admin-key", msgId: sent.msgId });
    await waitUntil("the key indexed", async () => JSON.parse(await admin_("queryMsgByKey", "-t", "ApacheAdmin", "-k", "admin-key", "--json")).length === 1);
    expect(await admin_("queryMsgByOffset", "-t", "ApacheAdmin", "-b", "broker-a", "-i", String(sent.queueId), "-o", "0")).toContain("admin body");

    expect(await admin_("updateSubGroup", "-g", "apache_admin_group", "-b", brokerAddr, "-q", "3")).toContain("success");
    expect(await admin_("deleteSubGroup", "-g", "apache_admin_group", "-b", "broker-a")).toContain("success");

    const status = JSON.parse(await admin_("brokerStatus", "-b", "broker-a", "--json"));
    expect(Object.values(status)[0]).toHaveProperty("brokerVersionDesc", "V4_9_7");
    expect(await admin_("getBrokerConfig", "-b", brokerAddr)).toMatch(/brokerName\s+=\s+broker-a/);

    const consumer = Bun.spawn([bin, "consume", "-n", apache.namesrvAddr, "-t", "ApacheAdmin", "-g", "apache_admin_live", "--from", "first"], { stdout: "pipe", stderr: "pipe" });
    cleanups.push(async () => {
      consumer.kill("SIGKILL");
      await consumer.exited;
    });
    await waitUntil("the live consumer caught up", async () => {
      const r = await tsmq(["admin", "consumerProgress", "-g", "apache_admin_live", "-t", "ApacheAdmin", "--json"]);
      return r.code === 0 && JSON.parse(r.stdout).diffTotal === 0;
    });
    expect(JSON.parse(await admin_("consumerConnection", "-g", "apache_admin_live", "--json")).connectionSet).toHaveLength(1);
    consumer.kill("SIGTERM");
    expect(await consumer.exited).toBe(0);
    const reset = JSON.parse(await admin_("resetOffsetByTime", "-g", "apache_admin_live", "-t", "ApacheAdmin", "-s", "0", "--json"));
    expect(reset.map((r: { offset: number }) => r.offset)).toEqual([0, 0]);
    expect(JSON.parse(await admin_("consumerProgress", "-g", "apache_admin_live", "-t", "ApacheAdmin", "--json")).diffTotal).toBe(1);

    // The library producer learns the broker from a send, then heartbeats its group to it.
    await producer.send({ topic: "ApacheAdmin", body: "from a live producer" });
    await waitUntil("the producer's heartbeat", async () => (await tsmq(["admin", "producerConnection", "-g", "apache_producer", "-t", "ApacheAdmin"])).code === 0);
    expect(JSON.parse(await admin_("producerConnection", "-g", "apache_producer", "-t", "ApacheAdmin", "--json")).connectionSet).toHaveLength(1);

    expect(await admin_("deleteTopic", "-t", "ApacheAdmin", "-c", "DefaultCluster")).toContain("success");
    const gone = await tsmq(["admin", "topicRoute", "-t", "ApacheAdmin"]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("No topic route info");
  }, SLOW_TEST_MS);
});
