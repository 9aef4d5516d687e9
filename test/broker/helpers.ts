// Test helpers for broker tests: a broker on 127.0.0.1 port 0 over a temp store, a remoting client,
// request builders and a poll-until helper.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { BrokerController, type BrokerOptions } from "../../src/broker/broker.ts";
import { parseBrokerConfig, type BrokerConfig } from "../../src/config/broker-config.ts";
import { propertiesToString, type Properties } from "../../src/common/message.ts";
import { RequestCode } from "../../src/remoting/codes.ts";
import { RemotingCommand } from "../../src/remoting/command.ts";
import { RemotingClient } from "../../src/remoting/client.ts";

/** Small segments keep temp stores cheap: 4 MiB commit log, 1000-entry consume queues. */
const TEST_COMMITLOG_FILE_SIZE_BYTES = 4 * 1024 * 1024;
const TEST_CONSUMEQUEUE_FILE_SIZE_BYTES = 1_000 * 20;
export const INVOKE_TIMEOUT_MS = 5_000;

export interface TestBroker {
  broker: BrokerController;
  dir: string;
  addr: string;
  client: RemotingClient;
  /** Stops the broker (clean shutdown) and closes the client; keeps the directory. */
  stop(): Promise<void>;
  /** stop() and remove the directory. */
  destroy(): Promise<void>;
}

export function testBrokerConfig(dir: string, overrides: Record<string, string | number | boolean> = {}): BrokerConfig {
  return parseBrokerConfig(new Map(), {
    listenPort: 0,
    brokerIP1: "127.0.0.1",
    brokerName: "broker-test",
    storePathRootDir: dir,
    storePathCommitLog: path.join(dir, "commitlog"),
    namesrvAddr: "",
    mappedFileSizeCommitLog: TEST_COMMITLOG_FILE_SIZE_BYTES,
    mappedFileSizeConsumeQueue: TEST_CONSUMEQUEUE_FILE_SIZE_BYTES,
    ...overrides,
  }).config;
}

export function makeTempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function startTestBroker(opts: { dir?: string; overrides?: Record<string, string | number | boolean>; brokerOptions?: BrokerOptions } = {}): Promise<TestBroker> {
  const dir = opts.dir ?? makeTempDir("tsmq-broker-");
  const broker = new BrokerController(testBrokerConfig(dir, opts.overrides), { host: "127.0.0.1", ...opts.brokerOptions });
  await broker.start();
  const client = new RemotingClient();
  const stop = async () => {
    client.close();
    await broker.shutdown();
  };
  return {
    broker,
    dir,
    addr: `127.0.0.1:${broker.port}`,
    client,
    stop,
    destroy: async () => {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A SEND_MESSAGE_V2 request as the Java client builds it. */
export function sendRequest(topic: string, body: string | Uint8Array, props: Properties = {}, fields: Record<string, string> = {}): RemotingCommand {
  return RemotingCommand.request(
    RequestCode.SEND_MESSAGE_V2,
    {
      a: "test-producer",
      b: topic,
      c: "TBW102",
      d: "4",
      e: "0",
      f: "0",
      g: String(Date.now()),
      h: "0",
      i: propertiesToString({ WAIT: "true", ...props }),
      j: "0",
      k: "false",
      m: "false",
      ...fields,
    },
    typeof body === "string" ? new TextEncoder().encode(body) : body,
  );
}

/** A PULL_MESSAGE request with the subscription in the header (ali-ons style). */
export function pullRequest(group: string, topic: string, queueId: number, queueOffset: number, fields: Record<string, string> = {}): RemotingCommand {
  return RemotingCommand.request(RequestCode.PULL_MESSAGE, {
    consumerGroup: group,
    topic,
    queueId: String(queueId),
    queueOffset: String(queueOffset),
    maxMsgNums: "32",
    sysFlag: String(0x4),
    commitOffset: "0",
    suspendTimeoutMillis: "15000",
    subscription: "*",
    subVersion: "0",
    ...fields,
  });
}

export function heartbeatRequest(clientID: string, group: string, topics: Array<{ topic: string; subString?: string }>, messageModel = "CLUSTERING"): RemotingCommand {
  const body = {
    clientID,
    consumerDataSet: [
      {
        groupName: group,
        consumeType: "CONSUME_PASSIVELY",
        messageModel,
        consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET",
        subscriptionDataSet: topics.map((t) => {
          const tags = t.subString && t.subString !== "*" ? t.subString.split("||").map((s) => s.trim()) : [];
          return { topic: t.topic, subString: t.subString ?? "*", tagsSet: tags, codeSet: [], subVersion: Date.now(), expressionType: "TAG", classFilterMode: false };
        }),
        unitMode: false,
      },
    ],
    producerDataSet: [{ groupName: "CLIENT_INNER_PRODUCER" }],
  };
  return RemotingCommand.request(RequestCode.HEART_BEAT, {}, new TextEncoder().encode(JSON.stringify(body)));
}

/** Polls `check` until it returns a truthy value or the timeout passes. */
export async function pollUntil<T>(check: () => T | Promise<T>, timeoutMs = 5_000, intervalMs = 20): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await Bun.sleep(intervalMs);
  }
}

export function jsonOf(cmd: RemotingCommand): any {
  return JSON.parse(new TextDecoder().decode(cmd.body));
}
