import { describe, expect, test } from "bun:test";
import {
  BLANK_MAGIC_CODE,
  MESSAGE_MAGIC_CODE,
  RECORD_BLANK,
  RECORD_INVALID,
  bodyCrc,
  checkRecord,
  createOffsetMsgId,
  decodeBatchBody,
  decodeOffsetMsgId,
  decodeRecord,
  decodeRecordAt,
  encodeRecord,
  formatHost,
  measureRecord,
  offsetMsgIdOf,
  parseHost,
  writeBlankRecord,
} from "../../src/common/message-codec.ts";
import { SysFlag, propertiesToString, type MessageInner } from "../../src/common/message.ts";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const fromHex = (text: string) => new Uint8Array(Buffer.from(text.replace(/\s+/g, ""), "hex"));

function message(overrides: Partial<MessageInner> = {}): MessageInner {
  const properties = overrides.properties ?? { TAGS: "TagA" };
  return {
    topic: "TopicTest",
    queueId: 1,
    flag: 0,
    body: new TextEncoder().encode("Hello"),
    properties,
    propertiesString: propertiesToString(properties),
    tagsCode: 0,
    sysFlag: 0,
    bornTimestamp: 1_700_000_000_000,
    bornHost: "192.168.1.20:54321",
    storeHost: "192.168.1.10:10911",
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
    ...overrides,
  };
}

describe("record layout (storage doc §3.1 worked example)", () => {
  const record = encodeRecord(message(), 5, 1234, 1_700_000_000_005);

  test("field by field", () => {
    expect(record.byteLength).toBe(114);
    const fields: Array<[string, number, string]> = [
      ["TOTALSIZE 114", 0, "00000072"],
      ["MAGICCODE", 4, "daa320a7"],
      ["BODYCRC 2010220930", 8, "77d18982"],
      ["QUEUEID 1", 12, "00000001"],
      ["FLAG 0", 16, "00000000"],
      ["QUEUEOFFSET 5", 20, "0000000000000005"],
      ["PHYSICALOFFSET 1234", 28, "00000000000004d2"],
      ["SYSFLAG 0", 36, "00000000"],
      ["BORNTIMESTAMP 1700000000000", 40, "0000018bcfe56800"],
      ["BORNHOST 192.168.1.20:54321", 48, "c0a801140000d431"],
      ["STORETIMESTAMP 1700000000005", 56, "0000018bcfe56805"],
      ["STOREHOST 192.168.1.10:10911", 64, "c0a8010a00002a9f"],
      ["RECONSUMETIMES 0", 72, "00000000"],
      ["PREPARED TX OFFSET 0", 76, "0000000000000000"],
      ["BODY len 5 + 'Hello'", 84, "0000000548656c6c6f"],
      ["TOPIC len 9 + 'TopicTest'", 93, "09546f70696354657374"],
      ["PROPERTIES len 9 + 'TAGS\\x01TagA'", 103, "0009544147530154616741"],
    ];
    for (const [name, pos, expected] of fields) {
      expect([name, hex(record.subarray(pos, pos + expected.length / 2))]).toEqual([name, expected]);
    }
  });

  test("whole record equals the doc bytes", () => {
    expect(hex(record)).toBe(
      "00000072" + "daa320a7" + // TOTALSIZE, MAGIC
        "77d18982" + "00000001" + "00000000" + // BODYCRC, QUEUEID, FLAG
        "0000000000000005" + "00000000000004d2" + "00000000" + // QUEUEOFFSET, PHYSICALOFFSET, SYSFLAG
        "0000018bcfe56800" + "c0a801140000d431" + // BORNTIMESTAMP, BORNHOST
        "0000018bcfe56805" + "c0a8010a00002a9f" + // STORETIMESTAMP, STOREHOST
        "00000000" + "0000000000000000" + // RECONSUMETIMES, PREPARED TX OFFSET
        "0000000548656c6c6f" + "09546f70696354657374" + "0009544147530154616741", // BODY, TOPIC, PROPERTIES
    );
  });

  test("decodes back with the offset msgId", () => {
    const decoded = decodeRecord(record);
    expect(decoded.msgId).toBe("C0A8010A00002A9F00000000000004D2");
    expect(decoded.bodyCRC).toBe(2010220930);
    expect(decoded.storeSize).toBe(114);
    expect(decoded.queueOffset).toBe(5);
    expect(decoded.commitLogOffset).toBe(1234);
    expect(decoded.storeTimestamp).toBe(1_700_000_000_005);
    expect(decoded.properties).toEqual({ TAGS: "TagA" });
    expect(decoded.tagsCode).toBe(2598919); // "TagA".hashCode()
    expect(new TextDecoder().decode(decoded.body)).toBe("Hello");
    expect(decodeRecord(record, false).body.byteLength).toBe(0);
  });
});

