// Apache mqadmin (rocketmq-tools 4.9.8, MQAdminStartup) against the compiled ./tsmq: one test per
// command, each checking the SHAPE of what mqadmin prints (column headers, row counts, key names,
// line formats), not timings or counters. The expected shapes were recorded by running the same
// commands against the Apache RocketMQ 4.9.7 NameServer and broker (test/interop/apache-cluster.ts)
// on 2026-12-07; the Apache output is quoted above each check, addresses and times elided.
//
// A live producer (group AdminPG) and push consumer (group AdminCG) of topic AdminT run for the
// whole file (Java scenario admin.liveClients) so the connection and progress commands see them.

import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describeJava, ensureJavaPeer, runJava, runJavaMain, stopAllJava, type JavaRun } from "./java-peer.ts";
import { startTsmqCluster, type TsmqCluster } from "./tsmq-cluster.ts";

const MQADMIN_MAIN = "org.apache.rocketmq.tools.command.MQAdminStartup";
/** One mqadmin JVM: boots in ~4 s on two busy cores; the slowest commands query every broker. */
const MQADMIN_TIMEOUT_MS = 60_000;
/** The live clients stay up while every command of this file runs. */
const LIVE_CLIENTS_TIMEOUT_MS = 900_000;
const TOPIC = "AdminT";
const TOPIC_QUEUES = 4;
const PRODUCER_GROUP = "AdminPG";
const CONSUMER_GROUP = "AdminCG";
const MESSAGES = 10;
const TIMESTAMP_MS = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}$/;

interface Ready {
  offsetMsgId: string;
  uniqKey: string;
  key: string;
  brokerName: string;
  queueId: number;
  queueOffset: number;
}

