// Admin and query requests over a real socket: UPDATE_BROKER_CONFIG allow-list (CVE-2023-33246
// class, and the escaped-newline smuggling of issue 13), topic and group administration, stats, runtime info, queries by key / id / time.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { parseFastjson } from "../../src/common/fastjson.ts";
import { decodeRecord } from "../../src/common/message-codec.ts";
import { RequestCode, ResponseCode } from "../../src/remoting/codes.ts";
import { RemotingCommand } from "../../src/remoting/command.ts";
import { BROKER_RUNTIME_KEYS, brokerConfigEntries } from "../../src/config/broker-config.ts";
import { RemotingClient } from "../../src/remoting/client.ts";
import { heartbeatRequest, INVOKE_TIMEOUT_MS, jsonOf, makeTempDir, pollUntil, pullRequest, sendRequest, startTestBroker, type TestBroker } from "./helpers.ts";

let tb: TestBroker;
const invoke = (cmd: RemotingCommand) => tb.client.invoke(tb.addr, cmd, INVOKE_TIMEOUT_MS);
const enc = new TextEncoder();
const req = (code: number, ext: Record<string, string> = {}, body?: string) => RemotingCommand.request(code, ext, body === undefined ? undefined : enc.encode(body));

function createTopic(topic: string, queues = 2, perm = 6): RemotingCommand {
  return req(RequestCode.UPDATE_AND_CREATE_TOPIC, {
    topic, defaultTopic: "TBW102", readQueueNums: String(queues), writeQueueNums: String(queues), perm: String(perm), topicFilterType: "SINGLE_TAG", topicSysFlag: "0", order: "false",
  });
}

beforeAll(async () => {
  tb = await startTestBroker();
  expect((await invoke(createTopic("AdminTopic"))).code).toBe(ResponseCode.SUCCESS);
});
afterAll(async () => {
  await tb.destroy();
});

