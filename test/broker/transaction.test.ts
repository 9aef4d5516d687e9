// Transactional messages on a real in-process broker over real sockets: half messages stay
// invisible, END_TRANSACTION commit / rollback, op records, check-back to a live producer
// connection, transactionCheckMax, and a restart between the half message and the commit.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import { decodeOffsetMsgId, decodeRecord } from "../../src/common/message-codec.ts";
import { Prop, SysFlag, type MessageExt } from "../../src/common/message.ts";
import { SystemTopic } from "../../src/common/topic.ts";
import { TRANS_CHECK_GROUP } from "../../src/broker/transaction/half-message-bridge.ts";
import { RequestCode, ResponseCode } from "../../src/remoting/codes.ts";
import { RemotingCommand } from "../../src/remoting/command.ts";
import { RemotingClient } from "../../src/remoting/client.ts";
import { INVOKE_TIMEOUT_MS, makeTempDir, pollUntil, pullRequest, sendRequest, startTestBroker, type TestBroker } from "./helpers.ts";

/** Halves become checkable this soon, so tests wait milliseconds, not the 6 s default. */
const TEST_TRANSACTION_TIMEOUT_MS = 50;
/** The timer stays out of the way: tests run checks explicitly with transactionCheck.check(). */
const MANUAL_CHECK_INTERVAL_MS = 3_600_000;
const CHECK_MAX = 2;
const TOPIC = "TranTopic";

const overrides = { transactionTimeOut: TEST_TRANSACTION_TIMEOUT_MS, transactionCheckInterval: MANUAL_CHECK_INTERVAL_MS, transactionCheckMax: CHECK_MAX };

let tb: TestBroker;
const invoke = (cmd: RemotingCommand, on = tb) => on.client.invoke(on.addr, cmd, INVOKE_TIMEOUT_MS);

function createTopic(topic: string, queues: number): RemotingCommand {
  return RemotingCommand.request(RequestCode.UPDATE_AND_CREATE_TOPIC, {
    topic,
    readQueueNums: String(queues),
    writeQueueNums: String(queues),
    perm: "6",
    topicFilterType: "SINGLE_TAG",
    topicSysFlag: "0",
    order: "false",
  });
}

/** A half message as the Java TransactionMQProducer sends it: TRAN_MSG, PGROUP, sysFlag PREPARED. */
function halfRequest(group: string, body: string, queueId = 1, extraProps: Record<string, string> = {}): RemotingCommand {
  return sendRequest(TOPIC, body, { TRAN_MSG: "true", PGROUP: group, UNIQ_KEY: `UNIQ-${body}`, TAGS: "TagT", ...extraProps }, { a: group, e: String(queueId), f: String(SysFlag.TRANSACTION_PREPARED_TYPE) });
}

interface Half {
  group: string;
  queueOffset: number;
  commitLogOffset: number;
  uniqKey: string;
}

async function sendHalf(group: string, body: string, on = tb, extraProps: Record<string, string> = {}): Promise<Half> {
  const r = await invoke(halfRequest(group, body, 1, extraProps), on);
  expect(r.code).toBe(ResponseCode.SUCCESS);
  expect(r.extFields.queueId).toBe("1"); // the queue asked for, not the half queue
  return { group, queueOffset: Number(r.extFields.queueOffset), commitLogOffset: decodeOffsetMsgId(r.extFields.msgId!).offset, uniqKey: `UNIQ-${body}` };
}

function endRequest(half: Half, commitOrRollback: number, fields: Record<string, string> = {}): RemotingCommand {
  return RemotingCommand.request(RequestCode.END_TRANSACTION, {
    producerGroup: half.group,
    tranStateTableOffset: String(half.queueOffset),
    commitLogOffset: String(half.commitLogOffset),
    commitOrRollback: String(commitOrRollback),
    fromTransactionCheck: "false",
    msgId: half.uniqKey,
    transactionId: half.uniqKey,
    ...fields,
  });
}

