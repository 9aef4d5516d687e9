// Requests exactly as Apache mqadmin 4.9.8 (rocketmq-tools) sent them to tsmq, captured from the
// decoded frames in a run of test/interop/java-mqadmin.test.ts; each once answered differently from
// an Apache broker. No Java needed here.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { decodeRecord } from "../../src/common/message-codec.ts";
import { RequestCode, ResponseCode } from "../../src/remoting/codes.ts";
import { RemotingCommand } from "../../src/remoting/command.ts";
import { INVOKE_TIMEOUT_MS, jsonOf, sendRequest, startTestBroker, type TestBroker } from "./helpers.ts";

let tb: TestBroker;
const invoke = (cmd: RemotingCommand) => tb.client.invoke(tb.addr, cmd, INVOKE_TIMEOUT_MS);
/** The client-made message id (UNIQ_KEY) of the captured run. */
const UNIQ_KEY = "FD0000000000000000000000000000026E334E0E2F2A236629A90000";

beforeAll(async () => {
  tb = await startTestBroker();
  const sent = await invoke(sendRequest("AdminT", "body-0", { KEYS: "key-0", TAGS: "TagA", UNIQ_KEY }));
  expect(sent.code).toBe(ResponseCode.SUCCESS);
});
afterAll(async () => {
  await tb.destroy();
});

describe("QUERY_MESSAGE from mqadmin queryMsgByKey / queryMsgByUniqueKey", () => {
  // mqadmin asks for "any time": endTimestamp is Java Long.MAX_VALUE, 2^63 - 1, beyond a double's
  // exact integers. tsmq refused the header as out of range (SYSTEM_ERROR), which mqadmin reports
  // as "query message by key finished, but no message".
  const JAVA_LONG_MAX = "9223372036854775807";

  test("queryMsgByKey -t AdminT -k key-0", async () => {
    const request = RemotingCommand.request(RequestCode.QUERY_MESSAGE /* 12 */, {
      _UNIQUE_KEY_QUERY: "false",
      beginTimestamp: "0",
      topic: "AdminT",
      maxNum: "64", // QueryMsgByKeySubCommand asks for 64
      endTimestamp: JAVA_LONG_MAX,
      key: "key-0",
    });
    const r = await invoke(request);
    expect(r.code).toBe(ResponseCode.SUCCESS);
    expect(new TextDecoder().decode(decodeRecord(r.body!, true).body)).toBe("body-0");
  });

  test("queryMsgByUniqueKey -t AdminT -i <UNIQ_KEY>", async () => {
    const request = RemotingCommand.request(RequestCode.QUERY_MESSAGE, {
      _UNIQUE_KEY_QUERY: "true", // the broker then answers up to defaultQueryMaxNum messages
      beginTimestamp: "0",
      topic: "AdminT",
      maxNum: "32",
      endTimestamp: JAVA_LONG_MAX,
      key: UNIQ_KEY,
    });
    const r = await invoke(request);
    expect(r.code).toBe(ResponseCode.SUCCESS);
    expect(decodeRecord(r.body!, true).properties.UNIQ_KEY).toBe(UNIQ_KEY);
  });
});

describe("CLEAN_EXPIRED_CONSUMEQUEUE from mqadmin cleanExpiredCQ", () => {
  // tsmq had no handler: REQUEST_CODE_NOT_SUPPORTED ("request type 306 not supported"), where Apache
  // answers SUCCESS and mqadmin prints "success".
  test("cleanExpiredCQ -c DefaultCluster: code 306, no header fields, no body", async () => {
    const r = await invoke(RemotingCommand.request(RequestCode.CLEAN_EXPIRED_CONSUMEQUEUE /* 306 */, {}));
    expect(r.code).toBe(ResponseCode.SUCCESS);
    // Live queues stay: the message is still there.
    expect(tb.broker.store.getMaxOffsetInQueue("AdminT", 0)).toBe(1);
  });
});

describe("GET_BROKER_RUNTIME_INFO from mqadmin brokerStatus", () => {
  // brokerStatus -b ADDR: code 28, no header fields. Apache 4.9.7 answered with the keys below
  // (plus commitLogDiskRatio_<dir> and scheduleMessageOffset_<level>); tsmq lacked 20 of them and
  // printed runtime as "[ 54 seconds ]".
  const APACHE_KEYS = [
    "EndTransactionQueueSize", "EndTransactionThreadPoolQueueCapacity", "bootTimestamp", "brokerVersion", "brokerVersionDesc",
    "commitLogDirCapacity", "commitLogDiskRatio", "commitLogMaxOffset", "commitLogMinOffset", "consumeQueueDiskRatio",
    "dispatchBehindBytes", "dispatchMaxBuffer", "earliestMessageTimeStamp", "getFoundTps", "getMessageEntireTimeMax", "getMissTps",
    "getTotalTps", "getTransferedTps", "msgGetTotalTodayMorning", "msgGetTotalTodayNow", "msgGetTotalYesterdayMorning",
    "msgPutTotalTodayMorning", "msgPutTotalTodayNow", "msgPutTotalYesterdayMorning", "pageCacheLockTimeMills",
    "pullThreadPoolQueueCapacity", "pullThreadPoolQueueHeadWaitTimeMills", "pullThreadPoolQueueSize", "putLatency99", "putLatency999",
    "putMessageAverageSize", "putMessageDistributeTime", "putMessageEntireTimeMax", "putMessageFailedTimes", "putMessageSizeTotal",
    "putMessageTimesTotal", "putTps", "queryThreadPoolQueueCapacity", "queryThreadPoolQueueHeadWaitTimeMills", "queryThreadPoolQueueSize",
    "remainHowManyDataToFlush", "remainTransientStoreBufferNumbs", "runtime", "sendThreadPoolQueueCapacity",
    "sendThreadPoolQueueHeadWaitTimeMills", "sendThreadPoolQueueSize", "startAcceptSendRequestTimeStamp",
  ];

  test("every key Apache lists, in Java's formats", async () => {
    const table = jsonOf(await invoke(RemotingCommand.request(RequestCode.GET_BROKER_RUNTIME_INFO /* 28 */, {}))).table as Record<string, string>;
    for (const key of APACHE_KEYS) expect({ key, present: key in table }).toEqual({ key, present: true });
    expect(table.runtime).toMatch(/^\[ \d+ days, \d+ hours, \d+ minutes, \d+ seconds \]$/);
    expect(table.commitLogDirCapacity).toMatch(/^Total : \d+(\.\d)? [KMGTPE]?i?B, Free : \d+(\.\d)? [KMGTPE]?i?B\.$/);
    expect(table.remainHowManyDataToFlush).toMatch(/^\d+(\.\d)? [KMGTPE]?i?B$/);
    expect(table.putLatency99).toMatch(/^\d+\.\d\d$/);
  });
});