describe("UPDATE_BROKER_CONFIG", () => {
  test("every key off the allow-list is refused with NO_PERMISSION and nothing changes", async () => {
    const before = { ...tb.broker.config };
    const schemaKeys = brokerConfigEntries(tb.broker.config).map(([k]) => k);
    const attempts = [...schemaKeys.filter((k) => !BROKER_RUNTIME_KEYS.has(k as never)), "configBlackList", "brokerConfigPath", "storePathEpochFile", "someFutureDir"];
    expect(attempts).toContain("storePathCommitLog");
    for (const key of attempts) {
      const r = await invoke(req(RequestCode.UPDATE_BROKER_CONFIG, {}, `${key}=/tmp/evil\n`));
      expect({ key, code: r.code }).toEqual({ key, code: ResponseCode.NO_PERMISSION });
      expect(r.remark).toContain(key);
    }
    // A refused key hidden among allowed ones refuses the whole update.
    const mixed = await invoke(req(RequestCode.UPDATE_BROKER_CONFIG, {}, "longPollingEnable=false\nrocketmqHome=/tmp/evil\n"));
    expect(mixed.code).toBe(ResponseCode.NO_PERMISSION);
    expect(tb.broker.config).toEqual(before);
  });

  test("an escaped line break cannot smuggle a key (issue 13: regionId=x\\nstorePathCommitLog=/tmp/e)", async () => {
    const before = { ...tb.broker.config };
    for (const body of ["regionId=x\\nstorePathCommitLog=/tmp/e\n", "regionId=x\\u000astorePathCommitLog=/tmp/e\n", "regionId=x\\rstorePathCommitLog=/tmp/e\n"]) {
      const r = await invoke(req(RequestCode.UPDATE_BROKER_CONFIG, {}, body));
      expect({ body, code: r.code }).toEqual({ body, code: ResponseCode.SYSTEM_ERROR });
      expect(r.remark).toContain("line breaks");
    }
    expect(tb.broker.config).toEqual(before);
  });

  test("allowed keys change, bad values are refused naming the key, GET_BROKER_CONFIG shows the result", async () => {
    expect((await invoke(req(RequestCode.UPDATE_BROKER_CONFIG, {}, "defaultTopicQueueNums=5\n"))).code).toBe(ResponseCode.SUCCESS);
    expect(tb.broker.config.defaultTopicQueueNums).toBe(5);
    const bad = await invoke(req(RequestCode.UPDATE_BROKER_CONFIG, {}, "defaultTopicQueueNums=five\n"));
    expect(bad.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(bad.remark).toContain("defaultTopicQueueNums");
    expect(tb.broker.config.defaultTopicQueueNums).toBe(5);
    const got = await invoke(req(RequestCode.GET_BROKER_CONFIG));
    expect(got.code).toBe(ResponseCode.SUCCESS);
    expect(new TextDecoder().decode(got.body)).toContain("defaultTopicQueueNums=5\n");
    expect(JSON.parse(got.extFields.version!)).toHaveProperty("counter");
  });
});

describe("topics and groups", () => {
  test("create refuses system topics and bad names; delete removes config and queues", async () => {
    expect((await invoke(createTopic("SCHEDULE_TOPIC_XXXX"))).remark).toContain("conflict with system topic");
    expect((await invoke(createTopic("DefaultCluster"))).remark).toContain("system reserved words");
    expect((await invoke(createTopic("bad name"))).code).toBe(ResponseCode.SYSTEM_ERROR);
    expect((await invoke(createTopic("Doomed"))).code).toBe(ResponseCode.SUCCESS);
    await invoke(sendRequest("Doomed", "x", {}, { e: "0" }));
    const all = jsonOf(await invoke(req(RequestCode.GET_ALL_TOPIC_CONFIG)));
    expect(all.topicConfigTable.Doomed).toMatchObject({ readQueueNums: 2, writeQueueNums: 2, perm: 6, topicName: "Doomed" });
    expect((await invoke(req(RequestCode.DELETE_TOPIC_IN_BROKER, { topic: "Doomed" }))).code).toBe(ResponseCode.SUCCESS);
    expect(tb.broker.topics.get("Doomed")).toBeUndefined();
    expect(tb.broker.store.getMaxOffsetInQueue("Doomed", 0)).toBe(0);
  });

  test("subscription groups: create, list, delete with offsets", async () => {
    const body = JSON.stringify({ groupName: "G-admin", retryMaxTimes: 3, retryQueueNums: 2, consumeEnable: true });
    expect((await invoke(req(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, body))).code).toBe(ResponseCode.SUCCESS);
    expect(jsonOf(await invoke(req(RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG))).subscriptionGroupTable["G-admin"]).toMatchObject({ retryMaxTimes: 3, retryQueueNums: 2 });
    await invoke(req(RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: "G-admin", topic: "AdminTopic", queueId: "0", commitOffset: "1" }));
    expect(jsonOf(await invoke(req(RequestCode.GET_ALL_CONSUMER_OFFSET))).offsetTable["AdminTopic@G-admin"]).toEqual({ "0": 1 });
    expect((await invoke(req(RequestCode.DELETE_SUBSCRIPTIONGROUP, { groupName: "G-admin", removeOffset: "true" }))).code).toBe(ResponseCode.SUCCESS);
    expect(tb.broker.groups.get("G-admin")).toBeUndefined();
    expect(tb.broker.offsets.queryOffset("G-admin", "AdminTopic", 0)).toBe(-1);
  });

  test("a disabled group cannot pull", async () => {
    await invoke(req(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, JSON.stringify({ groupName: "G-off", consumeEnable: false })));
    const r = await invoke(pullRequest("G-off", "AdminTopic", 0, 0));
    expect(r.code).toBe(ResponseCode.NO_PERMISSION);
  });
});