/** Every message of a queue from offset 0 (PULL_NOT_FOUND → none). */
async function readQueue(topic: string, queueId: number, on = tb): Promise<MessageExt[]> {
  const out: MessageExt[] = [];
  let offset = 0;
  for (let round = 0; round < 100; round++) {
    const r = await invoke(pullRequest("tran-test-reader", topic, queueId, offset, { commitOffset: "0", sysFlag: "4" }), on);
    if (r.code !== ResponseCode.SUCCESS) return out;
    let pos = 0;
    const body = r.body!;
    while (pos < body.length) {
      const size = new DataView(body.buffer, body.byteOffset + pos, 4).getInt32(0);
      out.push(decodeRecord(body.subarray(pos, pos + size)));
      pos += size;
    }
    offset = Number(r.extFields.nextBeginOffset);
  }
  return out;
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** Records of a queue read from the store itself (the op topic has no topic config, so no pulls). */
function storedQueue(topic: string, queueId: number, from: number): MessageExt[] {
  return tb.broker.store.getMessage("tran-test-reader", topic, queueId, from, 1_000).messages.map((r) => decodeRecord(r));
}

/** A producer connection registered for `group` through HEART_BEAT that records check requests. */
async function producerConnection(group: string, on = tb): Promise<{ client: RemotingClient; checks: RemotingCommand[] }> {
  const checks: RemotingCommand[] = [];
  const client = new RemotingClient({
    onRequest: (req) => {
      if (req.code === RequestCode.CHECK_TRANSACTION_STATE) checks.push(req);
      return null;
    },
  });
  const body = { clientID: `127.0.0.1@${group}-${Math.random()}`, consumerDataSet: [], producerDataSet: [{ groupName: group }] };
  const r = await client.invoke(on.addr, RemotingCommand.request(RequestCode.HEART_BEAT, {}, new TextEncoder().encode(JSON.stringify(body))), INVOKE_TIMEOUT_MS);
  expect(r.code).toBe(ResponseCode.SUCCESS);
  return { client, checks };
}

beforeAll(async () => {
  tb = await startTestBroker({ overrides });
  expect((await invoke(createTopic(TOPIC, 4))).code).toBe(ResponseCode.SUCCESS);
  // A plain message at commit-log offset 0, for the "not a half message" case.
  expect((await invoke(sendRequest(TOPIC, "plain", {}, { e: "0" }))).code).toBe(ResponseCode.SUCCESS);
});
afterAll(async () => {
  await tb?.destroy();
});

describe("half messages and END_TRANSACTION", () => {
  test("a half message is stored in the half topic, invisible in its real queue, and counted in topic stats", async () => {
    const before = tb.broker.store.getMaxOffsetInQueue(SystemTopic.TRANS_HALF, 0);
    const half = await sendHalf("pg-invisible", "invisible");
    expect(half.queueOffset).toBe(before);
    const stored = tb.broker.store.lookMessageByOffset(half.commitLogOffset)!;
    expect(stored.topic).toBe(SystemTopic.TRANS_HALF);
    expect(stored.queueId).toBe(0);
    expect(stored.sysFlag & 0xc).toBe(SysFlag.TRANSACTION_NOT_TYPE);
    expect(stored.properties[Prop.REAL_TOPIC]).toBe(TOPIC);
    expect(stored.properties[Prop.REAL_QID]).toBe("1");
    expect(stored.properties[Prop.PGROUP]).toBe("pg-invisible");
    expect((await readQueue(TOPIC, 1)).map((m) => text(m.body))).not.toContain("invisible");

    const stats = await invoke(RemotingCommand.request(RequestCode.GET_TOPIC_STATS_INFO, { topic: SystemTopic.TRANS_HALF }));
    expect(stats.code).toBe(ResponseCode.SUCCESS);
    expect(text(stats.body!)).toContain(`"maxOffset":${before + 1}`);
    await invoke(endRequest(half, SysFlag.TRANSACTION_ROLLBACK_TYPE));
  });

  test("commit delivers the message once in its real queue and writes an op record", async () => {
    const half = await sendHalf("pg-commit", "committed");
    const opBefore = tb.broker.store.getMaxOffsetInQueue(SystemTopic.TRANS_OP_HALF, 0);
    const r = await invoke(endRequest(half, SysFlag.TRANSACTION_COMMIT_TYPE));
    expect(r.code).toBe(ResponseCode.SUCCESS);

    const delivered = (await readQueue(TOPIC, 1)).filter((m) => text(m.body) === "committed");
    expect(delivered).toHaveLength(1);
    const m = delivered[0]!;
    expect(m.sysFlag & 0xc).toBe(SysFlag.TRANSACTION_COMMIT_TYPE);
    expect(m.preparedTransactionOffset).toBe(half.commitLogOffset);
    expect(m.properties[Prop.TRAN_MSG]).toBe("true"); // kept: consumers derive transactionId from it
    expect(m.properties[Prop.UNIQ_KEY]).toBe(half.uniqKey);
    expect(m.properties[Prop.TAGS]).toBe("TagT");

    const ops = storedQueue(SystemTopic.TRANS_OP_HALF, 0, opBefore);
    expect(ops).toHaveLength(1);
    expect(text(ops[0]!.body)).toBe(String(half.queueOffset));
    expect(ops[0]!.properties[Prop.TAGS]).toBe("d");
  });

  test("rollback writes only the op record", async () => {
    const half = await sendHalf("pg-rollback", "rolled-back");
    const opBefore = tb.broker.store.getMaxOffsetInQueue(SystemTopic.TRANS_OP_HALF, 0);
    expect((await invoke(endRequest(half, SysFlag.TRANSACTION_ROLLBACK_TYPE))).code).toBe(ResponseCode.SUCCESS);
    expect(tb.broker.store.getMaxOffsetInQueue(SystemTopic.TRANS_OP_HALF, 0)).toBe(opBefore + 1);
    expect((await readQueue(TOPIC, 1)).map((m) => text(m.body))).not.toContain("rolled-back");
  });

  test("mismatching group or offsets get SYSTEM_ERROR naming the problem; a slave refuses", async () => {
    const half = await sendHalf("pg-wrong", "wrong");
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ producerGroup: "other" }, /producer group wrong/],
      [{ tranStateTableOffset: String(half.queueOffset + 1000) }, /state table offset wrong/],
      [{ commitLogOffset: "999999999" }, /Find prepared transaction message failed/],
      [{ commitLogOffset: "0" }, /in topic .*, not a half message/], // the beforeAll plain message
      [{ commitOrRollback: "x" }, /commitOrRollback/],
    ];
    for (const [fields, remark] of cases) {
      const r = await invoke(endRequest(half, SysFlag.TRANSACTION_COMMIT_TYPE, fields));
      expect(r.code).toBe(ResponseCode.SYSTEM_ERROR);
      expect(r.remark ?? "").toMatch(remark);
    }
    expect((await readQueue(TOPIC, 1)).map((m) => text(m.body))).not.toContain("wrong");
    await invoke(endRequest(half, SysFlag.TRANSACTION_ROLLBACK_TYPE));

    const slave = await startTestBroker({ overrides: { ...overrides, brokerRole: "SLAVE", brokerId: 1 } });
    try {
      const r = await invoke(endRequest(half, SysFlag.TRANSACTION_COMMIT_TYPE), slave);
      expect(r.code).toBe(ResponseCode.SLAVE_NOT_AVAILABLE);
    } finally {
      await slave.destroy();
    }
  });

  test("a reconsumed, delayed copy of a transactional message is stored as a plain (delayed) message", async () => {
    const halvesBefore = tb.broker.store.getMaxOffsetInQueue(SystemTopic.TRANS_HALF, 0);
    const r = await invoke(sendRequest(TOPIC, "retry-copy", { TRAN_MSG: "true", PGROUP: "pg-retry", DELAY: "3" }, { j: "1" }));
    expect(r.code).toBe(ResponseCode.SUCCESS);
    expect(tb.broker.store.getMaxOffsetInQueue(SystemTopic.TRANS_HALF, 0)).toBe(halvesBefore);
    expect(tb.broker.store.lookMessageByOffset(decodeOffsetMsgId(r.extFields.msgId!).offset)!.topic).toBe(SystemTopic.SCHEDULE);
  });

  test("rejectTransactionMessage refuses half messages with NO_PERMISSION", async () => {
    const other = await startTestBroker({ overrides: { ...overrides, rejectTransactionMessage: true } });
    try {
      const r = await invoke(halfRequest("pg-reject", "rejected"), other);
      expect(r.code).toBe(ResponseCode.NO_PERMISSION);
      expect(r.remark).toMatch(/transaction message is forbidden/);
    } finally {
      await other.destroy();
    }
  });
});

