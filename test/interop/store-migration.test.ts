// A store moves between Apache RocketMQ (4.9.7 broker from Maven Central) and tsmq, both ways:
// one broker writes messages with keys and tags to two topics, a group consumes part of one, a
// delayed message passes the schedule topic and another is still waiting, a transaction is left
// undecided, a subscription group is created; the broker stops (cleanly, or kill -9) and the other
// broker opens the same store directory. Everything written must be there: every message readable,
// every key found through the index, tags filtered through the consume queues, the group resuming
// exactly at its committed offsets, topics, groups and delay offsets as they were, the waiting
// delayed message delivered once and the open transaction checked back. See docs/migration.md.

import { afterAll, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { AdminClient } from "../../src/client/admin.ts";
import type { ConsumedMessage } from "../../src/client/consumed-message.ts";
import { decodeJsonBody } from "../../src/client/json-body.ts";
import { Producer } from "../../src/client/producer.ts";
import { PushConsumer } from "../../src/client/push-consumer.ts";
import { TransactionProducer, type LocalTransactionState } from "../../src/client/transaction-producer.ts";
import { parseFastjson } from "../../src/common/fastjson.ts";
import { RequestCode } from "../../src/remoting/codes.ts";
import { RemotingCommand } from "../../src/remoting/command.ts";
import { startApacheCluster } from "./apache-cluster.ts";
import { describeJava } from "./java-peer.ts";
import { startTsmqCluster, type ClusterBroker, type Props } from "./tsmq-cluster.ts";
import { collectingLogger, text, waitUntil } from "../client/standalone-fixture.ts";

const TOPIC_A = "MigrateA";
const TOPIC_B = "MigrateB";
const TOPIC_TX = "MigrateTx";
const GROUP = "migrate_group";
const TX_GROUP = "migrate_tx_producer";
/** Sent to TOPIC_A and consumed by GROUP before the move. */
const CONSUMED_BEFORE = 20;
/** Sent to TOPIC_A after GROUP stopped: all GROUP gets after the move. */
const LEFT_FOR_AFTER = 7;
/** Sent to TOPIC_B, tagged TagX and TagY in turn. */
const SENT_TO_B = 10;
/** A non-default field, to see the group's config (not a re-created default) after the move. */
const GROUP_RETRY_MAX_TIMES = 5;
/** Both brokers' default messageDelayLevel: level 1 is 1 s, level 3 is 10 s. */
const DELIVERED_DELAY_LEVEL = 1;
/** Still waiting in SCHEDULE_TOPIC_XXXX when the writer stops. */
const PENDING_DELAY_LEVEL = 3;
const QUEUES = 2;
const ADMIN_TIMEOUT_MS = 5_000;
const STORE_WAIT_MS = 60_000;
const MIGRATION_TEST_MS = 300_000;
/**
 * Small segments, the same on both sides (a store opens only with the sizes it was written with):
 * the messages span several commit log files, consume queue files and index files. Quick flushes of
 * delay offsets (Apache's default is 10 s); consumer offsets flush every 1 s in both fixtures.
 */
const STORE_PROPS: Props = {
  mappedFileSizeCommitLog: 4 * 1024,
  mappedFileSizeConsumeQueue: 10 * 20,
  maxHashSlotNum: 16,
  maxIndexNum: 32,
  flushDelayOffsetInterval: 1_000,
};
/**
 * The opening broker creates nothing itself, so what the checks see came from the store; it checks
 * open transactions soon (halves older than 2 s, every second).
 */
const READER_PROPS: Props = { ...STORE_PROPS, autoCreateTopicEnable: false, autoCreateSubscriptionGroup: false, transactionCheckInterval: 1_000, transactionTimeOut: 2_000 };

const logger = collectingLogger();
const stops: Array<() => Promise<unknown> | void> = [];

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
}, 120_000);

/**
 * How the opening broker's index answers keys. Apache's abnormal recovery re-adds every key of the
 * message at the last kept index file's end (IndexService.buildIndex skips only offsets below it),
 * so after a crash at an index file boundary that message is found twice, at one offset; tsmq adds
 * only missing keys (docs/migration.md).
 */
type Reindexed = "exactly once" | "boundary message twice";

interface Written {
  /** Body by UNIQ_KEY msgId, per topic. */
  a: Map<string, string>;
  b: Map<string, string>;
  /** Bodies GROUP has not consumed yet. */
  rest: string[];
  /** delayOffset.json's offsetTable as the writer left it. */
  delayOffsets: Record<string, number>;
}

