// Unit tests of the broker's bookkeeping: topic table, subscription groups, consumer offsets,
// consumer/producer managers, queue locks, delay levels, config files.

import { afterEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { ConsumerManager } from "../../src/broker/consumer-manager.ts";
import { ConsumerOffsetManager } from "../../src/broker/consumer-offsets.ts";
import { parseDelayLevels } from "../../src/common/delay-levels.ts";
import { ProducerManager } from "../../src/broker/producer-manager.ts";
import { RebalanceLockManager } from "../../src/broker/rebalance-lock.ts";
import { SubscriptionGroupManager } from "../../src/broker/subscription-group.ts";
import { buildSubscriptionData, tagFilter } from "../../src/broker/subscription-data.ts";
import { TopicConfigManager, type TopicConfigSettings } from "../../src/broker/topic-config.ts";
import { isNotAllowedSendTopic, isSystemTopic, topicNameProblem } from "../../src/common/topic.ts";
import type { Connection } from "../../src/remoting/connection.ts";
import { makeTempDir } from "./helpers.ts";

const dirs: string[] = [];
function tempDir(): string {
  const d = makeTempDir("tsmq-mgr-");
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const settings: TopicConfigSettings = {
  brokerClusterName: "DefaultCluster",
  brokerName: "broker-a",
  autoCreateTopicEnable: true,
  defaultTopicQueueNums: 8,
  clusterTopicEnable: true,
  brokerTopicEnable: true,
  traceTopicEnable: false,
  msgTraceTopicName: "RMQ_SYS_TRACE_TOPIC",
};

/** A stand-in connection: the managers only key by identity and call close(). */
function fakeConn(id: number): Connection & { closedCount: number } {
  const conn = {
    id,
    remoteAddress: `127.0.0.1:${10000 + id}`,
    closed: false,
    closedCount: 0,
    send: () => true,
    invoke: () => Promise.reject(new Error("not connected")),
    invokeOneway: () => {},
    close() {
      conn.closed = true;
      conn.closedCount++;
    },
  };
  return conn;
}

describe("topic names", () => {
  test("validation remarks name the problem", () => {
    expect(topicNameProblem("TopicTest")).toBeNull();
    expect(topicNameProblem("%RETRY%g|x-1_2")).toBeNull();
    expect(topicNameProblem("")).toContain("blank");
    expect(topicNameProblem("bad topic")).toContain("illegal characters");
    expect(topicNameProblem("x".repeat(128))).toContain("longer than");
    expect(topicNameProblem("x".repeat(127))).toBeNull();
  });
  test("system topics", () => {
    expect(isSystemTopic("TBW102")).toBe(true);
    expect(isSystemTopic("rmq_sys_anything")).toBe(true);
    expect(isNotAllowedSendTopic("SCHEDULE_TOPIC_XXXX")).toBe(true);
    expect(isNotAllowedSendTopic("TBW102")).toBe(false);
  });
});

describe("TopicConfigManager", () => {
  test("built-in topics per storage doc 12.1", () => {
    const m = new TopicConfigManager(settings, tempDir());
    expect(m.get("TBW102")).toMatchObject({ perm: 7, readQueueNums: 8, writeQueueNums: 8 });
    expect(m.get("SCHEDULE_TOPIC_XXXX")).toMatchObject({ readQueueNums: 18, perm: 6 });
    expect(m.get("DefaultCluster")).toMatchObject({ perm: 7, readQueueNums: 16 });
    expect(m.get("broker-a")).toMatchObject({ perm: 7, readQueueNums: 1 });
    expect(m.get("DefaultCluster_REPLY_TOPIC")).toBeDefined();
    expect(m.get("RMQ_SYS_TRACE_TOPIC")).toBeUndefined();
  });

  test("TBW102 is absent without autoCreateTopicEnable and no topic is auto-created", () => {
    const m = new TopicConfigManager({ ...settings, autoCreateTopicEnable: false }, tempDir());
    expect(m.get("TBW102")).toBeUndefined();
    expect(m.createForSend("NewTopic", "TBW102", 4, 0)).toBeUndefined();
  });

  test("auto-create inherits from TBW102, caps queues, drops INHERIT, persists and reloads", async () => {
    const dir = tempDir();
    const m = new TopicConfigManager(settings, dir);
    let changed = 0;
    m.onChange = () => changed++;
    const before = m.dataVersion.counter;
    const tc = m.createForSend("NewTopic", "TBW102", 16, 0)!;
    expect(tc).toMatchObject({ readQueueNums: 8, writeQueueNums: 8, perm: 6, topicFilterType: "SINGLE_TAG" });
    expect(m.createForSend("Small", "TBW102", 3, 0)!.writeQueueNums).toBe(3);
    expect(changed).toBe(2);
    expect(m.dataVersion.counter).toBe(before + 2);
    await m.flush();
    expect(m.metadata.writesCompleted).toBe(1); // both creations in one background write
    const text = fs.readFileSync(path.join(dir, "config", "topics.json"), "utf8");
    expect(text).toContain('"topicConfigTable"');
    expect(text).toContain("\t"); // fastjson pretty printing uses tabs

    const reloaded = new TopicConfigManager(settings, dir);
    reloaded.load();
    expect(reloaded.get("NewTopic")).toEqual(tc);
    expect(reloaded.dataVersion).toEqual(m.dataVersion);
  });

  test("loads fastjson output with unquoted numbers", () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, "config"));
    fs.writeFileSync(
      path.join(dir, "config", "topics.json"),
      '{\n\t"dataVersion":{"counter":3,"timestamp":1700000000000},\n\t"topicConfigTable":{\n\t\t"TopicTest":{"order":false,"perm":6,"readQueueNums":4,"topicFilterType":"SINGLE_TAG","topicName":"TopicTest","topicSysFlag":0,"writeQueueNums":4}\n\t}\n}',
    );
    const m = new TopicConfigManager(settings, dir);
    m.load();
    expect(m.get("TopicTest")?.writeQueueNums).toBe(4);
    expect(m.dataVersion.counter).toBe(3);
  });
});

