// Broker ↔ NameServer over real sockets: registration at start, re-registration when topics are
// created (admin: sync; auto-create on send: oneway), broker permission applied to routes, and
// unregistration on shutdown.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { parseNamesrvConfig } from "../../src/config/namesrv-config.ts";
import { NameServer } from "../../src/namesrv/namesrv.ts";
import { CURRENT_VERSION, RequestCode, ResponseCode } from "../../src/remoting/codes.ts";
import { RemotingCommand } from "../../src/remoting/command.ts";
import { heartbeatRequest, INVOKE_TIMEOUT_MS, jsonOf, makeTempDir, pollUntil, sendRequest, startTestBroker, type TestBroker } from "./helpers.ts";

let nsDir: string;
let namesrv: NameServer;
let tb: TestBroker;
const route = (topic: string) => tb.client.invoke(`127.0.0.1:${namesrv.port}`, RemotingCommand.request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic }), INVOKE_TIMEOUT_MS);

beforeAll(async () => {
  nsDir = makeTempDir("tsmq-reg-ns-");
  namesrv = new NameServer({ config: parseNamesrvConfig(new Map(), { listenPort: 0, kvConfigPath: path.join(nsDir, "kv.json") }).config, host: "127.0.0.1" });
  await namesrv.start();
  tb = await startTestBroker({ overrides: { namesrvAddr: `127.0.0.1:${namesrv.port}` } });
});
afterAll(async () => {
  await tb.destroy();
  await namesrv.shutdown();
  fs.rmSync(nsDir, { recursive: true, force: true });
});

describe("namesrv registration", () => {
  test("built-in topics are routed to the broker after start", async () => {
    const r = await route("TBW102");
    expect(r.code).toBe(ResponseCode.SUCCESS);
    const data = jsonOf(r);
    expect(data.brokerDatas[0].brokerAddrs["0"]).toBe(tb.addr);
    expect(data.queueDatas[0]).toMatchObject({ brokerName: "broker-test", perm: 7, readQueueNums: 8 });
  });

  test("admin-created and send-auto-created topics are registered", async () => {
    const create = RemotingCommand.request(RequestCode.UPDATE_AND_CREATE_TOPIC, {
      topic: "RegAdmin", defaultTopic: "TBW102", readQueueNums: "3", writeQueueNums: "3", perm: "6", topicFilterType: "SINGLE_TAG", topicSysFlag: "0", order: "false",
    });
    expect((await tb.client.invoke(tb.addr, create, INVOKE_TIMEOUT_MS)).code).toBe(ResponseCode.SUCCESS);
    // Registration is synchronous for admin creation: the route is there when the answer is.
    expect(jsonOf(await route("RegAdmin")).queueDatas[0].writeQueueNums).toBe(3);

    expect((await tb.client.invoke(tb.addr, sendRequest("RegAuto", "x", {}, { e: "-1" }), INVOKE_TIMEOUT_MS)).code).toBe(ResponseCode.SUCCESS);
    await pollUntil(async () => (await route("RegAuto")).code === ResponseCode.SUCCESS);
  });

  test("the heartbeat answer carries the broker version and creates a routed %RETRY% topic", async () => {
    const r = await tb.client.invoke(tb.addr, heartbeatRequest("10.9.9.9@r", "G-reg", [{ topic: "RegAdmin" }]), INVOKE_TIMEOUT_MS);
    expect(r.code).toBe(ResponseCode.SUCCESS);
    expect(r.version).toBe(CURRENT_VERSION);
    await pollUntil(async () => (await route("%RETRY%G-reg")).code === ResponseCode.SUCCESS);
  });

  test("a read-only broker registers every topic read-only", async () => {
    const update = (text: string) => tb.client.invoke(tb.addr, RemotingCommand.request(RequestCode.UPDATE_BROKER_CONFIG, {}, new TextEncoder().encode(text)), INVOKE_TIMEOUT_MS);
    expect((await update("brokerPermission=4\n")).code).toBe(ResponseCode.SUCCESS);
    expect(jsonOf(await route("RegAdmin")).queueDatas[0].perm).toBe(4);
    expect((await update("brokerPermission=6\n")).code).toBe(ResponseCode.SUCCESS);
    expect(jsonOf(await route("RegAdmin")).queueDatas[0].perm).toBe(6);
  });

  test("shutdown unregisters", async () => {
    const dir = makeTempDir("tsmq-reg-b2-");
    const second = await startTestBroker({ dir, overrides: { namesrvAddr: `127.0.0.1:${namesrv.port}`, brokerName: "broker-two" } });
    expect((await route("broker-two")).code).toBe(ResponseCode.SUCCESS);
    await second.destroy();
    expect((await route("broker-two")).code).toBe(ResponseCode.TOPIC_NOT_EXIST);
  });
});