describe("check-back", () => {
  test("an unresolved half is re-put and checked at a live producer; its answer commits it once", async () => {
    // Resolve every earlier half so this test sees only its own check.
    await tb.broker.transactionCheck.check();
    const group = "pg-check";
    const { client, checks } = await producerConnection(group);
    try {
      const half = await sendHalf(group, "checked");
      await tb.client.invokeOneway(tb.addr, endRequest(half, 0)); // UNKNOWN: no answer, left to the check
      // Each run re-checks a half still unanswered, so run until one check went out, then wait for it.
      await pollUntil(async () => (await tb.broker.transactionCheck.check()).checked > 0);
      const check = await pollUntil(() => checks[0]);
      const h = check.extFields;
      expect(h.msgId).toBe(half.uniqKey);
      expect(h.transactionId).toBe(half.uniqKey);
      expect(Number(h.tranStateTableOffset)).toBeGreaterThan(half.queueOffset); // the re-put copy
      const body = decodeRecord(check.body!);
      expect(body.topic).toBe(TOPIC);
      expect(body.queueId).toBe(1);
      expect(text(body.body)).toBe("checked");
      expect(body.queueOffset).toBe(Number(h.tranStateTableOffset));
      expect(body.commitLogOffset).toBe(Number(h.commitLogOffset));
      expect(body.properties[Prop.TRANSACTION_CHECK_TIMES]).toBe("1");
      expect(h.offsetMsgId).toBe(body.msgId);

      // Answer as Java's checkTransactionState does: oneway, fromTransactionCheck=true.
      await client.invokeOneway(
        tb.addr,
        endRequest({ group, queueOffset: Number(h.tranStateTableOffset), commitLogOffset: Number(h.commitLogOffset), uniqKey: half.uniqKey }, SysFlag.TRANSACTION_COMMIT_TYPE, { fromTransactionCheck: "true" }),
      );
      await pollUntil(async () => (await readQueue(TOPIC, 1)).some((m) => text(m.body) === "checked"));
      // Later runs find the op record: no second check, no second delivery.
      await Bun.sleep(TEST_TRANSACTION_TIMEOUT_MS * 2);
      await tb.broker.transactionCheck.check();
      await tb.broker.transactionCheck.check();
      expect(checks).toHaveLength(1);
      expect((await readQueue(TOPIC, 1)).filter((m) => text(m.body) === "checked")).toHaveLength(1);
    } finally {
      client.close();
    }
  });

  test("CHECK_IMMUNITY_TIME_IN_SECONDS delays the first check", async () => {
    await tb.broker.transactionCheck.check();
    const group = "pg-immune";
    const { client, checks } = await producerConnection(group);
    try {
      await sendHalf(group, "immune", tb, { [Prop.CHECK_IMMUNITY_TIME_IN_SECONDS]: "3600" });
      await Bun.sleep(TEST_TRANSACTION_TIMEOUT_MS * 2);
      await tb.broker.transactionCheck.check();
      await tb.broker.transactionCheck.check();
      expect(checks).toHaveLength(0);
    } finally {
      client.close();
    }
  });

  test("transactionCheckMax: after that many checks the half is discarded into TRANS_CHECK_MAX_TIME_TOPIC", async () => {
    await tb.broker.transactionCheck.check();
    const group = "pg-max";
    const { client, checks } = await producerConnection(group);
    try {
      await sendHalf(group, "never-answered");
      const discardedBefore = tb.broker.store.getMaxOffsetInQueue(SystemTopic.TRANS_CHECK_MAX_TIME, 0);
      await pollUntil(async () => {
        await tb.broker.transactionCheck.check();
        return tb.broker.store.getMaxOffsetInQueue(SystemTopic.TRANS_CHECK_MAX_TIME, 0) > discardedBefore;
      });
      const mine = () => checks.filter((c) => decodeRecord(c.body!).properties[Prop.UNIQ_KEY] === "UNIQ-never-answered");
      // The last check is sent in the run that discards the copy it created (as Java does).
      await pollUntil(() => mine().length === CHECK_MAX);
      const parked = await readQueue(SystemTopic.TRANS_CHECK_MAX_TIME, 0);
      expect(parked.map((m) => text(m.body))).toContain("never-answered");
      // The half-queue progress moved past it: no more checks.
      await Bun.sleep(TEST_TRANSACTION_TIMEOUT_MS * 2);
      await tb.broker.transactionCheck.check();
      expect(mine()).toHaveLength(CHECK_MAX);
      expect(tb.broker.offsets.queryOffset(TRANS_CHECK_GROUP, SystemTopic.TRANS_HALF, 0)).toBe(tb.broker.store.getMaxOffsetInQueue(SystemTopic.TRANS_HALF, 0));

      // RESUME_CHECK_HALF_MESSAGE (mqadmin) puts it back with the check count reset: checks resume.
      const discarded = parked.find((m) => text(m.body) === "never-answered")!;
      const bad = await invoke(RemotingCommand.request(RequestCode.RESUME_CHECK_HALF_MESSAGE, { msgId: "nonsense" }));
      expect(bad.code).toBe(ResponseCode.SYSTEM_ERROR);
      expect(bad.remark).toMatch(/not an offset message id/);
      const resumed = await invoke(RemotingCommand.request(RequestCode.RESUME_CHECK_HALF_MESSAGE, { msgId: discarded.msgId }));
      expect(resumed.code).toBe(ResponseCode.SUCCESS);
      await pollUntil(async () => (await tb.broker.transactionCheck.check()).checked > 0);
      await pollUntil(() => mine().length === CHECK_MAX + 1);
      expect(decodeRecord(mine()[CHECK_MAX]!.body!).properties[Prop.TRANSACTION_CHECK_TIMES]).toBe("1");
    } finally {
      client.close();
    }
  });

  test("the timer runs checks every transactionCheckInterval", async () => {
    const other = await startTestBroker({ overrides: { ...overrides, transactionCheckInterval: 100 } });
    const group = "pg-timer";
    const { client, checks } = await producerConnection(group, other);
    try {
      expect((await invoke(createTopic(TOPIC, 4), other)).code).toBe(ResponseCode.SUCCESS);
      await sendHalf(group, "timer", other);
      await pollUntil(() => checks.length > 0);
    } finally {
      client.close();
      await other.destroy();
    }
  });
});