describe("SubscriptionGroupManager", () => {
  test("built-ins, auto-create, persistence", async () => {
    const dir = tempDir();
    let auto = true;
    const m = new SubscriptionGroupManager(() => auto, dir);
    expect(m.get("TOOLS_CONSUMER")).toBeDefined();
    expect(m.findOrCreate("G1")).toMatchObject({ groupName: "G1", retryMaxTimes: 16, retryQueueNums: 1, consumeEnable: true });
    auto = false;
    expect(m.findOrCreate("G2")).toBeUndefined();
    expect(m.findOrCreate("CID_RMQ_SYS_TRANS")).toBeDefined();
    await m.flush();
    const reloaded = new SubscriptionGroupManager(() => false, dir);
    reloaded.load();
    expect(reloaded.get("G1")?.retryMaxTimes).toBe(16);
  });
});

describe("ConsumerOffsetManager", () => {
  test("commit, query, persist and reload (fastjson numeric keys accepted)", async () => {
    const dir = tempDir();
    const m = new ConsumerOffsetManager(dir);
    expect(m.queryOffset("g", "T", 0)).toBe(-1);
    m.commitOffset("g", "T", 0, 250);
    m.commitOffset("g", "T", 1, -1); // stored as is, like Java
    await m.flush();
    const reloaded = new ConsumerOffsetManager(dir);
    reloaded.load();
    expect(reloaded.queryOffset("g", "T", 0)).toBe(250);
    expect(reloaded.queryOffset("g", "T", 1)).toBe(-1);
    expect([...reloaded.groupsByTopic("T")]).toEqual(["g"]);
    expect([...reloaded.topicsByGroup("g")]).toEqual(["T"]);

    fs.writeFileSync(path.join(dir, "config", "consumerOffset.json"), '{\n\t"offsetTable":{\n\t\t"T@g2":{0:7,1:9\n\t\t}\n\t}\n}');
    const java = new ConsumerOffsetManager(dir);
    java.load();
    expect(java.queryOffset("g2", "T", 1)).toBe(9);
  });
});

