// Malformed requests get a RocketMQ error code and a remark naming the problem; the broker keeps
// serving afterwards.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { RequestCode, ResponseCode } from "../../src/remoting/codes.ts";
import { RemotingCommand } from "../../src/remoting/command.ts";
import { INVOKE_TIMEOUT_MS, pullRequest, sendRequest, startTestBroker, type TestBroker } from "./helpers.ts";

let tb: TestBroker;
const enc = new TextEncoder();

beforeAll(async () => {
  tb = await startTestBroker();
});
afterAll(async () => {
  await tb.destroy();
});

test("malformed requests are answered with an error code and a remark", async () => {
  const batch = sendRequest("BadBatch", new Uint8Array([0, 0, 0, 99, 1, 2]), {}, { m: "true" }); // TOTALSIZE 99 over a 6-byte body
  batch.code = RequestCode.SEND_BATCH_MESSAGE;
  const cases: Array<[string, RemotingCommand, number, RegExp]> = [
    ["heartbeat body not JSON", RemotingCommand.request(RequestCode.HEART_BEAT, {}, enc.encode("{nope")), ResponseCode.SYSTEM_ERROR, /heartbeat body is not JSON/],
    ["heartbeat without clientID", RemotingCommand.request(RequestCode.HEART_BEAT, {}, enc.encode("{}")), ResponseCode.SYSTEM_ERROR, /clientID/],
    ["lock body missing", RemotingCommand.request(RequestCode.LOCK_BATCH_MQ), ResponseCode.SYSTEM_ERROR, /lock body is missing/],
    ["pull offset not a number", pullRequest("g", "TBW102", 0, 0, { queueOffset: "abc" }), ResponseCode.SYSTEM_ERROR, /queueOffset/],
    ["send sysFlag not a number", sendRequest("T", "x", {}, { f: "1.5" }), ResponseCode.SYSTEM_ERROR, /the custom field <f> is not an integer/], // V2 short key, as Java names it
    ["batch body cut short", batch, ResponseCode.MESSAGE_ILLEGAL, /batch body does not decode/],
    ["subscription group body without name", RemotingCommand.request(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, enc.encode("{}")), ResponseCode.SYSTEM_ERROR, /groupName/],
    ["query offset without group", RemotingCommand.request(RequestCode.QUERY_CONSUMER_OFFSET, { topic: "T", queueId: "0" }), ResponseCode.SYSTEM_ERROR, /consumerGroup/],
    ["unknown request code", RemotingCommand.request(9_999), ResponseCode.REQUEST_CODE_NOT_SUPPORTED, /not supported/],
  ];
  for (const [name, request, code, remark] of cases) {
    const r = await tb.client.invoke(tb.addr, request, INVOKE_TIMEOUT_MS);
    expect({ name, code: r.code }).toEqual({ name, code });
    expect(r.remark ?? "").toMatch(remark);
  }
  expect((await tb.client.invoke(tb.addr, sendRequest("StillAlive", "ok"), INVOKE_TIMEOUT_MS)).code).toBe(ResponseCode.SUCCESS);
});
