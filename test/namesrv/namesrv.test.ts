// The NameServer over real TCP: a RemotingClient plays broker and client.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseFastjson } from "../../src/common/fastjson.ts";
import { parseNamesrvConfig } from "../../src/config/namesrv-config.ts";
import { NameServer, crc32Masked } from "../../src/namesrv/namesrv.ts";
import { encodeRegisterBrokerBody } from "../../src/namesrv/register-body.ts";
import { RequestCode, ResponseCode } from "../../src/remoting/codes.ts";
import { RemotingCommand, SerializeType } from "../../src/remoting/command.ts";
import { RemotingClient } from "../../src/remoting/client.ts";
import { waitUntil } from "../wait-until.ts";

const TIMEOUT_MS = 3000;
const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b ?? new Uint8Array(0));


const topic = (topicName: string) => ({ topicName, readQueueNums: 4, writeQueueNums: 4, perm: 6, topicFilterType: "SINGLE_TAG", topicSysFlag: 0, order: false });

function registerRequest(o: { brokerName: string; brokerAddr: string; brokerId?: number; topics: string[]; counter?: number; compressed?: boolean; cluster?: string }) {
  const compressed = o.compressed ?? false;
  const body = encodeRegisterBrokerBody(
    { dataVersion: { counter: o.counter ?? 1, timestamp: 1_700_000_000_000 }, topicConfigs: o.topics.map(topic), filterServerList: [] },
    compressed,
  );
  return RemotingCommand.request(
    RequestCode.REGISTER_BROKER,
    {
      brokerName: o.brokerName,
      brokerAddr: o.brokerAddr,
      clusterName: o.cluster ?? "DefaultCluster",
      haServerAddr: o.brokerAddr.replace(/:\d+$/, ":10912"),
      brokerId: String(o.brokerId ?? 0),
      compressed: String(compressed),
      bodyCrc32: String(crc32Masked(body)),
    },
    body,
  );
}

