// The compiled `./tsmq standalone` as a subprocess: NameServer + broker in one process, an ali-ons
// producer/consumer round trip through it, and a clean SIGTERM exit (exit 0, abort file removed).
// Also `./tsmq broker -c broker.conf -n addr` against a `./tsmq namesrv`: registration and
// unregistration on SIGTERM.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { RequestCode, ResponseCode } from "../../src/remoting/codes.ts";
import { RemotingCommand } from "../../src/remoting/command.ts";
import { RemotingClient } from "../../src/remoting/client.ts";
import { ensureBinary, freeBrokerPort, freePort, spawnTsmq, stopAllTsmq, type TsmqProcess } from "./helpers.ts";

const READY = /tsmq standalone ready/;
const INVOKE_TIMEOUT_MS = 5_000;
const ROUND_TRIP_MESSAGES = 20;
const CONSUME_TIMEOUT_MS = 20_000;

// ali-ons is CommonJS without types; the parts used here.
const { Producer, Consumer, Message } = require("ali-ons") as {
  Producer: new (opts: Record<string, unknown>) => { on(event: "error", fn: (err: Error) => void): void; ready(): Promise<void>; send(m: unknown): Promise<{ sendStatus: string }>; close(): Promise<void> };
  Consumer: new (opts: Record<string, unknown>) => {
    subscribe(topic: string, expr: string, fn: (m: { body: Buffer }) => Promise<void>): void;
    on(event: string, fn: (err: Error) => void): void;
    ready(): Promise<void>;
    close(): Promise<void>;
  };
  Message: new (topic: string, tags: string, body: string) => object;
};
const quietLogger = { debug() {}, info() {}, warn() {}, error() {} };

describe("tsmq standalone (compiled binary)", () => {
  let storeDir: string;
  let namesrvPort: number;
  let brokerPort: number;
  let proc: TsmqProcess;
  const client = new RemotingClient();

  beforeAll(async () => {
    await ensureBinary();
    storeDir = fs.mkdtempSync(path.join(os.tmpdir(), "tsmq-e2e-standalone-"));
    namesrvPort = await freePort();
    brokerPort = await freeBrokerPort();
    proc = await spawnTsmq(["standalone", "--store", storeDir, "-p", String(namesrvPort), "--broker-port", String(brokerPort)], { ready: READY });
  }, 300_000);

  afterAll(async () => {
    client.close();
    await stopAllTsmq();
    fs.rmSync(storeDir, { recursive: true, force: true });
  });

  test("prints where it listens: loopback by default (issue 13, item 7)", async () => {
    expect(proc.output()).toContain(`namesrv 127.0.0.1:${namesrvPort}`);
    expect(proc.output()).toContain(`127.0.0.1:${brokerPort}`);
    expect(proc.output()).toContain("listening on 127.0.0.1,");
    // Not reachable on this machine's other addresses (when it has one).
    const external = Object.values(os.networkInterfaces()).flat().find((a) => a && a.family === "IPv4" && !a.internal);
    if (external) {
      for (const port of [namesrvPort, brokerPort]) {
        const refused = await Bun.connect({ hostname: external.address, port, socket: { data() {} } }).then(
          (s) => (s.end(), false),
          () => true,
        );
        expect({ port, refused }).toEqual({ port, refused: true });
      }
    }
  });

  test("ali-ons round trip, then a clean SIGTERM exit", async () => {
    const create = RemotingCommand.request(RequestCode.UPDATE_AND_CREATE_TOPIC, {
      topic: "E2eTopic", defaultTopic: "TBW102", readQueueNums: "4", writeQueueNums: "4", perm: "6", topicFilterType: "SINGLE_TAG", topicSysFlag: "0", order: "false",
    });
    expect((await client.invoke(`127.0.0.1:${brokerPort}`, create, INVOKE_TIMEOUT_MS)).code).toBe(ResponseCode.SUCCESS);

    const options = { httpclient: {}, nameSrv: `127.0.0.1:${namesrvPort}`, logger: quietLogger, rebalanceInterval: 1_000 };
    const producer = new Producer({ ...options, producerGroup: "PID_E2E" });
    producer.on("error", () => {}); // connection errors after close are ali-ons events, not failures
    await producer.ready();
    for (let i = 0; i < ROUND_TRIP_MESSAGES; i++) expect((await producer.send(new Message("E2eTopic", "TagE", `e2e-${i}`))).sendStatus).toBe("SEND_OK");
    await producer.close();

    const bodies = new Set<string>();
    const consumer = new Consumer({ ...options, consumerGroup: "CID_E2E", consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET" });
    consumer.on("error", () => {});
    consumer.subscribe("E2eTopic", "TagE", async (m) => {
      bodies.add(m.body.toString());
    });
    await consumer.ready();
    const deadline = Date.now() + CONSUME_TIMEOUT_MS;
    while (bodies.size < ROUND_TRIP_MESSAGES && Date.now() < deadline) await Bun.sleep(50);
    await consumer.close();
    expect(bodies.size).toBe(ROUND_TRIP_MESSAGES);

    expect(fs.existsSync(path.join(storeDir, "abort"))).toBe(true);
    expect(await proc.stop()).toBe(0);
    expect(fs.existsSync(path.join(storeDir, "abort"))).toBe(false);
    expect(fs.existsSync(path.join(storeDir, "config", "topics.json"))).toBe(true);
  }, 60_000);
});

describe("tsmq broker -c (compiled binary)", () => {
  test("registers with the namesrv on start and unregisters on SIGTERM", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsmq-e2e-broker-"));
    const client = new RemotingClient();
    try {
      const nsPort = await freePort();
      const brokerPort = await freeBrokerPort();
      await spawnTsmq(["namesrv", "-p", String(nsPort), "--kvConfigPath", path.join(dir, "kv.json")], { ready: /boot success/ });
      const conf = path.join(dir, "broker.conf");
      fs.writeFileSync(
        conf,
        ["brokerClusterName=E2eCluster", "brokerName=broker-e2e", `listenPort=${brokerPort}`, "brokerIP1=127.0.0.1", `storePathRootDir=${path.join(dir, "store")}`, "mappedFileSizeCommitLog=4194304", ""].join("\n"),
      );
      const broker = await spawnTsmq(["broker", "-c", conf, "-n", `127.0.0.1:${nsPort}`], { ready: /broker broker-e2e ready on 127\.0\.0\.1:\d+, listening on 0\.0\.0\.0:\d+/ });
      const route = async () => client.invoke(`127.0.0.1:${nsPort}`, RemotingCommand.request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: "broker-e2e" }), INVOKE_TIMEOUT_MS);
      const registered = await route();
      expect(registered.code).toBe(ResponseCode.SUCCESS);
      expect(new TextDecoder().decode(registered.body)).toContain(`127.0.0.1:${brokerPort}`);
      expect(await broker.stop()).toBe(0);
      expect((await route()).code).toBe(ResponseCode.TOPIC_NOT_EXIST);
    } finally {
      client.close();
      await stopAllTsmq();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