describe("stats, connections, queries", () => {
  /** The consumer's own connection: it receives what the broker pushes. */
  const pushed: RemotingCommand[] = [];
  const consumerClient = new RemotingClient({
    onRequest: (r) => {
      pushed.push(r);
      if (r.code !== RequestCode.GET_CONSUMER_RUNNING_INFO) return null;
      const answer = RemotingCommand.responseTo(r, ResponseCode.SUCCESS);
      answer.body = enc.encode('{"properties":{"PROP_CONSUME_TYPE":"CONSUME_PASSIVELY"}}');
      return answer;
    },
  });
  afterAll(() => consumerClient.close());
  let msgId = "";
  const sentAt = Date.now();
  beforeAll(async () => {
    for (let i = 0; i < 3; i++) {
      const r = await invoke(sendRequest("AdminTopic", `q${i}`, { KEYS: `order-${i} shared`, TAGS: "T" }, { e: "1" }));
      expect(r.code).toBe(ResponseCode.SUCCESS);
      if (i === 1) msgId = r.extFields.msgId!;
    }
    await invoke(req(RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: "G-stats", topic: "AdminTopic", queueId: "1", commitOffset: "2" }));
    expect((await consumerClient.invoke(tb.addr, heartbeatRequest("10.1.1.1@x", "G-stats", [{ topic: "AdminTopic" }]), INVOKE_TIMEOUT_MS)).code).toBe(ResponseCode.SUCCESS);
  });

  test("GET_TOPIC_STATS_INFO and GET_CONSUME_STATS (maps keyed by MessageQueue)", async () => {
    const stats = parseFastjson(new TextDecoder().decode((await invoke(req(RequestCode.GET_TOPIC_STATS_INFO, { topic: "AdminTopic" }))).body)) as { offsetTable: Record<string, { maxOffset: number }> };
    const q1 = Object.entries(stats.offsetTable).find(([k]) => k.includes('"queueId":1'))!;
    expect(q1[1]).toMatchObject({ maxOffset: 3, minOffset: 0 });
    expect((await invoke(req(RequestCode.GET_TOPIC_STATS_INFO, { topic: "Nope" }))).code).toBe(ResponseCode.TOPIC_NOT_EXIST);

    const consume = parseFastjson(new TextDecoder().decode((await invoke(req(RequestCode.GET_CONSUME_STATS, { consumerGroup: "G-stats" }))).body)) as { offsetTable: Record<string, unknown> };
    const c1 = Object.entries(consume.offsetTable).find(([k]) => k.includes('"queueId":1'))!;
    expect(c1[1]).toMatchObject({ brokerOffset: 3, consumerOffset: 2 });
  });

  test("connections and consume-by-who", async () => {
    const conns = jsonOf(await invoke(req(RequestCode.GET_CONSUMER_CONNECTION_LIST, { consumerGroup: "G-stats" })));
    expect(conns.connectionSet[0]).toMatchObject({ clientId: "10.1.1.1@x", language: "JAVA" });
    expect(conns.subscriptionTable.AdminTopic.subString).toBe("*");
    expect((await invoke(req(RequestCode.GET_CONSUMER_CONNECTION_LIST, { consumerGroup: "nobody" }))).code).toBe(ResponseCode.CONSUMER_NOT_ONLINE);
    expect(jsonOf(await invoke(req(RequestCode.GET_PRODUCER_CONNECTION_LIST, { producerGroup: "CLIENT_INNER_PRODUCER" }))).connectionSet.length).toBe(1);
    expect(jsonOf(await invoke(req(RequestCode.QUERY_TOPIC_CONSUME_BY_WHO, { topic: "AdminTopic" }))).groupList).toContain("G-stats");
  });

  test("QUERY_MESSAGE by key, VIEW_MESSAGE_BY_ID, offsets by time", async () => {
    const q = await invoke(req(RequestCode.QUERY_MESSAGE, { topic: "AdminTopic", key: "order-1", maxNum: "64", beginTimestamp: "0", endTimestamp: String(Number.MAX_SAFE_INTEGER), _UNIQUE_KEY_QUERY: "false" }));
    expect(q.code).toBe(ResponseCode.SUCCESS);
    expect(new TextDecoder().decode(decodeRecord(q.body!, true).body)).toBe("q1");
    const none = await invoke(req(RequestCode.QUERY_MESSAGE, { topic: "AdminTopic", key: "absent", maxNum: "64", beginTimestamp: "0", endTimestamp: String(Number.MAX_SAFE_INTEGER) }));
    expect(none.code).toBe(ResponseCode.QUERY_NOT_FOUND);

    const offset = parseInt(msgId.slice(16), 16);
    const view = await invoke(req(RequestCode.VIEW_MESSAGE_BY_ID, { offset: String(offset) }));
    expect(decodeRecord(view.body!, true).msgId).toBe(msgId);
    expect((await invoke(req(RequestCode.VIEW_MESSAGE_BY_ID, { offset: "99999999" }))).code).toBe(ResponseCode.SYSTEM_ERROR);

    expect((await invoke(req(RequestCode.GET_MAX_OFFSET, { topic: "AdminTopic", queueId: "1" }))).extFields.offset).toBe("3");
    expect((await invoke(req(RequestCode.GET_MIN_OFFSET, { topic: "AdminTopic", queueId: "1" }))).extFields.offset).toBe("0");
    expect((await invoke(req(RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, { topic: "AdminTopic", queueId: "1", timestamp: String(sentAt - 60_000) }))).extFields.offset).toBe("0");
    const earliest = Number((await invoke(req(RequestCode.GET_EARLIEST_MSG_STORETIME, { topic: "AdminTopic", queueId: "1" }))).extFields.timestamp);
    expect(earliest).toBeGreaterThanOrEqual(sentAt - 1_000);
  });

  test("GET_BROKER_RUNTIME_INFO has the keys mqadmin reads", async () => {
    const table = jsonOf(await invoke(req(RequestCode.GET_BROKER_RUNTIME_INFO))).table as Record<string, string>;
    for (const key of ["brokerVersionDesc", "putTps", "getTransferedTps", "earliestMessageTimeStamp", "commitLogDiskRatio", "msgPutTotalTodayNow", "scheduleMessageOffset_1"]) {
      expect(table).toHaveProperty(key);
    }
    expect(Number.isFinite(Number(table.earliestMessageTimeStamp))).toBe(true);
  });

  test("INVOKE_BROKER_TO_RESET_OFFSET pushes RESET_CONSUMER_CLIENT_OFFSET to live consumers", async () => {
    const r = await invoke(req(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, { topic: "AdminTopic", group: "G-stats", timestamp: "-1", isForce: "true" }));
    // G-stats has an offset only for queue 1: queue 0 has none, which Java reports as SYSTEM_ERROR.
    expect(r.code).toBe(ResponseCode.SYSTEM_ERROR);
    await invoke(req(RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: "G-stats", topic: "AdminTopic", queueId: "0", commitOffset: "0" }));
    const ok = await invoke(req(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, { topic: "AdminTopic", group: "G-stats", timestamp: "-1", isForce: "true" }));
    expect(ok.code).toBe(ResponseCode.SUCCESS);
    const table = parseFastjson(new TextDecoder().decode(ok.body)) as { offsetTable: Record<string, number> };
    expect(Object.values(table.offsetTable).sort()).toEqual([0, 3]);
    const push = await pollUntil(() => pushed.find((p) => p.code === RequestCode.RESET_CONSUMER_CLIENT_OFFSET));
    expect(push.extFields).toMatchObject({ topic: "AdminTopic", group: "G-stats", timestamp: "-1", isForce: "true" });
    expect(new TextDecoder().decode(push.body)).toBe(new TextDecoder().decode(ok.body));
  });

  test("GET_CONSUMER_RUNNING_INFO is forwarded to the client and its answer relayed", async () => {
    const r = await invoke(req(RequestCode.GET_CONSUMER_RUNNING_INFO, { consumerGroup: "G-stats", clientId: "10.1.1.1@x", jstackEnable: "false" }));
    expect(r.code).toBe(ResponseCode.SUCCESS);
    expect(jsonOf(r).properties.PROP_CONSUME_TYPE).toBe("CONSUME_PASSIVELY");
    const missing = await invoke(req(RequestCode.GET_CONSUMER_RUNNING_INFO, { consumerGroup: "G-stats", clientId: "nobody" }));
    expect(missing.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(missing.remark).toContain("not online");
  });
});