test("body CRC is zlib CRC32 masked to 31 bits", () => {
  // zlib crc32("123456789") = 0xCBF43926 (the standard check value), masked = 0x4BF43926.
  expect(bodyCrc(new TextEncoder().encode("123456789"))).toBe(0x4bf43926);
  expect(bodyCrc(new Uint8Array(0))).toBe(0);
});

describe("hosts", () => {
  test("IPv4, IPv6 and IPv4-mapped parse", () => {
    expect(hex(parseHost("10.0.0.1:80").address)).toBe("0a000001");
    expect(hex(parseHost("[::1]:9876").address)).toBe("00000000000000000000000000000001");
    expect(hex(parseHost("[fe80::1:2]:1").address)).toBe("fe800000000000000000000000010002");
    expect(hex(parseHost("[::ffff:10.1.2.3]:5").address)).toBe("0a010203"); // mapped → IPv4
    expect(formatHost(fromHex("20010db8000000000000000000000001"), 7)).toBe("[2001:db8::1]:7");
  });

  test("bad hosts are refused", () => {
    for (const bad of ["1.2.3:80", "1.2.3.4", "1.2.3.4:99999", "[1::2::3]:1", "host:80"]) {
      expect(() => parseHost(bad)).toThrow();
    }
  });

  const variants: Array<[string, string, string, number]> = [
    ["v4/v4", "192.168.1.20:54321", "192.168.1.10:10911", 0],
    ["v6 born", "[2001:db8::20]:54321", "192.168.1.10:10911", SysFlag.BORNHOST_V6],
    ["v6 store", "192.168.1.20:54321", "[2001:db8::10]:10911", SysFlag.STOREHOSTADDRESS_V6],
    ["v6/v6", "[::1]:1", "[fe80::abcd:1]:10911", SysFlag.BORNHOST_V6 | SysFlag.STOREHOSTADDRESS_V6],
  ];
  for (const [name, bornHost, storeHost, v6Bits] of variants) {
    for (const extra of [0, SysFlag.COMPRESSED | SysFlag.COMPRESSION_ZLIB, SysFlag.TRANSACTION_COMMIT_TYPE | SysFlag.MULTI_TAGS]) {
      test(`round trip ${name}, sysFlag extra 0x${extra.toString(16)}`, () => {
        const properties = { TAGS: "TagB", KEYS: "k1 k2", UNIQ_KEY: "ABC" };
        const msg = message({ bornHost, storeHost, sysFlag: extra, properties, propertiesString: propertiesToString(properties), reconsumeTimes: 3, preparedTransactionOffset: 2 ** 40 + 7, flag: -5, queueId: 7 });
        const record = encodeRecord(msg, 2 ** 33 + 1, 2 ** 45 + 3, 1_700_000_123_456);
        expect(record.byteLength).toBe(91 + 5 + 9 + msg.propertiesString.length + (v6Bits & SysFlag.BORNHOST_V6 ? 12 : 0) + (v6Bits & SysFlag.STOREHOSTADDRESS_V6 ? 12 : 0));
        const decoded = decodeRecord(record);
        expect(decoded.sysFlag).toBe(extra | v6Bits);
        expect(decoded.bornHost).toBe(formatHost(parseHost(bornHost).address, parseHost(bornHost).port));
        expect(decoded.storeHost).toBe(formatHost(parseHost(storeHost).address, parseHost(storeHost).port));
        expect(decoded.queueOffset).toBe(2 ** 33 + 1);
        expect(decoded.commitLogOffset).toBe(2 ** 45 + 3);
        expect(decoded.preparedTransactionOffset).toBe(2 ** 40 + 7);
        expect(decoded.reconsumeTimes).toBe(3);
        expect(decoded.flag).toBe(-5);
        expect(decoded.queueId).toBe(7);
        expect(decoded.properties).toEqual(properties);
        expect(decoded.storeTimestamp).toBe(1_700_000_123_456);
        expect(decoded.bornTimestamp).toBe(1_700_000_000_000);
        expect(decodeOffsetMsgId(decoded.msgId)).toEqual({ address: decoded.storeHost, offset: 2 ** 45 + 3 });
        const view = new DataView(record.buffer);
        expect(checkRecord(record, view, 0, record.byteLength, true)).toBe(record.byteLength);
      });
    }
  }

  test("non-ASCII properties and a binary body round trip", () => {
    const properties = { KEYS: "ключ 键", TAGS: "ü" };
    const msg = message({ properties, propertiesString: propertiesToString(properties), body: new Uint8Array([0, 255, 1]) });
    const decoded = decodeRecord(encodeRecord(msg, 0, 0, 1));
    expect(decoded.properties).toEqual(properties);
    expect([...decoded.body]).toEqual([0, 255, 1]);
  });
});

