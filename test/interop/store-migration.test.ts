// A store moves between Apache RocketMQ (4.9.7 broker from Maven Central) and tsmq, both ways:
// one broker writes messages with keys to two topics, a group consumes part of one, a delayed
// message passes the schedule topic, a subscription group is created; the broker stops cleanly and
// the other broker opens the same store directory. Everything written must be there: every message
// readable, every key found through the index, the group resuming exactly at its committed offsets,
// topics, groups and delay offsets as they were. See docs/migration.md.

import { afterAll, expect, test } from "bun:test";
import { AdminClient } from "../../src/client/admin.ts";
import type { ConsumedMessage } from "../../src/client/consumed-message.ts";
import { decodeJsonBody } from "../../src/client/json-body.ts";
import { Producer } from "../../src/client/producer.ts";
import { PushConsumer } from "../../src/client/push-consumer.ts";
import { RequestCode } from "../../src/remoting/codes.ts";
import { RemotingCommand } from "../../src/remoting/command.ts";
import { type ApacheCluster, startApacheCluster } from "./apache-cluster.ts";
import { describeJava } from "./java-peer.ts";
import { startTsmqCluster, type Props, type TsmqCluster } from "./tsmq-cluster.ts";
import { collectingLogger, text, waitUntil } from "../client/standalone-fixture.ts";

const TOPIC_A = "MigrateA";
const TOPIC_B = "MigrateB";
const GROUP = "migrate_group";
/** Sent to TOPIC_A and consumed by GROUP before the move. */
const CONSUMED_BEFORE = 20;
/** Sent to TOPIC_A after GROUP stopped: all GROUP gets after the move. */
const LEFT_FOR_AFTER = 7;
const SENT_TO_B = 10;
/** A non-default field, to see the group's config (not a re-created default) after the move. */
const GROUP_RETRY_MAX_TIMES = 5;
/** Level 1 is 1 s in both brokers' default messageDelayLevel. */
const DELAY_LEVEL = 1;
const QUEUES = 2;
const ADMIN_TIMEOUT_MS = 5_000;
const MIGRATION_TEST_MS = 300_000;
/** The opening broker creates nothing itself: what the checks see came from the store. */
const NO_AUTO_CREATE: Props = { autoCreateTopicEnable: false, autoCreateSubscriptionGroup: false };
/** Quick schedule-offset flushes on the writer (Apache's default is 10 s). */
const WRITER_PROPS: Props = { flushDelayOffsetInterval: 1_000 };

const logger = collectingLogger();
const stops: Array<() => Promise<unknown> | void> = [];

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
}, 120_000);

interface Written {
  /** Body by UNIQ_KEY msgId, per topic. */
  a: Map<string, string>;
  b: Map<string, string>;
  /** Bodies GROUP has not consumed yet. */
  rest: string[];
  delayOffsets: Record<string, number>;
}

async function invoke(admin: AdminClient, brokerAddr: string, code: number): Promise<Record<string, any>> {
  const response = await admin.inst.invokeBroker(brokerAddr, RemotingCommand.request(code, {}), ADMIN_TIMEOUT_MS);
  return decodeJsonBody(response.body, `request ${code}`) as Record<string, any>;
}

const sumMax = async (admin: AdminClient, topic: string) => (await admin.topicStats(topic)).reduce((n, s) => n + s.maxOffset, 0);

async function caughtUp(admin: AdminClient, group: string, topic: string): Promise<boolean> {
  const { progress } = await admin.consumeStats(group, topic).catch(() => ({ progress: [] }));
  return progress.length === QUEUES && progress.every((p) => p.consumerOffset === p.brokerOffset);
}