async function invoke(admin: AdminClient, brokerAddr: string, code: number): Promise<Record<string, any>> {
  const response = await admin.inst.invokeBroker(brokerAddr, RemotingCommand.request(code, {}), ADMIN_TIMEOUT_MS);
  return decodeJsonBody(response.body, `request ${code}`) as Record<string, any>;
}

/** A config file as it is on disk (fastjson's unquoted numeric keys included). */
function configOnDisk(storeDir: string, name: string): Record<string, any> {
  const file = path.join(storeDir, "config", name);
  return fs.existsSync(file) ? (parseFastjson(fs.readFileSync(file, "utf8")) as Record<string, any>) : {};
}

const sumMax = async (admin: AdminClient, topic: string) => (await admin.topicStats(topic)).reduce((n, s) => n + s.maxOffset, 0);

async function caughtUp(admin: AdminClient, group: string, topic: string): Promise<boolean> {
  const { progress } = await admin.consumeStats(group, topic).catch(() => ({ progress: [] }));
  return progress.length === QUEUES && progress.every((p) => p.consumerOffset === p.brokerOffset);
}

/** Runs a consumer of `group` on `topic` until the group's offsets reach the queue ends; gives what it got. */
async function consumeAll(namesrvAddr: string, admin: AdminClient, group: string, topic: string, expression = "*"): Promise<ConsumedMessage[]> {
  const got: ConsumedMessage[] = [];
  const c = new PushConsumer({ namesrvAddr, instanceName: `${group}-${topic}`, groupName: group, consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET", logger, rebalanceIntervalMs: 1_000, persistConsumerOffsetIntervalMs: 300 }).subscribe(topic, expression);
  c.registerMessageListener((msgs) => {
    got.push(...msgs);
    return "CONSUME_SUCCESS";
  });
  await c.start();
  try {
    await waitUntil(`${group} caught up on ${topic}`, () => caughtUp(admin, group, topic), STORE_WAIT_MS);
  } finally {
    await c.shutdown();
  }
  return got;
}

async function sendAll(producer: Producer, topic: string, prefix: string, count: number, into: Map<string, string>): Promise<string[]> {
  const bodies: string[] = [];
  for (let i = 0; i < count; i++) {
    const body = `${prefix}-${i}`;
    const r = await producer.send({ topic, body, keys: [`key-${body}`], tags: i % 2 === 0 ? "TagX" : "TagY" });
    expect(r.sendStatus).toBe("SEND_OK");
    into.set(r.msgId, body);
    bodies.push(body);
  }
  return bodies;
}

/** A transaction producer of TX_GROUP whose local transactions stay open and whose check-backs answer `onCheck`. */
function txProducer(namesrvAddr: string, onCheck: LocalTransactionState, checked: string[] = []): TransactionProducer {
  return new TransactionProducer({
    namesrvAddr,
    instanceName: `migrate-tx-${onCheck}`,
    groupName: TX_GROUP,
    logger,
    transactionListener: {
      executeLocalTransaction: () => "UNKNOW",
      checkLocalTransaction: (msg) => {
        checked.push(text(msg.body));
        return onCheck;
      },
    },
  }).start();
}

/** The writing side: topics, group, messages, a partial consumption, delayed messages, an open transaction. */
async function writeStore(namesrvAddr: string, broker: ClusterBroker): Promise<Written> {
  const admin = new AdminClient({ namesrvAddr, logger });
  const producer = new Producer({ namesrvAddr, instanceName: "migrate-writer", groupName: "migrate_producer", logger }).start();
  const tx = txProducer(namesrvAddr, "UNKNOW");
  try {
    for (const topic of [TOPIC_A, TOPIC_B, TOPIC_TX]) await admin.createTopic(broker.addr, { topic, readQueueNums: QUEUES, writeQueueNums: QUEUES });
    await admin.createSubscriptionGroup(broker.addr, GROUP, { retryMaxTimes: GROUP_RETRY_MAX_TIMES });
    await waitUntil("routes", async () => (await admin.inst.fetchTopicRoute(TOPIC_TX)) !== undefined);
    const written: Written = { a: new Map(), b: new Map(), rest: [], delayOffsets: {} };
    await sendAll(producer, TOPIC_A, "a", CONSUMED_BEFORE, written.a);
    await sendAll(producer, TOPIC_B, "b", SENT_TO_B, written.b);
    expect(await consumeAll(namesrvAddr, admin, GROUP, TOPIC_A)).toHaveLength(CONSUMED_BEFORE);
    written.rest = await sendAll(producer, TOPIC_A, "rest", LEFT_FOR_AFTER, written.a);
    const delivered = await producer.send({ topic: TOPIC_B, body: "delayed", delayLevel: DELIVERED_DELAY_LEVEL });
    written.b.set(delivered.msgId, "delayed");
    await waitUntil("the delayed message in its topic", async () => (await sumMax(admin, TOPIC_B)) === SENT_TO_B + 1, STORE_WAIT_MS);
    expect((await tx.sendMessageInTransaction({ topic: TOPIC_TX, body: "open-tx" })).localTransactionState).toBe("UNKNOW");

    // What a crash must not lose: the files flushed on their intervals.
    await waitUntil("consumerOffset.json has the group's offsets", () => {
      const table = configOnDisk(broker.storeDir, "consumerOffset.json").offsetTable ?? {};
      return Object.values<number>(table[`${TOPIC_A}@${GROUP}`] ?? {}).reduce((n, o) => n + o, 0) === CONSUMED_BEFORE;
    });
    await waitUntil("delayOffset.json has the delivered level", () => configOnDisk(broker.storeDir, "delayOffset.json").offsetTable?.[DELIVERED_DELAY_LEVEL] === 1);
    written.delayOffsets = configOnDisk(broker.storeDir, "delayOffset.json").offsetTable;

    const pending = await producer.send({ topic: TOPIC_B, body: "pending-delay", delayLevel: PENDING_DELAY_LEVEL });
    written.b.set(pending.msgId, "pending-delay");
    // The level's 10 s have not passed: the writer stops with the message still scheduled.
    expect(await sumMax(admin, TOPIC_B)).toBe(SENT_TO_B + 1);
    return written;
  } finally {
    await tx.shutdown();
    await producer.shutdown();
    admin.close();
  }
}

/** Topics, groups and delay offsets came from topics.json, subscriptionGroup.json and delayOffset.json. */
async function checkConfig(admin: AdminClient, brokerAddr: string, written: Written): Promise<void> {
  const topics = (await invoke(admin, brokerAddr, RequestCode.GET_ALL_TOPIC_CONFIG)).topicConfigTable;
  for (const topic of [TOPIC_A, TOPIC_B, TOPIC_TX]) expect(topics[topic]).toMatchObject({ topicName: topic, readQueueNums: QUEUES, writeQueueNums: QUEUES, perm: 6 });
  const groups = (await invoke(admin, brokerAddr, RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG)).subscriptionGroupTable;
  expect(groups[GROUP]).toMatchObject({ groupName: GROUP, retryMaxTimes: GROUP_RETRY_MAX_TIMES });
  const delayOffsets = (await invoke(admin, brokerAddr, RequestCode.GET_ALL_DELAY_OFFSET)).offsetTable;
  expect(delayOffsets[DELIVERED_DELAY_LEVEL]).toBe(written.delayOffsets[DELIVERED_DELAY_LEVEL]);
}

/** Commit log, consume queues (tags too) and index: a new group reads every message once, every key finds its message. */
async function checkMessages(namesrvAddr: string, admin: AdminClient, brokerAddr: string, written: Written, reindexed: Reindexed): Promise<void> {
  for (const [topic, sent] of [[TOPIC_A, written.a], [TOPIC_B, written.b]] as const) {
    const group = `migrate_reader_${topic}`;
    await admin.createSubscriptionGroup(brokerAddr, group);
    const got = await consumeAll(namesrvAddr, admin, group, topic);
    expect(got).toHaveLength(sent.size);
    expect(new Map(got.map((m) => [m.msgId, text(m.body)]))).toEqual(sent);
  }
  await admin.createSubscriptionGroup(brokerAddr, "migrate_tag_reader");
  const tagged = await consumeAll(namesrvAddr, admin, "migrate_tag_reader", TOPIC_B, "TagX");
  expect(tagged.map((m) => text(m.body)).sort()).toEqual([...Array(SENT_TO_B / 2).keys()].map((i) => `b-${i * 2}`));
  for (const [topic, sent] of [[TOPIC_A, written.a], [TOPIC_B, written.b]] as const) {
    for (const body of sent.values()) {
      if (body.includes("delay")) continue; // sent without keys
      const found = await admin.queryMessageByKey(topic, `key-${body}`);
      if (reindexed === "boundary message twice") {
        expect(new Set(found.map((m) => m.offsetMsgId)).size).toBe(1);
        expect(new Set(found.map((m) => text(m.body)))).toEqual(new Set([body]));
      } else {
        expect(found.map((m) => text(m.body))).toEqual([body]);
      }
    }
  }
}

/** The opening side: every check against the broker that opened the other's store. */
async function checkStore(namesrvAddr: string, brokerAddr: string, written: Written, reindexed: Reindexed = "exactly once"): Promise<void> {
  const admin = new AdminClient({ namesrvAddr, logger });
  const checked: string[] = [];
  const tx = txProducer(namesrvAddr, "COMMIT_MESSAGE", checked);
  try {
    await checkConfig(admin, brokerAddr, written);
    await waitUntil("routes registered", async () => (await admin.inst.fetchTopicRoute(TOPIC_TX)) !== undefined);
    // consumerOffset.json: the group resumes at its committed offsets and gets only the rest.
    const resumed = await consumeAll(namesrvAddr, admin, GROUP, TOPIC_A);
    expect(resumed.map((m) => text(m.body)).sort()).toEqual([...written.rest].sort());
    // The schedule topic and its offsets: the waiting message arrives once, the delivered one not again.
    await waitUntil("the pending delayed message delivered", async () => (await sumMax(admin, TOPIC_B)) === SENT_TO_B + 2, STORE_WAIT_MS);
    // The half topic: the open transaction is checked back by the new broker and committed.
    await waitUntil("the open transaction committed", async () => (await sumMax(admin, TOPIC_TX)) === 1, STORE_WAIT_MS);
    expect(checked).toContain("open-tx");
    await checkMessages(namesrvAddr, admin, brokerAddr, written, reindexed);
  } finally {
    await tx.shutdown();
    admin.close();
  }
}

type StopMode = "stop" | "kill9";

/** The small segment sizes took effect: the store spans several files of each kind. */
function expectSeveralSegments(storeDir: string): void {
  const dirs = ["commitlog", "index", `consumequeue/${TOPIC_A}/0`];
  const single = dirs.map((d) => [d, fs.readdirSync(path.join(storeDir, d))] as const).filter(([, files]) => files.length < 2);
  expect(single).toEqual([]);
}

describeJava("store migration between Apache RocketMQ and tsmq", () => {
  for (const mode of ["stop", "kill9"] as const satisfies StopMode[]) {
    test(
      `an Apache store opened by tsmq (${mode})`,
      async () => {
        const apache = await startApacheCluster({ brokers: [{ name: "broker-a", props: STORE_PROPS }] });
        stops.push(() => apache.stop());
        const writer = apache.broker("broker-a");
        const written = await writeStore(apache.namesrvAddr, writer);
        await writer[mode]();
        expectSeveralSegments(writer.storeDir);

        const tsmq = await startTsmqCluster({ brokers: [{ name: "broker-a", props: { ...READER_PROPS, storePathRootDir: writer.storeDir } }] });
        stops.push(() => tsmq.stop());
        await checkStore(tsmq.namesrvAddr, tsmq.broker("broker-a").addr, written);
      },
      MIGRATION_TEST_MS,
    );

    test(
      `a tsmq store opened by Apache (${mode})`,
      async () => {
        const tsmq = await startTsmqCluster({ brokers: [{ name: "broker-a", props: STORE_PROPS }] });
        stops.push(() => tsmq.stop());
        const writer = tsmq.broker("broker-a");
        const written = await writeStore(tsmq.namesrvAddr, writer);
        await writer[mode]();
        expectSeveralSegments(writer.storeDir);

        const storeProps = { storePathRootDir: writer.storeDir, storePathCommitLog: path.join(writer.storeDir, "commitlog") };
        const apache = await startApacheCluster({ brokers: [{ name: "broker-a", props: { ...READER_PROPS, ...storeProps } }] });
        stops.push(() => apache.stop());
        await checkStore(apache.namesrvAddr, apache.broker("broker-a").addr, written, mode === "kill9" ? "boundary message twice" : "exactly once");
      },
      MIGRATION_TEST_MS,
    );
  }
});
