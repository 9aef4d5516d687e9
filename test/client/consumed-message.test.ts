import { describe, expect, test } from "bun:test";
import { deflateSync } from "node:zlib";
import { encodeRecord } from "../../src/common/message-codec.ts";
import { SysFlag, propertiesToString, type MessageInner } from "../../src/common/message.ts";
import { MAX_INFLATED_BODY_SIZE_BYTES, decodeMessages } from "../../src/client/consumed-message.ts";

function record(body: Uint8Array, sysFlag: number, queueOffset: number): Uint8Array {
  const properties = { UNIQ_KEY: `ID${queueOffset}` };
  const msg: MessageInner = {
    topic: "TopicTest",
    queueId: 0,
    flag: 0,
    body,
    properties,
    propertiesString: propertiesToString(properties),
    tagsCode: 0,
    sysFlag,
    bornTimestamp: 1_700_000_000_000,
    bornHost: "127.0.0.1:50000",
    storeHost: "127.0.0.1:10911",
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
  };
  return encodeRecord(msg, queueOffset, queueOffset * 200, 1_700_000_000_001);
}

const ZLIB = SysFlag.COMPRESSED | SysFlag.COMPRESSION_ZLIB;

describe("decodeMessages: compressed bodies", () => {
  test("a zlib body is inflated", () => {
    const [m] = decodeMessages(record(new Uint8Array(deflateSync("hello")), ZLIB, 0), "b");
    expect(new TextDecoder().decode(m!.body)).toBe("hello");
  });

  test("a body flagged compressed that is not zlib is delivered raw, and the records after it too", () => {
    // The flag 0x1 with plain text: what a broken or hostile producer can store.
    const raw = new TextEncoder().encode("not zlib at all");
    const body = Buffer.concat([record(raw, ZLIB, 0), record(new Uint8Array(deflateSync("next")), ZLIB, 1)]);
    const msgs = decodeMessages(new Uint8Array(body), "b");
    expect(msgs.length).toBe(2);
    expect(msgs[0]!.body).toEqual(raw);
    expect(msgs[0]!.sysFlag & SysFlag.COMPRESSED).toBe(SysFlag.COMPRESSED);
    expect(new TextDecoder().decode(msgs[1]!.body)).toBe("next");
  });

  test("a zip bomb past MAX_INFLATED_BODY_SIZE_BYTES is not inflated", () => {
    const bomb = new Uint8Array(deflateSync(Buffer.alloc(MAX_INFLATED_BODY_SIZE_BYTES + 1)));
    expect(bomb.byteLength).toBeLessThan(64 * 1024);
    const [m] = decodeMessages(record(bomb, ZLIB, 0), "b");
    expect(m!.body).toEqual(bomb);
  });
});