describe("ConsumerManager", () => {
  test("membership changes notify; subscriptions replaced by newer subVersion; close removes", () => {
    const events: Array<[string, number]> = [];
    const m = new ConsumerManager((group, channels) => events.push([group, channels.length]));
    const c1 = fakeConn(1);
    const c2 = fakeConn(2);
    const sub = (v: number, s = "*") => buildSubscriptionData("T", s, v);
    const info = (conn: Connection, id: string) => ({ conn, clientId: id, language: "JAVA", version: 409, lastUpdateMs: Date.now() });
    expect(m.register("g", info(c1, "a"), "CONSUME_PASSIVELY", "CLUSTERING", "CONSUME_FROM_LAST_OFFSET", [sub(1)], true)).toBe(true);
    expect(m.register("g", info(c1, "a"), "CONSUME_PASSIVELY", "CLUSTERING", "CONSUME_FROM_LAST_OFFSET", [sub(1)], true)).toBe(false);
    m.register("g", info(c2, "b"), "CONSUME_PASSIVELY", "CLUSTERING", "CONSUME_FROM_LAST_OFFSET", [sub(2, "TagA")], true);
    expect(events).toEqual([["g", 1], ["g", 2]]);
    expect(m.get("g")!.subscriptionTable.get("T")!.subString).toBe("TagA");
    m.onConnectionClose(c1);
    expect(events.at(-1)).toEqual(["g", 1]);
    m.unregister("g", c2, true);
    expect(m.get("g")).toBeUndefined();
  });

  test("channels silent for 120 s expire and are closed", () => {
    const m = new ConsumerManager(() => {});
    const c = fakeConn(3);
    m.register("g", { conn: c, clientId: "x", language: "JAVA", version: 409, lastUpdateMs: Date.now() - 121_000 }, "CONSUME_PASSIVELY", "CLUSTERING", "CONSUME_FROM_LAST_OFFSET", [], false);
    m.scanNotActiveChannels();
    expect(m.get("g")).toBeUndefined();
    expect(c.closedCount).toBe(1);

    const p = new ProducerManager();
    const pc = fakeConn(4);
    p.register("pg", { conn: pc, clientId: "y", language: "JAVA", version: 409, lastUpdateMs: Date.now() - 121_000 });
    p.scanNotActiveChannels();
    expect(p.groups.size).toBe(0);
    expect(pc.closedCount).toBe(1);
  });

  test("findChannel: a client id's latest producer channel, forgotten when it unregisters or closes", () => {
    const p = new ProducerManager();
    const old = fakeConn(5);
    const now = fakeConn(6);
    const info = (conn: Connection) => ({ conn, clientId: "192.0.2.2@requester", language: "JAVA", version: 409, lastUpdateMs: Date.now() });
    p.register("pg", info(old));
    p.register("pg", info(now)); // reconnected: the newer channel wins
    expect(p.findChannel("192.0.2.2@requester")?.conn).toBe(now);
    p.unregister("pg", old); // the stale channel leaving does not forget the live one
    expect(p.findChannel("192.0.2.2@requester")?.conn).toBe(now);
    now.close();
    expect(p.findChannel("192.0.2.2@requester")).toBeUndefined();
    p.unregister("pg", now);
    p.register("pg", info(fakeConn(7)));
    expect(p.findChannel("192.0.2.2@requester")).toBeDefined();
    p.onConnectionClose(p.findChannel("192.0.2.2@requester")!.conn);
    expect(p.findChannel("192.0.2.2@requester")).toBeUndefined();
  });
});

describe("RebalanceLockManager", () => {
  test("a lock held by one client is refused to another until it expires", () => {
    let now = 1_000_000;
    const locks = new RebalanceLockManager(60_000, () => now);
    const mq = { topic: "T", brokerName: "b", queueId: 0 };
    expect(locks.tryLockBatch("g", [mq], "c1")).toEqual([mq]);
    expect(locks.tryLockBatch("g", [mq], "c2")).toEqual([]);
    now += 30_000;
    expect(locks.tryLockBatch("g", [mq], "c1")).toEqual([mq]); // renewal
    now += 60_001;
    expect(locks.tryLockBatch("g", [mq], "c2")).toEqual([mq]);
    locks.unlockBatch("g", [mq], "c1"); // not the holder: no effect
    expect(locks.isLockedBy("g", mq, "c2")).toBe(true);
    locks.unlockBatch("g", [mq], "c2");
    expect(locks.tryLockBatch("g", [mq], "c1")).toEqual([mq]);
  });
});

describe("subscriptions and delay levels", () => {
  test("tag filter by Java hash codes", () => {
    const sub = buildSubscriptionData("T", "TagA || TagB ||", 1);
    expect(sub.tagsSet).toEqual(["TagA", "TagB"]);
    expect(sub.codeSet).toEqual([2598919, 2598920]);
    const f = tagFilter(sub)!;
    expect(f(2598919)).toBe(true);
    expect(f(1)).toBe(false);
    expect(tagFilter(buildSubscriptionData("T", "*", 1))).toBeUndefined();
    expect(() => buildSubscriptionData("T", "||", 1)).toThrow();
  });
  test("default messageDelayLevel", () => {
    const levels = parseDelayLevels("1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h");
    expect(levels.length).toBe(18);
    expect(levels[1]).toBe(5_000);
    expect(levels[17]).toBe(7_200_000);
    expect(() => parseDelayLevels("1s 5x")).toThrow(/5x/);
  });
});
