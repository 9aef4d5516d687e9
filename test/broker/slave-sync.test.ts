// A slave syncs its master's metadata as soon as a registration names the master, not only on its
// timer: with the timer pushed out to a minute, a topic created on the master still reaches the
// slave within seconds (a master dying before the first tick would otherwise leave the slave
// answering TOPIC_NOT_EXIST).

import { afterAll, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { parseNamesrvConfig } from "../../src/config/namesrv-config.ts";
import { NameServer } from "../../src/namesrv/namesrv.ts";
import { RequestCode, ResponseCode } from "../../src/remoting/codes.ts";
import { RemotingCommand } from "../../src/remoting/command.ts";
import { INVOKE_TIMEOUT_MS, jsonOf, makeTempDir, pollUntil, startTestBroker, type TestBroker } from "./helpers.ts";

/** Far beyond the test's wait: only the registration-triggered sync can deliver the topic. */
const TIMER_MS = 60_000;

const nsDir = makeTempDir("tsmq-slave-sync-ns-");
let namesrv: NameServer | undefined;
const brokers: TestBroker[] = [];

afterAll(async () => {
  for (const b of brokers.reverse()) await b.destroy();
  await namesrv?.shutdown();
  fs.rmSync(nsDir, { recursive: true, force: true });
});

test("a slave copies the master's topics right after registering, without waiting for its sync timer", async () => {
  namesrv = new NameServer({ config: parseNamesrvConfig(new Map(), { listenPort: 0, kvConfigPath: path.join(nsDir, "kv.json") }).config, host: "127.0.0.1" });
  await namesrv.start();
  const namesrvAddr = `127.0.0.1:${namesrv.port}`;
  const master = await startTestBroker({ overrides: { namesrvAddr, brokerName: "broker-sync", brokerRole: "ASYNC_MASTER" } });
  brokers.push(master);
  const create = RemotingCommand.request(RequestCode.UPDATE_AND_CREATE_TOPIC, {
    topic: "SyncedAtOnce", defaultTopic: "TBW102", readQueueNums: "3", writeQueueNums: "3", perm: "6", topicFilterType: "SINGLE_TAG", topicSysFlag: "0", order: "false",
  });
  expect((await master.client.invoke(master.addr, create, INVOKE_TIMEOUT_MS)).code).toBe(ResponseCode.SUCCESS);

  const slave = await startTestBroker({
    overrides: { namesrvAddr, brokerName: "broker-sync", brokerRole: "SLAVE", brokerId: 1, slaveSynchronizeInterval: TIMER_MS },
    brokerOptions: { slaveSyncFirstDelayMs: TIMER_MS },
  });
  brokers.push(slave);
  await pollUntil(async () => {
    const all = jsonOf(await slave.client.invoke(slave.addr, RemotingCommand.request(RequestCode.GET_ALL_TOPIC_CONFIG, {}), INVOKE_TIMEOUT_MS));
    return all.topicConfigTable.SyncedAtOnce?.readQueueNums === 3;
  }, 5_000);
});