/** Runs a consumer of `group` on `topic` until the group's offsets reach the queue ends; gives what it got. */
async function consumeAll(namesrvAddr: string, admin: AdminClient, group: string, topic: string): Promise<ConsumedMessage[]> {
  const got: ConsumedMessage[] = [];
  const c = new PushConsumer({ namesrvAddr, instanceName: `${group}-${topic}`, groupName: group, consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET", logger, rebalanceIntervalMs: 1_000, persistConsumerOffsetIntervalMs: 300 }).subscribe(topic);
  c.registerMessageListener((msgs) => {
    got.push(...msgs);
    return "CONSUME_SUCCESS";
  });
  await c.start();
  try {
    await waitUntil(`${group} caught up on ${topic}`, () => caughtUp(admin, group, topic), 60_000);
  } finally {
    await c.shutdown();
  }
  return got;
}

async function sendAll(producer: Producer, topic: string, prefix: string, count: number, into: Map<string, string>): Promise<string[]> {
  const bodies: string[] = [];
  for (let i = 0; i < count; i++) {
    const body = `${prefix}-${i}`;
    const r = await producer.send({ topic, body, keys: [`key-${body}`] });
    expect(r.sendStatus).toBe("SEND_OK");
    into.set(r.msgId, body);
    bodies.push(body);
  }
  return bodies;
}

/** The writing side: topics, group, messages, a partial consumption and one delayed message. */
async function writeStore(namesrvAddr: string, brokerAddr: string): Promise<Written> {
  const admin = new AdminClient({ namesrvAddr, logger });
  const producer = new Producer({ namesrvAddr, instanceName: "migrate-writer", groupName: "migrate_producer", logger }).start();
  try {
    for (const topic of [TOPIC_A, TOPIC_B]) await admin.createTopic(brokerAddr, { topic, readQueueNums: QUEUES, writeQueueNums: QUEUES });
    await admin.createSubscriptionGroup(brokerAddr, GROUP, { retryMaxTimes: GROUP_RETRY_MAX_TIMES });
    await waitUntil("routes", async () => (await admin.inst.fetchTopicRoute(TOPIC_B)) !== undefined);
    const written: Written = { a: new Map(), b: new Map(), rest: [], delayOffsets: {} };
    await sendAll(producer, TOPIC_A, "a", CONSUMED_BEFORE, written.a);
    await sendAll(producer, TOPIC_B, "b", SENT_TO_B, written.b);
    expect(await consumeAll(namesrvAddr, admin, GROUP, TOPIC_A)).toHaveLength(CONSUMED_BEFORE);
    written.rest = await sendAll(producer, TOPIC_A, "rest", LEFT_FOR_AFTER, written.a);
    const delayed = await producer.send({ topic: TOPIC_B, body: "delayed", delayLevel: DELAY_LEVEL });
    written.b.set(delayed.msgId, "delayed");
    await waitUntil("the delayed message in its topic", async () => (await sumMax(admin, TOPIC_B)) === SENT_TO_B + 1);
    await waitUntil("the delay offset flushed (Apache answers from delayOffset.json)", async () => Object.keys((await invoke(admin, brokerAddr, RequestCode.GET_ALL_DELAY_OFFSET)).offsetTable ?? {}).length > 0);
    written.delayOffsets = (await invoke(admin, brokerAddr, RequestCode.GET_ALL_DELAY_OFFSET)).offsetTable;
    return written;
  } finally {
    await producer.shutdown();
    admin.close();
  }
}

/** The opening side: every check against the broker that opened the other's store. */
async function checkStore(namesrvAddr: string, brokerAddr: string, written: Written): Promise<void> {
  const admin = new AdminClient({ namesrvAddr, logger });
  try {
    // Topics and the group came from topics.json and subscriptionGroup.json.
    const topics = (await invoke(admin, brokerAddr, RequestCode.GET_ALL_TOPIC_CONFIG)).topicConfigTable;
    for (const topic of [TOPIC_A, TOPIC_B]) expect(topics[topic]).toMatchObject({ topicName: topic, readQueueNums: QUEUES, writeQueueNums: QUEUES, perm: 6 });
    const groups = (await invoke(admin, brokerAddr, RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG)).subscriptionGroupTable;
    expect(groups[GROUP]).toMatchObject({ groupName: GROUP, retryMaxTimes: GROUP_RETRY_MAX_TIMES });
    expect((await invoke(admin, brokerAddr, RequestCode.GET_ALL_DELAY_OFFSET)).offsetTable).toEqual(written.delayOffsets);
    await waitUntil("routes registered", async () => (await admin.inst.fetchTopicRoute(TOPIC_B)) !== undefined);

    // consumerOffset.json: the group resumes at its committed offsets and gets only the rest.
    const resumed = await consumeAll(namesrvAddr, admin, GROUP, TOPIC_A);
    expect(resumed.map((m) => text(m.body)).sort()).toEqual([...written.rest].sort());

    // Commit log and consume queues: a new group reads every message exactly once.
    for (const [topic, sent] of [[TOPIC_A, written.a], [TOPIC_B, written.b]] as const) {
      const group = `migrate_reader_${topic}`;
      await admin.createSubscriptionGroup(brokerAddr, group);
      const got = await consumeAll(namesrvAddr, admin, group, topic);
      expect(got).toHaveLength(sent.size);
      expect(new Map(got.map((m) => [m.msgId, text(m.body)]))).toEqual(sent);
    }

    // Index files: every key finds its one message.
    for (const [topic, sent] of [[TOPIC_A, written.a], [TOPIC_B, written.b]] as const) {
      for (const body of sent.values()) {
        if (body === "delayed") continue; // sent without keys
        const found = await admin.queryMessageByKey(topic, `key-${body}`);
        expect(found.map((m) => text(m.body))).toEqual([body]);
      }
    }
  } finally {
    admin.close();
  }
}

describeJava("store migration between Apache RocketMQ and tsmq", () => {
  test(
    "an Apache store opened by tsmq",
    async () => {
      const apache: ApacheCluster = await startApacheCluster({ brokers: [{ name: "broker-a", props: WRITER_PROPS }] });
      stops.push(() => apache.stop());
      const writer = apache.broker("broker-a");
      const written = await writeStore(apache.namesrvAddr, writer.addr);
      await writer.stop();

      const tsmq: TsmqCluster = await startTsmqCluster({ brokers: [{ name: "broker-a", props: { ...NO_AUTO_CREATE, storePathRootDir: writer.storeDir } }] });
      stops.push(() => tsmq.stop());
      await checkStore(tsmq.namesrvAddr, tsmq.broker("broker-a").addr, written);
    },
    MIGRATION_TEST_MS,
  );

  test(
    "a tsmq store opened by Apache",
    async () => {
      const tsmq: TsmqCluster = await startTsmqCluster({ brokers: [{ name: "broker-a", props: WRITER_PROPS }] });
      stops.push(() => tsmq.stop());
      const writer = tsmq.broker("broker-a");
      const written = await writeStore(tsmq.namesrvAddr, writer.addr);
      await writer.stop();

      const storeProps = { storePathRootDir: writer.storeDir, storePathCommitLog: `${writer.storeDir}/commitlog` };
      const apache: ApacheCluster = await startApacheCluster({ brokers: [{ name: "broker-a", props: { ...NO_AUTO_CREATE, ...storeProps } }] });
      stops.push(() => apache.stop());
      await checkStore(apache.namesrvAddr, apache.broker("broker-a").addr, written);
    },
    MIGRATION_TEST_MS,
  );
});