describe("UPDATE_BROKER_CONFIG persistence", () => {
  test("accepted keys are written back to the -c file", async () => {
    const dir = makeTempDir("tsmq-conf-");
    const file = path.join(dir, "broker.conf");
    fs.writeFileSync(file, "# operator's file\nbrokerClusterName=DefaultCluster\n");
    const own = await startTestBroker({ dir, brokerOptions: { configFilePath: file } });
    try {
      const r = await own.client.invoke(own.addr, req(RequestCode.UPDATE_BROKER_CONFIG, {}, "defaultTopicQueueNums=6\n"), INVOKE_TIMEOUT_MS);
      expect(r.code).toBe(ResponseCode.SUCCESS);
      const text = fs.readFileSync(file, "utf8");
      expect(text).toContain("brokerClusterName=DefaultCluster\n");
      expect(text).toContain("defaultTopicQueueNums=6\n");
      // Written through a temp file, the previous content kept as .bak.
      expect(fs.existsSync(file + ".tmp")).toBe(false);
      expect(fs.readFileSync(file + ".bak", "utf8")).toBe("# operator's file\nbrokerClusterName=DefaultCluster\n");
      const smuggle = await own.client.invoke(own.addr, req(RequestCode.UPDATE_BROKER_CONFIG, {}, "regionId=x\\nstorePathCommitLog=/tmp/e\n"), INVOKE_TIMEOUT_MS);
      expect(smuggle.code).toBe(ResponseCode.SYSTEM_ERROR);
      expect(fs.readFileSync(file, "utf8")).toBe(text);
    } finally {
      await own.destroy();
    }
  });
});
