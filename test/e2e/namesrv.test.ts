// The compiled ./tsmq namesrv as a subprocess: the ali-ons client reads a route registered by a
// fake broker, KV config survives a graceful SIGTERM, and bad config exits non-zero.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { crc32Masked } from "../../src/namesrv/namesrv.ts";
import { encodeRegisterBrokerBody } from "../../src/namesrv/register-body.ts";
import { RequestCode, ResponseCode } from "../../src/remoting/codes.ts";
import { RemotingCommand } from "../../src/remoting/command.ts";
import { RemotingClient } from "../../src/remoting/client.ts";
import { ensureBinary, freePort, spawnTsmq, stopAllTsmq, type TsmqProcess } from "./helpers.ts";

const TIMEOUT_MS = 3000;
const READY = /The Name Server boot success/;

// ali-ons is CommonJS without types; the part used here.
interface AliRoute {
  queueDatas: Array<{ brokerName: string; readQueueNums: number; writeQueueNums: number; perm: number }>;
  brokerDatas: Array<{ brokerName: string; cluster: string; brokerAddrs: Record<string, string> }>;
}
interface AliClientApi {
  ready(): Promise<void>;
  getTopicRouteInfoFromNameServer(topic: string, timeoutMs: number): Promise<AliRoute>;
  close(): Promise<void>;
}
const AliMQClientAPI = require("ali-ons/lib/mq_client_api.js") as new (options: object) => AliClientApi;
const quietLogger = { debug() {}, info() {}, warn() {}, error() {} };

describe("tsmq namesrv (compiled binary)", () => {
  let home: string;
  let port: number;
  let namesrv: TsmqProcess;
  const client = new RemotingClient();

  beforeAll(async () => {
    await ensureBinary();
    home = fs.mkdtempSync(path.join(os.tmpdir(), "tsmq-e2e-namesrv-"));
    port = await freePort();
    // HOME decides the default kvConfigPath (~/namesrv/kvConfig.json).
    namesrv = await spawnTsmq(["namesrv", "-p", String(port)], { env: { HOME: home }, ready: READY });
  });

  afterAll(async () => {
    client.close();
    await stopAllTsmq();
    fs.rmSync(home, { recursive: true, force: true });
  });

  test("ali-ons reads the route a broker registered", async () => {
    const addr = `127.0.0.1:${port}`;
    const topicConfig = { topicName: "TopicTest", readQueueNums: 4, writeQueueNums: 4, perm: 6, topicFilterType: "SINGLE_TAG", topicSysFlag: 0, order: false };
    const body = encodeRegisterBrokerBody({ dataVersion: { counter: 1, timestamp: Date.now() }, topicConfigs: [topicConfig], filterServerList: [] }, false);
    const register = RemotingCommand.request(
      RequestCode.REGISTER_BROKER,
      { brokerName: "broker-a", brokerAddr: "127.0.0.1:10911", clusterName: "DefaultCluster", haServerAddr: "127.0.0.1:10912", brokerId: "0", compressed: "false", bodyCrc32: String(crc32Masked(body)) },
      body,
    );
    expect((await client.invoke(addr, register, TIMEOUT_MS)).code).toBe(ResponseCode.SUCCESS);

    const ali = new AliMQClientAPI({ nameSrv: addr, httpclient: {}, logger: quietLogger });
    try {
      await ali.ready();
      const route = await ali.getTopicRouteInfoFromNameServer("TopicTest", TIMEOUT_MS);
      expect(route.queueDatas).toEqual([{ brokerName: "broker-a", perm: 6, readQueueNums: 4, topicSysFlag: 0, writeQueueNums: 4 } as never]);
      expect(route.brokerDatas).toEqual([{ brokerAddrs: { "0": "127.0.0.1:10911" }, brokerName: "broker-a", cluster: "DefaultCluster" }]);
      await expect(ali.getTopicRouteInfoFromNameServer("NoSuchTopic", TIMEOUT_MS)).rejects.toThrow("No topic route info in name server for the topic: NoSuchTopic");
    } finally {
      await ali.close();
    }
  });

  test("SIGTERM exits 0 after persisting KV config", async () => {
    const addr = `127.0.0.1:${port}`;
    const put = RemotingCommand.request(RequestCode.PUT_KV_CONFIG, { namespace: "ORDER_TOPIC_CONFIG", key: "TopicTest", value: "broker-a:4" });
    expect((await client.invoke(addr, put, TIMEOUT_MS)).code).toBe(ResponseCode.SUCCESS);
    expect(await namesrv.stop()).toBe(0);
    const kv = JSON.parse(fs.readFileSync(path.join(home, "namesrv", "kvConfig.json"), "utf8"));
    expect(kv).toEqual({ configTable: { ORDER_TOPIC_CONFIG: { TopicTest: "broker-a:4" } } });
  });

  test("a bad config value exits non-zero naming the key", async () => {
    const conf = path.join(home, "bad.conf");
    fs.writeFileSync(conf, "listenPort=ninety\n");
    const p = await spawnTsmq(["namesrv", "-c", conf], { env: { HOME: home } });
    expect(await p.proc.exited).toBe(1);
    await p.stop();
    expect(p.output()).toContain('namesrv config key "listenPort" = "ninety": expected an int');
  });

  test("--help works and .env / bunfig.toml in the working directory are not loaded", async () => {
    // A .env that would silence info logs if the binary loaded it.
    fs.writeFileSync(path.join(home, ".env"), "TSMQ_LOG_LEVEL=error\n");
    fs.writeFileSync(path.join(home, "bunfig.toml"), 'preload = ["./missing-preload.ts"]\n');
    const help = await spawnTsmq(["--help"], { cwd: home });
    expect(await help.proc.exited).toBe(0);
    await help.stop();
    expect(help.output()).toContain("namesrv");
    const p = await spawnTsmq(["namesrv", "-p", String(await freePort())], { cwd: home, env: { HOME: home }, ready: READY });
    expect(p.output()).toContain("INFO  [namesrv] listening on 0.0.0.0:"); // all interfaces by default, like Java, and printed
    expect(await p.stop()).toBe(0);
  });
});