describe("checkRecord", () => {
  const record = encodeRecord(message(), 0, 0, 1);
  const view = () => new DataView(record.buffer);

  test("blank record", () => {
    const segment = new Uint8Array(64);
    writeBlankRecord(new DataView(segment.buffer), 16, 48);
    // 00000030 cbd43194: remaining 48 bytes, BLANK_MAGIC_CODE
    expect(hex(segment.subarray(16, 24))).toBe("00000030cbd43194");
    expect(BLANK_MAGIC_CODE).toBe(0xcbd43194);
    expect(MESSAGE_MAGIC_CODE).toBe(0xdaa320a7);
    expect(checkRecord(segment, new DataView(segment.buffer), 16, 64, true)).toBe(RECORD_BLANK);
  });

  test("corrupt body fails the CRC check only when checking", () => {
    const copy = record.slice();
    copy[88] ^= 0xff; // first body byte
    const v = new DataView(copy.buffer);
    expect(checkRecord(copy, v, 0, copy.byteLength, true)).toBe(RECORD_INVALID);
    expect(checkRecord(copy, v, 0, copy.byteLength, false)).toBe(copy.byteLength);
  });

  test("truncated, zeroed and bad-magic records are invalid", () => {
    expect(checkRecord(record, view(), 0, record.byteLength - 1, true)).toBe(RECORD_INVALID);
    const zeros = new Uint8Array(200);
    expect(checkRecord(zeros, new DataView(zeros.buffer), 0, 200, true)).toBe(RECORD_INVALID);
    const badMagic = record.slice();
    badMagic[4] = 0;
    expect(checkRecord(badMagic, new DataView(badMagic.buffer), 0, badMagic.byteLength, false)).toBe(RECORD_INVALID);
    expect(() => decodeRecord(badMagic)).toThrow(/magic/);
  });
});

describe("batch body (protocol doc §5.4)", () => {
  test("doc example", () => {
    const body = fromHex(
      "00000032" + // TOTALSIZE 50
        "00000000" + // MAGICCODE (ignored)
        "00000000" + // BODYCRC (ignored)
        "00000000" + // FLAG 0
        "00000001" + "41" + // body length 1, "A"
        "001b" + "4b455953016b310257414954017472756502544147530154616741", // 27 bytes KEYS␁k1␂WAIT␁true␂TAGS␁TagA
    );
    const members = decodeBatchBody(body);
    expect(members).toHaveLength(1);
    expect(members[0]!.flag).toBe(0);
    expect([...members[0]!.body]).toEqual([0x41]);
    expect(members[0]!.propertiesString).toBe("KEYS\u0001k1\u0002WAIT\u0001true\u0002TAGS\u0001TagA");
  });

  test("two members, and malformed bodies name the member", () => {
    const one = fromHex("00000017" + "00000000" + "00000000" + "00000007" + "00000001" + "42" + "0000"); // 23 bytes, flag 7, body "B", no properties
    const two = new Uint8Array([...one, ...one]);
    expect(decodeBatchBody(two).map((m) => m.flag)).toEqual([7, 7]);
    expect(() => decodeBatchBody(two.subarray(0, 30))).toThrow(/member 1/);
    const wrongTotal = one.slice();
    wrongTotal[3] = 0x20;
    expect(() => decodeBatchBody(wrongTotal)).toThrow(/member 0: total size/);
  });
});

describe("offset msgId (protocol doc §5.6)", () => {
  test("doc fixture", () => {
    expect(createOffsetMsgId("192.168.1.10:10911", 1234)).toBe("C0A8010A00002A9F00000000000004D2");
    expect(decodeOffsetMsgId("C0A8010A00002A9F00000000000004D2")).toEqual({ address: "192.168.1.10:10911", offset: 1234 });
  });

  test("IPv6 is 56 characters and large offsets survive", () => {
    const id = createOffsetMsgId("[2001:db8::1]:10911", 2 ** 50 + 5);
    expect(id).toHaveLength(56);
    expect(decodeOffsetMsgId(id)).toEqual({ address: "[2001:db8::1]:10911", offset: 2 ** 50 + 5 });
  });

  test("bad ids are refused", () => {
    expect(() => decodeOffsetMsgId("XYZ")).toThrow();
    expect(() => decodeOffsetMsgId("G0A8010A00002A9F00000000000004D2")).toThrow();
  });
});

