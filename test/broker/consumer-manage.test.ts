// Consumer groups over real sockets: two consumers splitting queues via GET_CONSUMER_LIST_BY_GROUP,
// NOTIFY_CONSUMER_IDS_CHANGED pushes, connection close, queue locks with expiry, and committed
// offsets surviving a broker restart.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import { RequestCode, ResponseCode } from "../../src/remoting/codes.ts";
import { RemotingCommand } from "../../src/remoting/command.ts";
import { RemotingClient } from "../../src/remoting/client.ts";
import { heartbeatRequest, INVOKE_TIMEOUT_MS, jsonOf, makeTempDir, pollUntil, startTestBroker, type TestBroker } from "./helpers.ts";

/** Short lock expiry so the expiry case runs in a fraction of a second. */
const LOCK_MAX_LIVE_MS = 300;
const QUEUES = 4;

let tb: TestBroker;
const extraClients: RemotingClient[] = [];

/** Java AllocateMessageQueueAveragely (protocol doc 6.7). */
function allocateAveragely(queues: number[], cids: string[], me: string): number[] {
  const i = cids.indexOf(me);
  const n = queues.length;
  const c = cids.length;
  const mod = n % c;
  const size = n <= c ? 1 : mod > 0 && i < mod ? Math.floor(n / c) + 1 : Math.floor(n / c);
  const start = mod > 0 && i < mod ? i * size : i * size + mod;
  const out: number[] = [];
  for (let k = 0; k < Math.min(size, n - start); k++) out.push(queues[(start + k) % n]!);
  return out;
}

function createTopic(topic: string, queues: number): RemotingCommand {
  return RemotingCommand.request(RequestCode.UPDATE_AND_CREATE_TOPIC, {
    topic, defaultTopic: "TBW102", readQueueNums: String(queues), writeQueueNums: String(queues), perm: "6", topicFilterType: "SINGLE_TAG", topicSysFlag: "0", order: "false",
  });
}

function lockBody(clientId: string, queueIds: number[]): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({ clientId, consumerGroup: "G-lock", mqSet: queueIds.map((queueId) => ({ topic: "Shared", brokerName: "broker-test", queueId })) }),
  );
}

beforeAll(async () => {
  tb = await startTestBroker({ brokerOptions: { lockMaxLiveMs: LOCK_MAX_LIVE_MS } });
  const create = RemotingCommand.request(RequestCode.UPDATE_AND_CREATE_TOPIC, {
    topic: "Shared", defaultTopic: "TBW102", readQueueNums: String(QUEUES), writeQueueNums: String(QUEUES), perm: "6", topicFilterType: "SINGLE_TAG", topicSysFlag: "0", order: "false",
  });
  expect((await tb.client.invoke(tb.addr, create, INVOKE_TIMEOUT_MS)).code).toBe(ResponseCode.SUCCESS);
});
afterAll(async () => {
  for (const c of extraClients) c.close();
  await tb.destroy();
});

describe("consumer group membership", () => {
  test("two consumers split the queues; the first is notified when the second joins and leaves", async () => {
    const notified: string[] = [];
    const c1 = new RemotingClient({
      onRequest: (req) => {
        if (req.code === RequestCode.NOTIFY_CONSUMER_IDS_CHANGED) notified.push(req.extFields.consumerGroup!);
        return null;
      },
    });
    const c2 = new RemotingClient();
    extraClients.push(c1, c2);
    const hb = (id: string) => heartbeatRequest(id, "G-split", [{ topic: "Shared" }, { topic: "%RETRY%G-split" }]);
    expect((await c1.invoke(tb.addr, hb("10.0.0.1@a"), INVOKE_TIMEOUT_MS)).code).toBe(ResponseCode.SUCCESS);
    await pollUntil(() => notified.length >= 1);
    expect((await c2.invoke(tb.addr, hb("10.0.0.2@b"), INVOKE_TIMEOUT_MS)).code).toBe(ResponseCode.SUCCESS);
    await pollUntil(() => notified.length >= 2);

    const list = await c1.invoke(tb.addr, RemotingCommand.request(RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: "G-split" }), INVOKE_TIMEOUT_MS);
    expect(list.code).toBe(ResponseCode.SUCCESS);
    const cids = (jsonOf(list).consumerIdList as string[]).sort();
    expect(cids).toEqual(["10.0.0.1@a", "10.0.0.2@b"]);
    const queues = [0, 1, 2, 3];
    const mine1 = allocateAveragely(queues, cids, "10.0.0.1@a");
    const mine2 = allocateAveragely(queues, cids, "10.0.0.2@b");
    expect(mine1).toEqual([0, 1]);
    expect(mine2).toEqual([2, 3]);

    // The second consumer's connection closes: it leaves the group and the first is told.
    c2.close();
    await pollUntil(() => notified.length >= 3);
    const after = await c1.invoke(tb.addr, RemotingCommand.request(RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: "G-split" }), INVOKE_TIMEOUT_MS);
    expect(jsonOf(after).consumerIdList).toEqual(["10.0.0.1@a"]);

    // UNREGISTER_CLIENT empties the group.
    const unreg = RemotingCommand.request(RequestCode.UNREGISTER_CLIENT, { clientID: "10.0.0.1@a", consumerGroup: "G-split" });
    expect((await c1.invoke(tb.addr, unreg, INVOKE_TIMEOUT_MS)).code).toBe(ResponseCode.SUCCESS);
    const none = await c1.invoke(tb.addr, RemotingCommand.request(RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: "G-split" }), INVOKE_TIMEOUT_MS);
    expect(none.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(none.remark).toBe("no consumer for this group, G-split");
  });
});

