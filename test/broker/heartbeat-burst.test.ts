// Issue 13, item 3: a heartbeat naming 1,000 new consumer groups used to rewrite
// subscriptionGroup.json (and topics.json for each %RETRY% topic) synchronously per group, stalling
// every client for seconds. Now the writes happen in the background: with the metadata writes held
// open, the heartbeat and another client's request are both answered — a condition, no timing.

import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { RequestCode, ResponseCode } from "../../src/remoting/codes.ts";
import { RemotingClient } from "../../src/remoting/client.ts";
import { RemotingCommand } from "../../src/remoting/command.ts";
import { INVOKE_TIMEOUT_MS, pollUntil, sendRequest, startTestBroker, type TestBroker } from "./helpers.ts";

const GROUPS = 1_000;
let tb: TestBroker;
const other = new RemotingClient();

beforeAll(async () => {
  tb = await startTestBroker();
});
afterAll(async () => {
  other.close();
  await tb.destroy();
});

function burstHeartbeat(): RemotingCommand {
  const consumerDataSet = Array.from({ length: GROUPS }, (_, i) => ({
    groupName: `BurstGroup${i}`,
    consumeType: "CONSUME_PASSIVELY",
    messageModel: "CLUSTERING",
    consumeFromWhere: "CONSUME_FROM_LAST_OFFSET",
    subscriptionDataSet: [{ topic: "BurstTopic", subString: "*", tagsSet: [], codeSet: [], subVersion: 1, expressionType: "TAG", classFilterMode: false }],
    unitMode: false,
  }));
  return RemotingCommand.request(RequestCode.HEART_BEAT, {}, new TextEncoder().encode(JSON.stringify({ clientID: "127.0.0.1@burst", consumerDataSet, producerDataSet: [] })));
}

test("a heartbeat with 1,000 new groups and another client are answered while the metadata writes are still pending", async () => {
  expect((await tb.client.invoke(tb.addr, sendRequest("BurstTopic", "x"), INVOKE_TIMEOUT_MS)).code).toBe(ResponseCode.SUCCESS);
  const files = [tb.broker.groups.metadata, tb.broker.topics.metadata];
  const releases: Array<() => void> = [];
  const started = files.map(() => 0);
  const reals = files.map((f) => f.persistWith);
  files.forEach((file, i) => {
    const real = reals[i]!;
    file.persistWith = async (f, content) => {
      started[i]!++;
      await new Promise<void>((resolve) => releases.push(resolve));
      await real(f, content);
    };
  });
  const writesBefore = files.map((f) => f.writesCompleted);

  const heartbeat = tb.client.invoke(tb.addr, burstHeartbeat(), INVOKE_TIMEOUT_MS);
  const otherRequest = other.invoke(tb.addr, RemotingCommand.request(RequestCode.GET_MAX_OFFSET, { topic: "BurstTopic", queueId: "0" }), INVOKE_TIMEOUT_MS);
  const [hb, max] = await Promise.all([heartbeat, otherRequest]);
  expect(hb.code).toBe(ResponseCode.SUCCESS);
  expect(max.code).toBe(ResponseCode.SUCCESS);
  // Both answered, and no metadata write has completed: nobody waited for the disk.
  expect(files.map((f) => f.writesCompleted)).toEqual(writesBefore);
  expect(tb.broker.groups.get(`BurstGroup${GROUPS - 1}`)).toBeDefined();

  // Each file gets one coalesced write carrying all 1,000 groups / retry topics.
  await pollUntil(() => started.every((n) => n === 1));
  for (const release of releases.splice(0)) release();
  await pollUntil(() => files.every((f, i) => f.writesCompleted === writesBefore[i]! + 1));
  const groups = JSON.parse(fs.readFileSync(path.join(tb.dir, "config", "subscriptionGroup.json"), "utf8")).subscriptionGroupTable;
  const topics = JSON.parse(fs.readFileSync(path.join(tb.dir, "config", "topics.json"), "utf8")).topicConfigTable;
  expect(Object.keys(groups).filter((g) => g.startsWith("BurstGroup")).length).toBe(GROUPS);
  expect(Object.keys(topics).filter((t) => t.startsWith("%RETRY%BurstGroup")).length).toBe(GROUPS);
  expect(started).toEqual([1, 1]);
  files.forEach((file, i) => (file.persistWith = reals[i]!)); // shutdown's flush must not be held
});
