// QUERY_MESSAGE and SEARCH_OFFSET_BY_TIMESTAMP with the Long-range values the Java client sends.
// Regression: DefaultMQProducer.viewMessage(topic, msgId) 4.9.8 falls back to a query by uniq key
// with endTimestamp = Long.MAX_VALUE; tsmq refused that header value as out of range (SYSTEM_ERROR),
// so the client ended with "CODE: 208 query message by key finished, but no message".

import { afterAll, beforeAll, expect, test } from "bun:test";
import { decodeRecord } from "../../src/common/message-codec.ts";
import { RequestCode, ResponseCode } from "../../src/remoting/codes.ts";
import { RemotingCommand } from "../../src/remoting/command.ts";
import { INVOKE_TIMEOUT_MS, pollUntil, sendRequest, startTestBroker, type TestBroker } from "./helpers.ts";

let tb: TestBroker;
const invoke = (cmd: RemotingCommand) => tb.client.invoke(tb.addr, cmd, INVOKE_TIMEOUT_MS);

/** The uniq key of the captured request: the Java client's MessageClientIDSetter id (IPv6 host). */
const UNIQ_KEY = "FD00000000000000000000000000000225A24E0E2F2A236012150000";

/**
 * QUERY_MESSAGE (code 12) as rocketmq-client 4.9.8 sent it from viewMessage(topic, msgId), captured
 * from a run against tsmq (JSON header, language JAVA, version 409); only the topic is ours.
 */
const JAVA_VIEW_BY_UNIQ_KEY_EXT = {
  _UNIQUE_KEY_QUERY: "true", // MQAdminImpl.queryMessage(..., isUniqKey = true)
  beginTimestamp: "1796676697645", // MessageClientIDSetter.getNearlyTimeFromID(uniqKey) - 1000
  topic: "QueryTopic",
  maxNum: "32",
  endTimestamp: "9223372036854775807", // Long.MAX_VALUE: "no end"
  key: UNIQ_KEY,
};

beforeAll(async () => {
  tb = await startTestBroker();
  const sent = await invoke(sendRequest("QueryTopic", "by-uniq-key", { UNIQ_KEY }));
  expect(sent.code).toBe(ResponseCode.SUCCESS);
});
afterAll(async () => {
  await tb.destroy();
});

test("QUERY_MESSAGE with the Java client's endTimestamp = Long.MAX_VALUE finds the message by uniq key", async () => {
  // The message was stored now; the captured begin is the capture's time: query from 0 instead.
  const ext = { ...JAVA_VIEW_BY_UNIQ_KEY_EXT, beginTimestamp: "0" };
  const r = await pollUntil(async () => {
    const q = await invoke(RemotingCommand.request(RequestCode.QUERY_MESSAGE, ext));
    return q.code === ResponseCode.SUCCESS ? q : undefined;
  });
  const record = decodeRecord(r.body!, true);
  expect(new TextDecoder().decode(record.body)).toBe("by-uniq-key");
  expect(record.properties.UNIQ_KEY).toBe(UNIQ_KEY);
});

test("QUERY_MESSAGE: a begin after the message's store time finds nothing (the bound still applies)", async () => {
  const q = await invoke(RemotingCommand.request(RequestCode.QUERY_MESSAGE, { ...JAVA_VIEW_BY_UNIQ_KEY_EXT, beginTimestamp: String(Date.now() + 60_000) }));
  expect(q.code).toBe(ResponseCode.QUERY_NOT_FOUND);
});

test("QUERY_MESSAGE: a timestamp beyond Java's long range is refused, naming the field", async () => {
  const q = await invoke(RemotingCommand.request(RequestCode.QUERY_MESSAGE, { ...JAVA_VIEW_BY_UNIQ_KEY_EXT, endTimestamp: "9223372036854775808" }));
  expect(q.code).toBe(ResponseCode.SYSTEM_ERROR);
  expect(q.remark).toContain("the custom field <endTimestamp> is out of range");
});

test("SEARCH_OFFSET_BY_TIMESTAMP with timestamp = Long.MAX_VALUE gives the newest entry, like Apache", async () => {
  const queueId = Number(decodeRecord((await invoke(RemotingCommand.request(RequestCode.QUERY_MESSAGE, { ...JAVA_VIEW_BY_UNIQ_KEY_EXT, beginTimestamp: "0" }))).body!, true).queueId);
  const r = await invoke(RemotingCommand.request(RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, { topic: "QueryTopic", queueId: String(queueId), timestamp: "9223372036854775807" }));
  expect(r.code).toBe(ResponseCode.SUCCESS);
  // Apache's ConsumeQueue.getOffsetInQueueByTime: past every store time, the last entry (offset 0 of 1).
  expect(r.extFields.offset).toBe("0");
});