describe("decoding a run of records (pull body)", () => {
  // Records alternate topics and hosts, so the decoder's last-host / last-topic reuse must notice every change.
  const records = [
    message({ topic: "TopicA", bornHost: "10.0.0.1:1000", storeHost: "10.0.0.9:10911" }),
    message({ topic: "TopicA", bornHost: "10.0.0.1:1000", storeHost: "10.0.0.9:10911" }),
    message({ topic: "TopicB", bornHost: "10.0.0.1:1001", storeHost: "10.0.0.9:10911" }), // same address, other port
    message({ topic: "TopicA", bornHost: "[2001:db8::1]:7", storeHost: "10.0.0.8:10911", sysFlag: SysFlag.BORNHOST_V6 }),
    message({ topic: "TopicAB", bornHost: "10.0.0.1:1000", storeHost: "10.0.0.9:10911" }), // a topic that extends the last one
    message({ topic: "TopicAC", bornHost: "10.0.0.1:1000", storeHost: "10.0.0.9:10911" }), // same length, last byte differs
  ].map((m, i) => encodeRecord(m, i, i * 1000, 1_700_000_000_000 + i));
  const body = Buffer.concat(records);
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);

  test("each record decodes as on its own, with one view over the body", () => {
    let pos = 0;
    for (const record of records) {
      const alone = decodeRecord(record);
      const inRun = decodeRecordAt(body, view, pos, pos + record.byteLength);
      expect(inRun).toEqual(alone);
      pos += record.byteLength;
    }
    expect(pos).toBe(body.byteLength);
  });

  test("hosts, topics and offset ids follow every change", () => {
    const decoded: Array<[string, string, string, string]> = [];
    for (let pos = 0; pos < body.byteLength; ) {
      const m = decodeRecordAt(body, view, pos, body.byteLength);
      decoded.push([m.topic, m.bornHost, m.storeHost, m.msgId]);
      pos += m.storeSize;
    }
    expect(decoded).toEqual([
      ["TopicA", "10.0.0.1:1000", "10.0.0.9:10911", "0A00000900002A9F0000000000000000"],
      ["TopicA", "10.0.0.1:1000", "10.0.0.9:10911", "0A00000900002A9F00000000000003E8"],
      ["TopicB", "10.0.0.1:1001", "10.0.0.9:10911", "0A00000900002A9F00000000000007D0"],
      ["TopicA", "[2001:db8::1]:7", "10.0.0.8:10911", "0A00000800002A9F0000000000000BB8"],
      ["TopicAB", "10.0.0.1:1000", "10.0.0.9:10911", "0A00000900002A9F0000000000000FA0"],
      ["TopicAC", "10.0.0.1:1000", "10.0.0.9:10911", "0A00000900002A9F0000000000001388"],
    ]);
  });

  test("a record running past the limit is refused", () => {
    expect(() => decodeRecordAt(body, view, 0, records[0]!.byteLength - 1)).toThrow(/inconsistent record/);
  });

  test("offsetMsgIdOf equals createOffsetMsgId", () => {
    const offset = 2 ** 40 + 17; // high word non-zero
    expect(offsetMsgIdOf(parseHost("10.0.0.9:10911"), offset)).toBe(createOffsetMsgId("10.0.0.9:10911", offset));
    expect(offsetMsgIdOf(parseHost("10.0.0.9:10911"), offset)).toBe("0A00000900002A9F0000010000000011");
  });
});

describe("measureRecord with alternating hosts", () => {
  test("born and store hosts are each parsed for their own message", () => {
    const a = message({ bornHost: "10.0.0.1:1", storeHost: "10.0.0.2:2" });
    const b = message({ bornHost: "[::1]:3", storeHost: "10.0.0.4:4" });
    for (let i = 0; i < 3; i++) {
      const la = measureRecord(a);
      const lb = measureRecord(b);
      expect([la.bornHost.port, la.storeHost.port, la.sysFlag & SysFlag.BORNHOST_V6]).toEqual([1, 2, 0]);
      expect([lb.bornHost.port, lb.storeHost.port, lb.sysFlag & SysFlag.BORNHOST_V6]).toEqual([3, 4, SysFlag.BORNHOST_V6]);
    }
  });

  test("an empty host is still refused", () => {
    expect(() => measureRecord(message({ bornHost: "" }))).toThrow(/bad host/);
  });

  test("properties longer than the scan threshold are measured in UTF-8 bytes", () => {
    const properties = { KEYS: "ключ-".repeat(10) }; // Cyrillic: 2 bytes per letter
    const layout = measureRecord(message({ properties, propertiesString: propertiesToString(properties) }));
    expect(layout.propertiesLength).toBe(Buffer.byteLength(propertiesToString(properties)));
  });
});