describe("NameServer", () => {
  let dir: string;
  let namesrv: NameServer;
  let addr: string;
  const clients: RemotingClient[] = [];
  const client = () => {
    const c = new RemotingClient();
    clients.push(c);
    return c;
  };

  const start = async () => {
    const { config } = parseNamesrvConfig(new Map(), {
      listenPort: 0,
      kvConfigPath: path.join(dir, "kv", "kvConfig.json"),
      configStorePath: path.join(dir, "namesrv.properties"),
      orderMessageEnable: true,
    });
    namesrv = new NameServer({ config, host: "127.0.0.1" });
    await namesrv.start();
    addr = `127.0.0.1:${namesrv.port}`;
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsmq-namesrv-"));
    await start();
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await namesrv.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const route = (c: RemotingClient, t: string, version?: number) => {
    const req = RemotingCommand.request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: t });
    if (version !== undefined) req.version = version;
    return c.invoke(addr, req, TIMEOUT_MS);
  };

  test("register -> route, in both JSON forms; unknown topic -> TOPIC_NOT_EXIST", async () => {
    const broker = client();
    const res = await broker.invoke(addr, registerRequest({ brokerName: "broker-a", brokerAddr: "10.0.0.1:10911", topics: ["TopicTest"] }), TIMEOUT_MS);
    expect(res.code).toBe(ResponseCode.SUCCESS);
    expect(res.extFields.masterAddr).toBeUndefined();

    const reader = client();
    const standard = await route(reader, "TopicTest");
    expect(standard.code).toBe(ResponseCode.SUCCESS);
    expect(text(standard.body)).toBe(
      '{"brokerDatas":[{"brokerAddrs":{"0":"10.0.0.1:10911"},"brokerName":"broker-a","cluster":"DefaultCluster"}],"filterServerTable":{},' +
        '"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]}',
    );
    // Clients older than 4.9.4 (ali-ons sends version 121) get fastjson's bare numeric keys.
    const legacy = await route(reader, "TopicTest", 121);
    expect(text(legacy.body)).toContain('"brokerAddrs":{0:"10.0.0.1:10911"}');

    // A Java client configured for ROCKETMQ binary headers gets its answer in that serialization.
    const binary = RemotingCommand.request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: "TopicTest" });
    binary.serializeType = SerializeType.ROCKETMQ;
    const binaryRes = await reader.invoke(addr, binary, TIMEOUT_MS);
    expect(binaryRes.serializeType).toBe(SerializeType.ROCKETMQ);
    expect(text(binaryRes.body)).toBe(text(standard.body));

    const missing = await route(reader, "NoSuchTopic");
    expect(missing.code).toBe(ResponseCode.TOPIC_NOT_EXIST);
    expect(missing.remark).toBe("No topic route info in name server for the topic: NoSuchTopic\nSee http://rocketmq.apache.org/docs/faq/ for further details.");

    // A slave on its own connection learns the master's addresses.
    const slave = await client().invoke(addr, registerRequest({ brokerName: "broker-a", brokerAddr: "10.0.0.2:10911", brokerId: 1, topics: [] }), TIMEOUT_MS);
    expect(slave.extFields).toMatchObject({ masterAddr: "10.0.0.1:10911", haServerAddr: "10.0.0.1:10912" });
  });

  test("compressed registration, cluster/topic lists, write permission, data version", async () => {
    const c = client();
    const res = await c.invoke(addr, registerRequest({ brokerName: "broker-z", brokerAddr: "10.0.0.9:10911", topics: ["Zipped", "Shared"], compressed: true, cluster: "ZCluster" }), TIMEOUT_MS);
    expect(res.code).toBe(ResponseCode.SUCCESS);
    expect((await route(c, "Zipped")).code).toBe(ResponseCode.SUCCESS);

    const cluster = await c.invoke(addr, RemotingCommand.request(RequestCode.GET_BROKER_CLUSTER_INFO), TIMEOUT_MS);
    const info = parseFastjson(text(cluster.body)) as any;
    expect(text(cluster.body)).toContain('"brokerAddrs":{0:"10.0.0.9:10911"}');
    expect(info.clusterAddrTable.ZCluster).toEqual(["broker-z"]);

    const all = parseFastjson(text((await c.invoke(addr, RemotingCommand.request(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER), TIMEOUT_MS)).body)) as any;
    expect(all.topicList).toContain("Zipped");
    const byCluster = await c.invoke(addr, RemotingCommand.request(RequestCode.GET_TOPICS_BY_CLUSTER, { cluster: "ZCluster" }), TIMEOUT_MS);
    expect((JSON.parse(text(byCluster.body)).topicList as string[]).sort()).toEqual(["Shared", "Zipped"]);
    const sys = JSON.parse(text((await c.invoke(addr, RemotingCommand.request(RequestCode.GET_SYSTEM_TOPIC_LIST_FROM_NS), TIMEOUT_MS)).body));
    expect(sys.topicList).toContain("ZCluster");
    expect(sys.topicList).toContain("broker-z");
    const unit = await c.invoke(addr, RemotingCommand.request(RequestCode.GET_UNIT_TOPIC_LIST), TIMEOUT_MS);
    expect(text(unit.body)).toBe('{"topicList":[]}');

    const wipe = await c.invoke(addr, RemotingCommand.request(RequestCode.WIPE_WRITE_PERM_OF_BROKER, { brokerName: "broker-z" }), TIMEOUT_MS);
    expect(wipe.extFields.wipeTopicCount).toBe("2");
    expect(JSON.parse(text((await route(c, "Zipped")).body)).queueDatas[0].perm).toBe(4);
    const add = await c.invoke(addr, RemotingCommand.request(RequestCode.ADD_WRITE_PERM_OF_BROKER, { brokerName: "broker-z" }), TIMEOUT_MS);
    expect(add.extFields.addTopicCount).toBe("2");

    const dv = (counter: number) =>
      c.invoke(
        addr,
        RemotingCommand.request(
          RequestCode.QUERY_DATA_VERSION,
          { brokerName: "broker-z", brokerAddr: "10.0.0.9:10911", clusterName: "ZCluster", brokerId: "0" },
          new TextEncoder().encode(`{"counter":${counter},"timestamp":1700000000000}`),
        ),
        TIMEOUT_MS,
      );
    expect((await dv(1)).extFields.changed).toBe("false");
    expect((await dv(2)).extFields.changed).toBe("true");

    const del = await c.invoke(addr, RemotingCommand.request(RequestCode.DELETE_TOPIC_IN_NAMESRV, { topic: "Zipped" }), TIMEOUT_MS);
    expect(del.code).toBe(ResponseCode.SUCCESS);
    expect((await route(c, "Zipped")).code).toBe(ResponseCode.TOPIC_NOT_EXIST);
  });

  test("expiry: a broker that stops registering disappears and its connection is closed", async () => {
    // A second NameServer with a short expiry, so the other tests' brokers stay registered.
    const { config } = parseNamesrvConfig(new Map(), { listenPort: 0, kvConfigPath: path.join(dir, "expiry-kv.json") });
    const shortLived = new NameServer({ config, host: "127.0.0.1", brokerExpiryMs: 1000, scanIntervalMs: 50 });
    await shortLived.start();
    const shortAddr = `127.0.0.1:${shortLived.port}`;
    let closed = false;
    const broker = new RemotingClient({ onConnectionClose: () => (closed = true) });
    const reader = new RemotingClient();
    try {
      await broker.invoke(shortAddr, registerRequest({ brokerName: "broker-e", brokerAddr: "10.0.0.5:10911", topics: ["Expiring"] }), TIMEOUT_MS);
      const routeCode = async () => (await reader.invoke(shortAddr, RemotingCommand.request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: "Expiring" }), TIMEOUT_MS)).code;
      expect(await routeCode()).toBe(ResponseCode.SUCCESS);
      await waitUntil("expiry", async () => (await routeCode()) === ResponseCode.TOPIC_NOT_EXIST);
      await waitUntil("namesrv closing the expired broker's connection", () => closed);
    } finally {
      broker.close();
      reader.close();
      await shortLived.shutdown();
    }
  });

  test("unregister and connection close remove the broker", async () => {
    const reader = client();
    const a = client();
    await a.invoke(addr, registerRequest({ brokerName: "broker-u", brokerAddr: "10.0.0.6:10911", topics: ["Unreg"] }), TIMEOUT_MS);
    const un = await a.invoke(
      addr,
      RemotingCommand.request(RequestCode.UNREGISTER_BROKER, { brokerName: "broker-u", brokerAddr: "10.0.0.6:10911", clusterName: "DefaultCluster", brokerId: "0" }),
      TIMEOUT_MS,
    );
    expect(un.code).toBe(ResponseCode.SUCCESS);
    expect((await route(reader, "Unreg")).code).toBe(ResponseCode.TOPIC_NOT_EXIST);

    const b = client();
    await b.invoke(addr, registerRequest({ brokerName: "broker-c", brokerAddr: "10.0.0.7:10911", topics: ["Closing"] }), TIMEOUT_MS);
    expect((await route(reader, "Closing")).code).toBe(ResponseCode.SUCCESS);
    b.closeConnection(addr);
    await waitUntil("removal on close", async () => (await route(reader, "Closing")).code === ResponseCode.TOPIC_NOT_EXIST);
  });

  test("bad requests get a response code and a remark naming the problem", async () => {
    const c = client();
    const missing = await c.invoke(addr, RemotingCommand.request(RequestCode.GET_ROUTEINFO_BY_TOPIC, {}), TIMEOUT_MS);
    expect(missing.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(missing.remark).toBe("the custom field <topic> is null");

    const badCrc = registerRequest({ brokerName: "broker-x", brokerAddr: "10.0.0.8:10911", topics: ["X"] });
    badCrc.extFields.bodyCrc32 = "12345";
    expect((await c.invoke(addr, badCrc, TIMEOUT_MS)).remark).toBe("crc32 not match");

    const badBody = RemotingCommand.request(
      RequestCode.REGISTER_BROKER,
      { brokerName: "b", brokerAddr: "1.1.1.1:1", clusterName: "c", haServerAddr: "1.1.1.1:2", brokerId: "0" },
      new TextEncoder().encode("{not json"),
    );
    const bad = await c.invoke(addr, badBody, TIMEOUT_MS);
    expect(bad.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(bad.remark).toContain("RegisterBrokerBody is not JSON");

    const badId = registerRequest({ brokerName: "b", brokerAddr: "1.1.1.1:1", topics: [] });
    badId.extFields.brokerId = "zero";
    expect((await c.invoke(addr, badId, TIMEOUT_MS)).remark).toBe('the custom field <brokerId> = "zero" is not a long');

    const unknown = await c.invoke(addr, RemotingCommand.request(999), TIMEOUT_MS);
    expect(unknown.code).toBe(ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
    expect(unknown.remark).toBe(" request type 999 not supported");
  });

  test("UPDATE_NAMESRV_CONFIG: black list, bad values, and an update that GET_NAMESRV_CONFIG and the file show", async () => {
    const c = client();
    const update = (body: string) => c.invoke(addr, RemotingCommand.request(RequestCode.UPDATE_NAMESRV_CONFIG, {}, new TextEncoder().encode(body)), TIMEOUT_MS);
    for (const key of ["kvConfigPath", "configStorePath", "rocketmqHome", "listenPort", "serverWorkerThreads", "configBlackList", "unknownKey"]) {
      const denied = await update(`${key}=/etc/evil\n`);
      expect({ key, code: denied.code }).toEqual({ key, code: ResponseCode.NO_PERMISSION });
      expect(denied.remark).toContain(`Can not update config ${key}: not among the keys that may change at run time`);
    }
    // Issue 13: an escaped newline in a value smuggled a refused key into namesrv.properties.
    const smuggled = await update("productEnvName=x\\nkvConfigPath=/tmp/e\n");
    expect(smuggled.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(smuggled.remark).toContain("line breaks");
    const bad = await update("clusterTest=maybe\n");
    expect(bad.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(bad.remark).toContain('"clusterTest" = "maybe": expected a boolean');
    expect((await update("productEnvName=test-env\n")).code).toBe(ResponseCode.SUCCESS);
    const config = await c.invoke(addr, RemotingCommand.request(RequestCode.GET_NAMESRV_CONFIG), TIMEOUT_MS);
    expect(text(config.body)).toContain("productEnvName=test-env\n");
    const written = fs.readFileSync(path.join(dir, "namesrv.properties"), "utf8");
    expect(written).toContain("productEnvName=test-env\n");
    expect(written).not.toContain("/tmp/e");
    expect(fs.existsSync(path.join(dir, "namesrv.properties.tmp"))).toBe(false);
  });

  test("KV config: put/get/list/delete, order topic conf in routes, persisted across restarts", async () => {
    const c = client();
    const put = (namespace: string, key: string, value: string) =>
      c.invoke(addr, RemotingCommand.request(RequestCode.PUT_KV_CONFIG, { namespace, key, value }), TIMEOUT_MS);
    expect((await put("ORDER_TOPIC_CONFIG", "TopicTest", "broker-a:4")).code).toBe(ResponseCode.SUCCESS);
    await put("ns", "k1", "v1");
    await put("ns", "k2", "v2");
    for (const [namespace, key, value, remark] of [["ns\nx", "k", "v", "namespace contains a line break"], ["ns", "", "v", "key is blank"], ["ns", "k".repeat(256), "v", "more than 255"], ["ns", "k", "a\u2028b", "value contains"]]) {
      const refused = await put(namespace!, key!, value!);
      expect({ code: refused.code, remark: refused.remark }).toEqual({ code: ResponseCode.SYSTEM_ERROR, remark: expect.stringContaining(remark!) });
    }

    const get = await c.invoke(addr, RemotingCommand.request(RequestCode.GET_KV_CONFIG, { namespace: "ns", key: "k1" }), TIMEOUT_MS);
    expect(get.extFields.value).toBe("v1");
    const absent = await c.invoke(addr, RemotingCommand.request(RequestCode.GET_KV_CONFIG, { namespace: "ns", key: "nope" }), TIMEOUT_MS);
    expect(absent.code).toBe(ResponseCode.QUERY_NOT_FOUND);
    const list = await c.invoke(addr, RemotingCommand.request(RequestCode.GET_KVLIST_BY_NAMESPACE, { namespace: "ns" }), TIMEOUT_MS);
    expect(JSON.parse(text(list.body))).toEqual({ table: { k1: "v1", k2: "v2" } });
    const del = await c.invoke(addr, RemotingCommand.request(RequestCode.DELETE_KV_CONFIG, { namespace: "ns", key: "k2" }), TIMEOUT_MS);
    expect(del.code).toBe(ResponseCode.SUCCESS);
    const noNs = await c.invoke(addr, RemotingCommand.request(RequestCode.GET_KVLIST_BY_NAMESPACE, { namespace: "none" }), TIMEOUT_MS);
    expect(noNs.code).toBe(ResponseCode.QUERY_NOT_FOUND);

    // broker-a from the first test still holds TopicTest; its route now carries orderTopicConf.
    expect(JSON.parse(text((await route(c, "TopicTest")).body)).orderTopicConf).toBe("broker-a:4");
    // Registration answers with the ORDER_TOPIC_CONFIG table.
    const regRes = await client().invoke(addr, registerRequest({ brokerName: "broker-k", brokerAddr: "10.0.0.10:10911", topics: [] }), TIMEOUT_MS);
    expect(JSON.parse(text(regRes.body))).toEqual({ table: { TopicTest: "broker-a:4" } });

    const config = await c.invoke(addr, RemotingCommand.request(RequestCode.GET_NAMESRV_CONFIG), TIMEOUT_MS);
    expect(text(config.body)).toContain("orderMessageEnable=true\n");

    const kvFile = path.join(dir, "kv", "kvConfig.json");
    expect(JSON.parse(fs.readFileSync(kvFile, "utf8"))).toEqual({ configTable: { ORDER_TOPIC_CONFIG: { TopicTest: "broker-a:4" }, ns: { k1: "v1" } } });

    for (const cl of clients.splice(0)) cl.close();
    await namesrv.shutdown();
    await start();
    const after = await client().invoke(addr, RemotingCommand.request(RequestCode.GET_KV_CONFIG, { namespace: "ns", key: "k1" }), TIMEOUT_MS);
    expect(after.extFields.value).toBe("v1");
  });
});