describe("restart", () => {
  test("a broker restart between half message and commit delivers exactly once", async () => {
    const dir = makeTempDir("tsmq-tran-restart-");
    try {
      let b = await startTestBroker({ dir, overrides });
      expect((await invoke(createTopic(TOPIC, 4), b)).code).toBe(ResponseCode.SUCCESS);
      const half = await sendHalf("pg-restart", "survivor", b);
      await b.stop();

      b = await startTestBroker({ dir, overrides });
      expect((await invoke(endRequest(half, SysFlag.TRANSACTION_COMMIT_TYPE), b)).code).toBe(ResponseCode.SUCCESS);
      expect((await readQueue(TOPIC, 1, b)).map((m) => text(m.body))).toEqual(["survivor"]);
      const { client, checks } = await producerConnection("pg-restart", b);
      await Bun.sleep(TEST_TRANSACTION_TIMEOUT_MS * 2);
      await b.broker.transactionCheck.check();
      client.close();
      expect(checks).toHaveLength(0);
      await b.stop();

      // The op record and the check progress survive a second restart: still no check, one message.
      b = await startTestBroker({ dir, overrides });
      const again = await producerConnection("pg-restart", b);
      await b.broker.transactionCheck.check();
      again.client.close();
      expect(again.checks).toHaveLength(0);
      expect((await readQueue(TOPIC, 1, b)).map((m) => text(m.body))).toEqual(["survivor"]);
      await b.stop();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