describeJava("mqadmin 4.9.8 against tsmq", () => {
  let cluster: TsmqCluster;
  let rocketmqHome: string;
  let live: JavaRun;
  let ready: Ready;
  let brokerAddr: string;

  /** Runs one mqadmin command; mqadmin prints failures as a stack trace and still exits 0. */
  async function mqadmin(...argv: string[]): Promise<string> {
    const r = await runJavaMain(MQADMIN_MAIN, [...argv, "-n", cluster.namesrvAddr], {
      systemProperties: { "rocketmq.home.dir": rocketmqHome },
      timeoutMs: MQADMIN_TIMEOUT_MS,
    });
    expect({ argv, code: r.code, stderr: r.stderr }).toEqual({ argv, code: 0, stderr: "" });
    return r.stdout;
  }

  /** Addresses vary per run: 127.0.0.1:<port> becomes ADDR. */
  const elideAddrs = (text: string) => text.replaceAll(/127\.0\.0\.1:\d+/g, "ADDR");
  const lines = (text: string) => text.split("\n").filter((l) => l.trim() !== "");
  /** "#Cluster Name     #Broker Name  #BID" -> ["#Cluster Name", "#Broker Name", "#BID"] */
  const headerOf = (line: string) => line.trim().split(/\s+(?=#)/);
  /** "label:   value" lines of the message views -> labels. */
  const labelsOf = (text: string) => lines(text).map((l) => l.match(/^([A-Za-z ]+):\s/)?.[1] ?? l);

  beforeAll(async () => {
    await ensureJavaPeer();
    cluster = await startTsmqCluster({ brokers: [{ name: "broker-a" }] });
    brokerAddr = cluster.broker("broker-a").addr;
    // mqadmin reads $ROCKETMQ_HOME/conf/logback_tools.xml at start.
    rocketmqHome = fs.mkdtempSync(path.join(os.tmpdir(), "tsmq-mqadmin-home-"));
    fs.mkdirSync(path.join(rocketmqHome, "conf"));
    fs.copyFileSync(path.join(import.meta.dir, "apache", "conf", "logback_tools.xml"), path.join(rocketmqHome, "conf", "logback_tools.xml"));
    await mqadmin("updateTopic", "-c", cluster.clusterName, "-t", TOPIC, "-r", String(TOPIC_QUEUES), "-w", String(TOPIC_QUEUES));
    live = await runJava("admin.liveClients", { namesrv: cluster.namesrvAddr, topic: TOPIC, producerGroup: PRODUCER_GROUP, consumerGroup: CONSUMER_GROUP, count: MESSAGES }, { timeoutMs: LIVE_CLIENTS_TIMEOUT_MS });
    ready = (await live.event("ready", 120_000)).data as unknown as Ready;
  }, 600_000);

  afterAll(async () => {
    live?.say("stop");
    await live?.result().catch(() => undefined);
    await stopAllJava();
    await cluster?.stop();
    if (rocketmqHome) fs.rmSync(rocketmqHome, { recursive: true, force: true });
  });

  test("clusterList", async () => {
    // #Cluster Name     #Broker Name            #BID  #Addr                  #Version                #InTPS(LOAD)       #OutTPS(LOAD) #PCWait(ms) #Hour #SPACE
    // DefaultCluster    broker-a                0     ADDR                   V4_9_7                   0.99(0,0ms)         0.99(0,0ms)          0 499076.90 0.1500
    const out = lines(await mqadmin("clusterList"));
    expect(out.length).toBe(2);
    expect(headerOf(out[0]!)).toEqual(["#Cluster Name", "#Broker Name", "#BID", "#Addr", "#Version", "#InTPS(LOAD)", "#OutTPS(LOAD)", "#PCWait(ms)", "#Hour", "#SPACE"]);
    expect(out[1]).toMatch(/^DefaultCluster\s+broker-a\s+0\s+127\.0\.0\.1:\d+\s+V4_9_\d\s+\d+\.\d\d\(\d+,\d+ms\)\s+\d+\.\d\d\(\d+,\d+ms\)\s+\d+\s+-?\d+\.\d\d\s+\d\.\d{4}$/);
  });

  test("topicList, plain and with -c", async () => {
    // One topic per line; Apache 4.9.7 listed exactly these (order varies).
    const apacheTopics = ["SCHEDULE_TOPIC_XXXX", "DefaultCluster_REPLY_TOPIC", "%RETRY%AdminCG", "BenchmarkTest", "OFFSET_MOVED_EVENT", "AdminT", "broker-a", "TBW102", "SELF_TEST_TOPIC", "DefaultCluster"];
    expect(lines(await mqadmin("topicList")).sort()).toEqual(apacheTopics.sort());
    // #Cluster Name         #Topic                                            #Consumer Group
    // DefaultCluster        SCHEDULE_TOPIC_XXXX
    // DefaultCluster        AdminT                                                            AdminCG
    // ... one row per topic but the retry topic: 9 rows
    const withCluster = lines(await mqadmin("topicList", "-c"));
    expect(headerOf(withCluster[0]!)).toEqual(["#Cluster Name", "#Topic", "#Consumer Group"]);
    const rows = withCluster.slice(1).map((l) => l.trim().split(/\s+/));
    expect(rows.map((r) => r[1]).sort()).toEqual(apacheTopics.filter((t) => !t.startsWith("%RETRY%")).sort());
    expect(rows.filter((r) => r.length === 3)).toEqual([["DefaultCluster", TOPIC, CONSUMER_GROUP]]);
  });

  test("topicRoute", async () => {
    // Apache 4.9.7, verbatim (fastjson pretty format with a numeric map key):
    const apache = `{
	"brokerDatas":[
		{
			"brokerAddrs":{0:"ADDR"
			},
			"brokerName":"broker-a",
			"cluster":"DefaultCluster"
		}
	],
	"filterServerTable":{},
	"queueDatas":[
		{
			"brokerName":"broker-a",
			"perm":6,
			"readQueueNums":4,
			"topicSysFlag":0,
			"writeQueueNums":4
		}
	]
}
`;
    expect(elideAddrs(await mqadmin("topicRoute", "-t", TOPIC))).toBe(apache);
  });

  test("topicStatus", async () => {
    // #Broker Name                      #QID  #Min Offset           #Max Offset             #Last Updated
    // broker-a                          0     0                     3                       2026-12-07 20:53:54,405
    // ... one row per queue
    const out = lines(await mqadmin("topicStatus", "-t", TOPIC));
    expect(headerOf(out[0]!)).toEqual(["#Broker Name", "#QID", "#Min Offset", "#Max Offset", "#Last Updated"]);
    const rows = out.slice(1).map((l) => l.trim().split(/\s{2,}/));
    expect(rows.map((r) => r[1])).toEqual(["0", "1", "2", "3"]);
    let total = 0;
    for (const [broker, , min, max, updated] of rows) {
      expect([broker, min]).toEqual(["broker-a", "0"]);
      expect(updated).toMatch(TIMESTAMP_MS);
      total += Number(max);
    }
    expect(total).toBe(MESSAGES);
  });

  test("updateTopic", async () => {
    // create topic to ADDR success.
    // TopicConfig [topicName=AdminT, readQueueNums=4, writeQueueNums=4, perm=RW-, topicFilterType=SINGLE_TAG, topicSysFlag=0, order=false]
    expect(lines(elideAddrs(await mqadmin("updateTopic", "-b", brokerAddr, "-t", "AdminCreated", "-r", "2", "-w", "2")))).toEqual([
      "create topic to ADDR success.",
      "TopicConfig [topicName=AdminCreated, readQueueNums=2, writeQueueNums=2, perm=RW-, topicFilterType=SINGLE_TAG, topicSysFlag=0, order=false]",
    ]);
  });

  test("deleteTopic", async () => {
    expect(lines(await mqadmin("deleteTopic", "-c", cluster.clusterName, "-t", "AdminCreated"))).toEqual([
      "delete topic [AdminCreated] from cluster [DefaultCluster] success.",
      "delete topic [AdminCreated] from NameServer success.",
    ]);
  });

  test("updateSubGroup", async () => {
    expect(lines(elideAddrs(await mqadmin("updateSubGroup", "-c", cluster.clusterName, "-g", "AdminSG")))).toEqual([
      "create subscription group to ADDR success.",
      "SubscriptionGroupConfig [groupName=AdminSG, consumeEnable=true, consumeFromMinEnable=false, consumeBroadcastEnable=false, retryQueueNums=1, retryMaxTimes=16, brokerId=0, whichBrokerWhenConsumeSlowly=1, notifyConsumerIdsChangedEnable=true]",
    ]);
  });

  test("deleteSubGroup", async () => {
    expect(lines(elideAddrs(await mqadmin("deleteSubGroup", "-c", cluster.clusterName, "-g", "AdminSG")))).toEqual([
      "delete subscription group [AdminSG] from broker [ADDR] in cluster [DefaultCluster] success.",
      "delete topic [%RETRY%AdminSG] from cluster [DefaultCluster] success.",
      "delete topic [%RETRY%AdminSG] from NameServer success.",
      "delete topic [%DLQ%AdminSG] from cluster [DefaultCluster] success.",
      "delete topic [%DLQ%AdminSG] from NameServer success.",
    ]);
  });

  test("consumerProgress, for one group and for all", async () => {
    // #Topic            #Broker Name   #QID  #Broker Offset  #Consumer Offset  #Diff  #LastTime
    // %RETRY%AdminCG    broker-a       0     0               0                 0      N/A
    // AdminT            broker-a       0     3               3                 0      2026-12-07 20:53:54
    // ... one row per AdminT queue, then a blank line and
    // Consume TPS: 0.25
    // Diff Total: 0
    const out = lines(await mqadmin("consumerProgress", "-g", CONSUMER_GROUP));
    expect(headerOf(out[0]!)).toEqual(["#Topic", "#Broker Name", "#QID", "#Broker Offset", "#Consumer Offset", "#Diff", "#LastTime"]);
    const rows = out.slice(1, -2).map((l) => l.trim().split(/\s{2,}/));
    expect(rows[0]).toEqual([`%RETRY%${CONSUMER_GROUP}`, "broker-a", "0", "0", "0", "0", "N/A"]);
    expect(rows.slice(1).map((r) => [r[0], r[2], r[5]])).toEqual([0, 1, 2, 3].map((q) => [TOPIC, String(q), "0"]));
    for (const r of rows.slice(1)) expect(r[6]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(out.slice(-2)[0]).toMatch(/^Consume TPS: \d+\.\d\d$/);
    expect(out.slice(-1)[0]).toBe("Diff Total: 0");

    // #Group     #Count  #Version   #Type  #Model      #TPS  #Diff Total
    // AdminCG    1       V4_9_8     PUSH   CLUSTERING  0     0
    const all = lines(await mqadmin("consumerProgress"));
    expect(headerOf(all[0]!)).toEqual(["#Group", "#Count", "#Version", "#Type", "#Model", "#TPS", "#Diff Total"]);
    expect(all.slice(1).map((l) => l.trim().split(/\s+/))).toEqual([[CONSUMER_GROUP, "1", "V4_9_8", "PUSH", "CLUSTERING", expect.stringMatching(/^\d+$/), "0"]]);
  });

  test("consumerConnection", async () => {
    const out = elideAddrs(await mqadmin("consumerConnection", "-g", CONSUMER_GROUP)).replace(/\S+@consumer-\d+/, "CLIENT_ID");
    const apache = [
      "#ClientId                            #ClientAddr            #Language  #Version",
      "CLIENT_ID                            ADDR                   JAVA       V4_9_8",
      "Below is subscription:",
      "#Topic               #SubExpression",
      "%RETRY%AdminCG       *",
      "AdminT               *",
      "ConsumeType: CONSUME_PASSIVELY",
      "MessageModel: CLUSTERING",
      "ConsumeFromWhere: CONSUME_FROM_FIRST_OFFSET",
    ];
    // Column widths shift with the client id's length: compare cells, not spaces.
    const cells = (text: string[]) => text.map((l) => l.trim().split(/\s{2,}/));
    expect(cells(lines(out))).toEqual(cells(apache));
  });

  test("producerConnection", async () => {
    // 0001  192.0.2.2@producer-15327         127.0.0.1:35918        JAVA     V4_9_8
    const out = lines(await mqadmin("producerConnection", "-g", PRODUCER_GROUP, "-t", TOPIC));
    expect(out.length).toBe(1);
    expect(out[0]).toMatch(/^0001\s+\S+@producer-\d+\s+127\.0\.0\.1:\d+\s+JAVA\s+V4_9_8$/);
  });

  test("brokerStatus", async () => {
    // "%-32s: %s" per runtime-info key, sorted. Apache 4.9.7 printed exactly these keys (and
    // scheduleMessageOffset_<level> for levels that have delayed messages):
    const apacheKeys = [
      "EndTransactionQueueSize", "EndTransactionThreadPoolQueueCapacity", "bootTimestamp", "brokerVersion", "brokerVersionDesc",
      "commitLogDirCapacity", "commitLogDiskRatio", "commitLogDiskRatio_<commitlog dir>", "commitLogMaxOffset", "commitLogMinOffset",
      "consumeQueueDiskRatio", "dispatchBehindBytes", "dispatchMaxBuffer", "earliestMessageTimeStamp", "getFoundTps",
      "getMessageEntireTimeMax", "getMissTps", "getTotalTps", "getTransferedTps", "msgGetTotalTodayMorning", "msgGetTotalTodayNow",
      "msgGetTotalYesterdayMorning", "msgPutTotalTodayMorning", "msgPutTotalTodayNow", "msgPutTotalYesterdayMorning",
      "pageCacheLockTimeMills", "pullThreadPoolQueueCapacity", "pullThreadPoolQueueHeadWaitTimeMills", "pullThreadPoolQueueSize",
      "putLatency99", "putLatency999", "putMessageAverageSize", "putMessageDistributeTime", "putMessageEntireTimeMax",
      "putMessageFailedTimes", "putMessageSizeTotal", "putMessageTimesTotal", "putTps", "queryThreadPoolQueueCapacity",
      "queryThreadPoolQueueHeadWaitTimeMills", "queryThreadPoolQueueSize", "remainHowManyDataToFlush", "remainTransientStoreBufferNumbs",
      "runtime", "sendThreadPoolQueueCapacity", "sendThreadPoolQueueHeadWaitTimeMills", "sendThreadPoolQueueSize",
      "startAcceptSendRequestTimeStamp",
    ];
    // tsmq adds replication keys (src/broker/ha-runtime-info.ts; Java 4.9 only logs that state) and
    // lists scheduleMessageOffset_<level> for every level, not only for levels that had delayed
    // messages (the same key family, more rows), and dispatchSkippedRecords (records dispatch skipped).
    const tsmqHaKeys = ["dispatchSkippedRecords", "haInSyncSlaveCount", "haMasterPutWhere", "haRole", "haSlaveAckOffset", "haSlaveCount", "haSlaveFallBehindBytes"];
    const isTsmqExtra = (k: string) => tsmqHaKeys.includes(k) || /^scheduleMessageOffset_\d+$/.test(k);
    const out = lines(await mqadmin("brokerStatus", "-b", brokerAddr));
    const entries = out.map((l) => l.match(/^(\S+?)\s*: (.*)$/)!.slice(1));
    const keys = entries.map(([k]) => (k!.startsWith("commitLogDiskRatio_/") ? "commitLogDiskRatio_<commitlog dir>" : k!));
    expect(keys.filter((k) => !isTsmqExtra(k)).sort()).toEqual(apacheKeys.sort());
    const values = Object.fromEntries(entries);
    // Formats mqadmin's clusterList and people read: "[ d days, h hours, m minutes, s seconds ]", "Total : x GiB, Free : y GiB."
    expect(values.runtime).toMatch(/^\[ \d+ days, \d+ hours, \d+ minutes, \d+ seconds \]$/);
    expect(values.commitLogDirCapacity).toMatch(/^Total : \d+(\.\d)? [KMGTPE]?i?B, Free : \d+(\.\d)? [KMGTPE]?i?B\.$/);
    expect(values.putMessageTimesTotal).toBe(String(MESSAGES));
  });

  test("getBrokerConfig", async () => {
    // ============ADDR============
    // shortPollingTimeMills                             =  1000
    // ... "%-50s=  %s" per broker, store and netty config key
    const out = lines(elideAddrs(await mqadmin("getBrokerConfig", "-b", brokerAddr)));
    expect(out[0]).toBe("============ADDR============");
    const entries = out.slice(1).map((l) => l.match(/^(\w+) +=  (.*)$/)?.slice(1) ?? l);
    for (const e of entries) expect(Array.isArray(e)).toBe(true);
    const config = Object.fromEntries(entries as string[][]);
    expect(config).toMatchObject({ brokerName: "broker-a", brokerClusterName: "DefaultCluster", brokerId: "0", brokerRole: "ASYNC_MASTER", listenPort: String(cluster.broker("broker-a").port) });
  });

  test("updateBrokerConfig (a runtime-changeable key)", async () => {
    // Sizes, paths, ports and roles are not on the run-time allow-list (java-mqadmin-config.test.ts).
    // update broker config success, ADDR
    expect(lines(elideAddrs(await mqadmin("updateBrokerConfig", "-b", brokerAddr, "-k", "brokerPermission", "-v", "6")))).toEqual(["update broker config success, ADDR"]);
    expect(await mqadmin("getBrokerConfig", "-b", brokerAddr)).toMatch(/^brokerPermission +=  6$/m);
  });

  /** The labels of mqadmin's message view (QueryMsgByIdSubCommand.printMsg), as Apache printed them. */
  const MESSAGE_VIEW_LABELS = [
    "OffsetID", "Topic", "Tags", "Keys", "Queue ID", "Queue Offset", "CommitLog Offset", "Reconsume Times", "Born Timestamp",
    "Store Timestamp", "Born Host", "Store Host", "System Flag", "Properties", "Message Body Path",
    "MessageTrack [consumerGroup=AdminCG, trackType=CONSUMED, exceptionDesc=null]",
  ];

  test("queryMsgById", async () => {
    const out = await mqadmin("queryMsgById", "-i", ready.offsetMsgId);
    expect(labelsOf(out)).toEqual(MESSAGE_VIEW_LABELS);
    expect(out).toContain(`OffsetID:            ${ready.offsetMsgId}\n`);
    expect(out).toContain(`Keys:                [${ready.key}]\n`);
  });

  test("queryMsgByKey", async () => {
    // #Message ID                                        #QID                                  #Offset
    // FD0000000000000000000000000000023BDF4E0E2F2A236222CF0000    3                                        0
    const out = lines(await mqadmin("queryMsgByKey", "-t", TOPIC, "-k", ready.key));
    expect(headerOf(out[0]!)).toEqual(["#Message ID", "#QID", "#Offset"]);
    expect(out.slice(1).map((l) => l.trim().split(/\s+/))).toEqual([[ready.uniqKey, String(ready.queueId), String(ready.queueOffset)]]);
  });

  test("queryMsgByUniqueKey", async () => {
    // The same view without the OffsetID line.
    const out = await mqadmin("queryMsgByUniqueKey", "-t", TOPIC, "-i", ready.uniqKey);
    expect(labelsOf(out)).toEqual(MESSAGE_VIEW_LABELS.slice(1));
    expect(out).toContain(`UNIQ_KEY=${ready.uniqKey}`);
  });

  test("queryMsgByOffset", async () => {
    // The view of queryMsgById; Properties also carry MIN_OFFSET and MAX_OFFSET of the queue.
    const out = await mqadmin("queryMsgByOffset", "-t", TOPIC, "-b", ready.brokerName, "-i", String(ready.queueId), "-o", String(ready.queueOffset));
    expect(labelsOf(out)).toEqual(MESSAGE_VIEW_LABELS);
    expect(out).toMatch(/^Properties: +\{MIN_OFFSET=0, MAX_OFFSET=\d+, KEYS=key-0, UNIQ_KEY=\w+, CLUSTER=DefaultCluster, TAGS=TagA\}$/m);
  });

  test("resetOffsetByTime (consumer online: the broker resets it)", async () => {
    // rollback consumer offset by specified group[AdminCG], topic[AdminT], force[true], timestamp(string)[now], timestamp(long)[-1]
    // #brokerName                               #queueId                                  #offset
    // broker-a                                  0                                         2
    // ... one row per queue (order varies)
    const out = lines(await mqadmin("resetOffsetByTime", "-g", CONSUMER_GROUP, "-t", TOPIC, "-s", "now"));
    expect(out[0]).toBe(`rollback consumer offset by specified group[${CONSUMER_GROUP}], topic[${TOPIC}], force[true], timestamp(string)[now], timestamp(long)[-1]`);
    expect(headerOf(out[1]!)).toEqual(["#brokerName", "#queueId", "#offset"]);
    const rows = out.slice(2).map((l) => l.trim().split(/\s+/));
    expect(rows.map((r) => [r[0], r[1]]).sort()).toEqual([0, 1, 2, 3].map((q) => ["broker-a", String(q)]));
    expect(rows.reduce((sum, r) => sum + Number(r[2]), 0)).toBe(MESSAGES); // "now": every queue at its end
  });

  test("clusterRT", async () => {
    // Sends -a messages to each broker, prints, sleeps -i seconds and repeats forever: read the
    // first round, then stop it. Not run against Apache (it never exits); the shape is
    // CLusterSendMsgRTCommand's in the 4.9.8 source: a "%-24s  %-24s  %-4s  %-8s  %-8s" header,
    // then per broker "%-24s  %-24s  %-8s  %-16s  %-16s" of cluster, broker, "%.2f" RT, successes, failures.
    const out = await mqadminUntil(["clusterRT", "-a", "10", "-s", "64", "-i", "60"], /^DefaultCluster .*\n/m);
    const [header, row] = lines(out);
    expect(headerOf(header!)).toEqual(["#Cluster Name", "#Broker Name", "#RT", "#successCount", "#failCount"]);
    expect(row!.trim().split(/\s+/)).toEqual(["DefaultCluster", "broker-a", expect.stringMatching(/^\d+\.\d\d$/), "10", "0"]);
  });

  /** For commands that never end (clusterRT): the output once it matches `until`, then the JVM is killed. */
  async function mqadminUntil(argv: string[], until: RegExp): Promise<string> {
    const classpath = await ensureJavaPeer();
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "tsmq-mqadmin-"));
    const proc = Bun.spawn(["java", "-Xmx256m", "-XX:+UseSerialGC", `-Duser.home=${home}`, `-Drocketmq.home.dir=${rocketmqHome}`, "-cp", classpath, MQADMIN_MAIN, ...argv, "-n", cluster.namesrvAddr], { stdout: "pipe", stderr: "pipe" });
    const timer = setTimeout(() => proc.kill("SIGKILL"), MQADMIN_TIMEOUT_MS);
    let out = "";
    const decoder = new TextDecoder();
    try {
      for await (const chunk of proc.stdout) {
        out += decoder.decode(chunk, { stream: true });
        if (until.test(out)) break;
      }
    } finally {
      clearTimeout(timer);
      proc.kill("SIGKILL");
      await proc.exited;
      fs.rmSync(home, { recursive: true, force: true });
    }
    expect(out).toMatch(until);
    return out;
  }

  test("statsAll", async () => {
    // #Topic    #Consumer Group    #Accumulation      #InTPS     #OutTPS   #InMsg24Hour  #OutMsg24Hour
    // SCHEDULE_TOPIC_XXXX                   0        0.00                          0    NO_CONSUMER
    // AdminT    AdminCG                     0        0.50        0.50             10             10
    // ... one row per topic (retry topics left out), consumed topics once per group
    const out = lines(await mqadmin("statsAll"));
    expect(headerOf(out[0]!)).toEqual(["#Topic", "#Consumer Group", "#Accumulation", "#InTPS", "#OutTPS", "#InMsg24Hour", "#OutMsg24Hour"]);
    const rows = out.slice(1).map((l) => l.trim().split(/\s+/));
    for (const r of rows) {
      if (r[0] === TOPIC) expect(r).toEqual([TOPIC, CONSUMER_GROUP, "0", expect.stringMatching(/^\d+\.\d\d$/), expect.stringMatching(/^\d+\.\d\d$/), expect.stringMatching(/^\d+$/), expect.stringMatching(/^\d+$/)]);
      else expect(r).toEqual([r[0], "0", expect.stringMatching(/^\d+\.\d\d$/), expect.stringMatching(/^\d+$/), "NO_CONSUMER"]);
    }
    expect(rows.filter((r) => r[0] === TOPIC).length).toBe(1);
  });

  test("topicClusterList", async () => {
    expect(lines(await mqadmin("topicClusterList", "-t", TOPIC))).toEqual(["DefaultCluster"]);
  });

  test("allocateMQ", async () => {
    // Apache 4.9.7, verbatim: AllocateMessageQueueAveragely over the route's queues.
    expect(lines(await mqadmin("allocateMQ", "-t", TOPIC, "-i", "10.0.0.1,10.0.0.2"))).toEqual([
      '{"result":{"10.0.0.2":[{"brokerName":"broker-a","queueId":0,"topic":"AdminT"},{"brokerName":"broker-a","queueId":1,"topic":"AdminT"}],"10.0.0.1":[{"brokerName":"broker-a","queueId":2,"topic":"AdminT"},{"brokerName":"broker-a","queueId":3,"topic":"AdminT"}]}}',
    ]);
  });

  test("cleanExpiredCQ", async () => {
    expect(await mqadmin("cleanExpiredCQ", "-c", cluster.clusterName)).toBe("success");
  });

  test("getNamesrvConfig", async () => {
    // ============ADDR============ then "%-50s=  %s" per NamesrvConfig and NettyServerConfig key.
    // Apache 4.9.7 printed exactly these keys:
    const apacheKeys = [
      "serverSocketBacklog", "writeBufferHighWaterMark", "serverWorkerThreads", "serverSelectorThreads", "serverChannelMaxIdleTimeSeconds",
      "writeBufferLowWaterMark", "serverSocketRcvBufSize", "serverAsyncSemaphoreValue", "kvConfigPath", "configStorePath", "clusterTest",
      "orderMessageEnable", "serverSocketSndBufSize", "serverOnewaySemaphoreValue", "serverCallbackExecutorThreads", "listenPort",
      "rocketmqHome", "productEnvName", "useEpollNativeSelector", "serverPooledByteBufAllocatorEnable",
    ];
    const out = lines(elideAddrs(await mqadmin("getNamesrvConfig")));
    expect(out[0]).toBe("============ADDR============");
    const keys = out.slice(1).map((l) => l.match(/^(\w+) +=  /)?.[1] ?? l);
    expect(keys.sort()).toEqual(apacheKeys.sort());
  });

  test("updateKvConfig / deleteKvConfig", async () => {
    const kvFile = path.join(cluster.dir, "namesrv", "kvConfig.json");
    expect(lines(await mqadmin("updateKvConfig", "-s", "ORDER_TOPIC_CONFIG", "-k", TOPIC, "-v", "broker-a:4"))).toEqual(["create or update kv config to namespace success."]);
    expect(JSON.parse(fs.readFileSync(kvFile, "utf8")).configTable.ORDER_TOPIC_CONFIG).toEqual({ [TOPIC]: "broker-a:4" });
    expect(lines(await mqadmin("deleteKvConfig", "-s", "ORDER_TOPIC_CONFIG", "-k", TOPIC))).toEqual(["delete kv config from namespace success."]);
    expect(JSON.parse(fs.readFileSync(kvFile, "utf8")).configTable.ORDER_TOPIC_CONFIG ?? {}).toEqual({});
  });

  // Last: the broker stops taking writes.
  test("wipeWritePerm", async () => {
    // wipe write perm of broker[broker-a] in name server[ADDR] OK, 11   (the number of topics wiped)
    const out = lines(elideAddrs(await mqadmin("wipeWritePerm", "-b", "broker-a")));
    expect(out.length).toBe(1);
    expect(out[0]).toMatch(/^wipe write perm of broker\[broker-a\] in name server\[ADDR\] OK, \d+$/);
    const wiped = Number(out[0]!.split(", ").pop());
    expect(wiped).toBeGreaterThan(0);
  });
});