describe("orderly locks", () => {
  test("a queue locked by one client is refused to another until the lock expires", async () => {
    const lock = (clientId: string, ids: number[]) => tb.client.invoke(tb.addr, RemotingCommand.request(RequestCode.LOCK_BATCH_MQ, {}, lockBody(clientId, ids)), INVOKE_TIMEOUT_MS);
    const first = await lock("c1", [0, 1]);
    expect(first.code).toBe(ResponseCode.SUCCESS);
    expect(jsonOf(first).lockOKMQSet.map((mq: { queueId: number }) => mq.queueId).sort()).toEqual([0, 1]);
    const refused = await lock("c2", [1, 2]);
    expect(jsonOf(refused).lockOKMQSet.map((mq: { queueId: number }) => mq.queueId)).toEqual([2]);
    const startedMs = Date.now();
    const taken = await pollUntil(async () => {
      const r = jsonOf(await lock("c2", [1]));
      return r.lockOKMQSet.length === 1 ? r : undefined;
    }, 5_000, 50);
    expect(taken.lockOKMQSet[0].queueId).toBe(1);
    expect(Date.now() - startedMs).toBeGreaterThanOrEqual(LOCK_MAX_LIVE_MS - 100);
    const unlock = await tb.client.invoke(tb.addr, RemotingCommand.request(RequestCode.UNLOCK_BATCH_MQ, {}, lockBody("c2", [1, 2])), INVOKE_TIMEOUT_MS);
    expect(unlock.code).toBe(ResponseCode.SUCCESS);
    expect(jsonOf(await lock("c1", [2])).lockOKMQSet.length).toBe(1);
  });
});

describe("consumer offsets", () => {
  test("committed offsets survive a broker restart", async () => {
    const dir = makeTempDir("tsmq-offsets-");
    try {
      const first = await startTestBroker({ dir });
      expect((await first.client.invoke(first.addr, createTopic("TopicX", QUEUES), INVOKE_TIMEOUT_MS)).code).toBe(ResponseCode.SUCCESS);
      const update = RemotingCommand.request(RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: "G-off", topic: "TopicX", queueId: "3", commitOffset: "42" });
      expect((await first.client.invoke(first.addr, update, INVOKE_TIMEOUT_MS)).code).toBe(ResponseCode.SUCCESS);
      await first.stop();

      const second = await startTestBroker({ dir });
      try {
        const query = RemotingCommand.request(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: "G-off", topic: "TopicX", queueId: "3" });
        const r = await second.client.invoke(second.addr, query, INVOKE_TIMEOUT_MS);
        expect(r.code).toBe(ResponseCode.SUCCESS);
        expect(r.extFields.offset).toBe("42");
        // An unknown queue of a young broker starts at 0 ("hot data" rule).
        const fresh = RemotingCommand.request(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: "G-off", topic: "TopicX", queueId: "0" });
        expect((await second.client.invoke(second.addr, fresh, INVOKE_TIMEOUT_MS)).extFields.offset).toBe("0");
      } finally {
        await second.stop();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("UPDATE_CONSUMER_OFFSET is refused for a topic that does not exist and a queue id out of range", async () => {
    const update = (topic: string, queueId: number) =>
      tb.client.invoke(tb.addr, RemotingCommand.request(RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: "G-off2", topic, queueId: String(queueId), commitOffset: "7" }), INVOKE_TIMEOUT_MS);
    // The hostile case: topic names nobody created, and queue ids nobody has. (A name too long
    // to be a topic is refused earlier, by name validation: see hostile-names.test.ts.)
    const unknown = await update("NeverCreated", 0);
    expect(unknown.code).toBe(ResponseCode.TOPIC_NOT_EXIST);
    expect(unknown.remark).toContain("not exist");
    expect((await update("T".repeat(65_536), 0)).code).toBe(ResponseCode.SYSTEM_ERROR);
    for (const queueId of [QUEUES, 1_000_000, -1]) {
      const out = await update("Shared", queueId);
      expect(out.code).toBe(ResponseCode.SYSTEM_ERROR);
      expect(out.remark).toContain(`QueueId ${queueId} is out of range 0..${QUEUES - 1}`);
    }
    expect((await update("Shared", QUEUES - 1)).code).toBe(ResponseCode.SUCCESS);
    expect(tb.broker.offsets.queryOffset("G-off2", "Shared", QUEUES - 1)).toBe(7);
    expect(tb.broker.offsets.queryOffset("G-off2", "Shared", QUEUES)).toBe(-1);
  });
});
