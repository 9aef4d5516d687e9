// Store statuses → response codes for sends (storage doc §12.3 step 12) and pulls (protocol doc 6.8).

import { expect, test } from "bun:test";
import { pullResponse } from "../../src/broker/processors/pull.ts";
import { putResultToResponse } from "../../src/broker/processors/send.ts";
import { RequestCode, ResponseCode } from "../../src/remoting/codes.ts";
import { RemotingCommand } from "../../src/remoting/command.ts";
import type { GetMessageStatus, PutMessageStatus } from "../../src/store/store-types.ts";

const request = RemotingCommand.request(RequestCode.SEND_MESSAGE_V2);

test("put statuses", () => {
  const expected: Array<[PutMessageStatus, number, boolean]> = [
    ["PUT_OK", ResponseCode.SUCCESS, true],
    ["FLUSH_DISK_TIMEOUT", ResponseCode.FLUSH_DISK_TIMEOUT, true],
    ["FLUSH_SLAVE_TIMEOUT", ResponseCode.FLUSH_SLAVE_TIMEOUT, true],
    ["SLAVE_NOT_AVAILABLE", ResponseCode.SLAVE_NOT_AVAILABLE, true],
    ["CREATE_MAPEDFILE_FAILED", ResponseCode.SYSTEM_ERROR, false],
    ["MESSAGE_ILLEGAL", ResponseCode.MESSAGE_ILLEGAL, false],
    ["PROPERTIES_SIZE_EXCEEDED", ResponseCode.MESSAGE_ILLEGAL, false],
    ["SERVICE_NOT_AVAILABLE", ResponseCode.SERVICE_NOT_AVAILABLE, false],
    ["OS_PAGECACHE_BUSY", ResponseCode.SYSTEM_ERROR, false],
    ["UNKNOWN_ERROR", ResponseCode.SYSTEM_ERROR, false],
  ];
  for (const [status, code, withHeader] of expected) {
    const ext: Record<string, string> = { MSG_REGION: "DefaultRegion", TRACE_ON: "true" };
    const r = putResultToResponse(request, { status, wroteOffset: 0, wroteBytes: 10, msgId: "ID", queueOffset: 7, msgNum: 1, storeTimestamp: 1 }, 3, ext);
    expect({ status, code: r.code }).toEqual({ status, code });
    expect({ status, header: r.extFields.msgId === "ID" && r.extFields.queueId === "3" && r.extFields.queueOffset === "7" }).toEqual({ status, header: withHeader });
    expect(r.extFields.MSG_REGION).toBe("DefaultRegion");
    if (!withHeader) expect(r.remark ?? "").not.toBe("");
  }
});

test("get statuses", () => {
  const expected: Array<[GetMessageStatus, number, number]> = [
    ["FOUND", 0, ResponseCode.SUCCESS],
    ["NO_MATCHED_MESSAGE", 0, ResponseCode.PULL_RETRY_IMMEDIATELY],
    ["MESSAGE_WAS_REMOVING", 0, ResponseCode.PULL_RETRY_IMMEDIATELY],
    ["NO_MESSAGE_IN_QUEUE", 0, ResponseCode.PULL_NOT_FOUND],
    ["NO_MESSAGE_IN_QUEUE", 4, ResponseCode.PULL_OFFSET_MOVED],
    ["NO_MATCHED_LOGIC_QUEUE", 0, ResponseCode.PULL_NOT_FOUND],
    ["NO_MATCHED_LOGIC_QUEUE", 4, ResponseCode.PULL_OFFSET_MOVED],
    ["OFFSET_FOUND_NULL", 4, ResponseCode.PULL_NOT_FOUND],
    ["OFFSET_OVERFLOW_ONE", 4, ResponseCode.PULL_NOT_FOUND],
    ["OFFSET_OVERFLOW_BADLY", 4, ResponseCode.PULL_OFFSET_MOVED],
    ["OFFSET_TOO_SMALL", 4, ResponseCode.PULL_OFFSET_MOVED],
  ];
  const record = new Uint8Array([1, 2, 3]); // stands in for one stored record
  for (const [status, offset, code] of expected) {
    const r = pullResponse(request, { status, nextBeginOffset: 5, minOffset: 1, maxOffset: 9, messages: status === "FOUND" ? [record] : [], bufferTotalSizeBytes: status === "FOUND" ? 3 : 0, suggestPullingFromSlave: false }, offset, 0);
    expect({ status, offset, code: r.code }).toEqual({ status, offset, code });
    expect(r.remark).toBe(status);
    expect(r.extFields).toEqual({ suggestWhichBrokerId: "0", nextBeginOffset: "5", minOffset: "1", maxOffset: "9" });
  }
});
