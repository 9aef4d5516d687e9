import { describe, expect, test } from "bun:test";
import {
  BLANK_MAGIC_CODE,
  MESSAGE_MAGIC_CODE,
  RECORD_BLANK,
  RECORD_INVALID,
  bodyCrc,
  checkRecord,
  createOffsetMsgId,
  decodeOffsetMsgId,
  decodeRecord,
  decodeRecordAt,
  encodeRecord,
  formatHost,
  measureBatch,
  measureRecord,
  offsetMsgIdOf,
  parseHost,
  writeBatch,
  writeBlankRecord,
  type MessageBatch,
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

describe("batch body (protocol doc §5.4) written as records", () => {
  const STORE_TIMESTAMP = 1_700_000_000_005;
  const FIRST_OFFSET = 4096;
  /** The doc's one-member body: flag 0, body "A", properties KEYS␁k1␂WAIT␁true␂TAGS␁TagA. */
  const DOC_MEMBER =
    "00000032" + // TOTALSIZE 50
    "00000000" + // MAGICCODE (ignored)
    "00000000" + // BODYCRC (ignored)
    "00000000" + // FLAG 0
    "00000001" + "41" + // body length 1, "A"
    "001b" + "4b455953016b310257414954017472756502544147530154616741"; // 27 bytes KEYS␁k1␂WAIT␁true␂TAGS␁TagA

  /** A member in wire form: flag, body, properties string. */
  function member(flag: number, body: string, properties: string): Uint8Array {
    const b = new TextEncoder().encode(body);
    const p = new TextEncoder().encode(properties);
    const out = new Uint8Array(20 + b.length + 2 + p.length);
    const view = new DataView(out.buffer);
    view.setInt32(0, out.length); // TOTALSIZE
    view.setInt32(12, flag); // FLAG
    view.setInt32(16, b.length); // body length
    out.set(b, 20);
    view.setInt16(20 + b.length, p.length); // properties length
    out.set(p, 22 + b.length);
    return out;
  }

  function batchOf(body: Uint8Array, overrides: Partial<MessageBatch> = {}): MessageBatch {
    const m = message();
    return { topic: m.topic, queueId: m.queueId, sysFlag: 0, bornTimestamp: m.bornTimestamp, bornHost: m.bornHost, storeHost: m.storeHost, reconsumeTimes: 0, body, propertiesString: "CLUSTER\u0001DefaultCluster", waitStoreMsgOK: true, ...overrides };
  }

  /** Writes the batch at position 3 of a fresh buffer (not 0: positions must be relative). */
  function write(batch: MessageBatch): { records: Uint8Array; msgIds: string; count: number } {
    const layout = measureBatch(batch);
    const out = new Uint8Array(3 + layout.totalSize);
    const msgIds = writeBatch(out, new DataView(out.buffer), 3, batch, layout, 7, FIRST_OFFSET, STORE_TIMESTAMP);
    return { records: out.subarray(3), msgIds, count: layout.count };
  }

  /** The record encodeRecord (the single-message path) makes of the same fields. */
  function single(fields: Partial<MessageInner>, queueOffset: number, physicalOffset: number): Uint8Array {
    return encodeRecord(message({ properties: {}, ...fields }), queueOffset, physicalOffset, STORE_TIMESTAMP);
  }

  test("the doc example becomes the record the single-message path writes, batch properties appended", () => {
    const { records, msgIds, count } = write(batchOf(fromHex(DOC_MEMBER)));
    expect(count).toBe(1);
    const propertiesString = "KEYS\u0001k1\u0002WAIT\u0001true\u0002TAGS\u0001TagA\u0002CLUSTER\u0001DefaultCluster";
    expect(hex(records)).toBe(hex(single({ body: new Uint8Array([0x41]), propertiesString }, 7, FIRST_OFFSET)));
    expect(msgIds).toBe(offsetMsgIdOf(parseHost(message().storeHost), FIRST_OFFSET));
  });

  test("members get consecutive queue and physical offsets; ids are comma-joined", () => {
    const body = new Uint8Array([...member(1, "one", "KEYS\u0001a"), ...member(2, "two", "KEYS\u0001b")]);
    const { records, msgIds } = write(batchOf(body, { reconsumeTimes: 2, sysFlag: SysFlag.MULTI_TAGS }));
    const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
    const first = decodeRecordAt(records, view, 0, records.byteLength);
    const second = decodeRecordAt(records, view, first.storeSize, records.byteLength);
    expect([first.flag, first.queueOffset, first.commitLogOffset, first.reconsumeTimes, first.sysFlag]).toEqual([1, 7, FIRST_OFFSET, 2, SysFlag.MULTI_TAGS]);
    expect([second.flag, second.queueOffset, second.commitLogOffset]).toEqual([2, 8, FIRST_OFFSET + first.storeSize]);
    expect([first.propertiesString, second.propertiesString]).toEqual(["KEYS\u0001a\u0002CLUSTER\u0001DefaultCluster", "KEYS\u0001b\u0002CLUSTER\u0001DefaultCluster"]);
    expect(new TextDecoder().decode(second.body)).toBe("two");
    expect(second.bodyCRC).toBe(bodyCrc(new TextEncoder().encode("two")));
    expect(msgIds).toBe(`${first.msgId},${second.msgId}`);
    expect(first.storeSize + second.storeSize).toBe(records.byteLength);
  });

  test("ids across a 4 GiB boundary of the log, IPv6 store host", () => {
    const batch = batchOf(new Uint8Array([...member(0, "a", ""), ...member(0, "b", "")]), { storeHost: "[2001:db8::2]:10911" });
    const layout = measureBatch(batch);
    const out = new Uint8Array(layout.totalSize);
    const view = new DataView(out.buffer);
    const firstOffset = 2 ** 32 - 10; // the second record starts past 2^32
    const msgIds = writeBatch(out, view, 0, batch, layout, 0, firstOffset, STORE_TIMESTAMP);
    const first = decodeRecordAt(out, view, 0, out.length);
    const second = decodeRecordAt(out, view, first.storeSize, out.length);
    expect(second.commitLogOffset).toBeGreaterThan(2 ** 32);
    expect(msgIds).toBe(`${createOffsetMsgId("[2001:db8::2]:10911", firstOffset)},${createOffsetMsgId("[2001:db8::2]:10911", second.commitLogOffset)}`);
    expect(msgIds.split(",").map((id) => decodeOffsetMsgId(id).offset)).toEqual([firstOffset, second.commitLogOffset]);
  });

  test("separator only between two non-empty parts that lack one (Java MessageExtBatchEncoder)", () => {
    const props = (own: string, batch: string) => decodeRecord(write(batchOf(member(0, "x", own), { propertiesString: batch })).records).propertiesString;
    expect(props("A\u0001a\u0002", "C\u0001c")).toBe("A\u0001a\u0002C\u0001c"); // trailing 0x02 kept, none added (ali-ons)
    expect(props("", "C\u0001c")).toBe("C\u0001c");
    expect(props("A\u0001a", "")).toBe("A\u0001a");
    expect(props("A\u0001é", "C\u0001ü")).toBe("A\u0001é\u0002C\u0001ü"); // UTF-8 copied as bytes
  });

  test("IPv6 hosts set the sysFlag bits and match the single-message record", () => {
    const hosts = { bornHost: "[2001:db8::1]:50000", storeHost: "[2001:db8::2]:10911" };
    const { records } = write(batchOf(member(3, "v6", "K\u0001v"), { ...hosts, propertiesString: "" }));
    expect(hex(records)).toBe(hex(single({ ...hosts, flag: 3, body: new TextEncoder().encode("v6"), propertiesString: "K\u0001v" }, 7, FIRST_OFFSET)));
  });

  test("a DELAY level > 0 in a member's or the batch's properties is reported", () => {
    const delayed = (own: string, batch = "") => measureBatch(batchOf(new Uint8Array([...member(0, "a", ""), ...member(0, "b", own)]), { propertiesString: batch })).delayedMember;
    expect(delayed("DELAY\u00013")).toBe(1);
    expect(delayed("K\u0001v\u0002DELAY\u000103x")).toBe(1); // parseInt reads 3
    expect(delayed("DELAY\u00010")).toBe(-1);
    expect(delayed("DELAY\u0001")).toBe(-1);
    expect(delayed("KEYS\u0001DELAY\u00013")).toBe(-1); // a value, not a name
    expect(delayed("XDELAY\u00013")).toBe(-1);
    expect(delayed("", "DELAY\u00012")).toBe(0);
  });

  test("malformed bodies name the member", () => {
    const one = fromHex("00000017" + "00000000" + "00000000" + "00000007" + "00000001" + "42" + "0000"); // 23 bytes, flag 7, body "B", no properties
    const two = new Uint8Array([...one, ...one]);
    expect(measureBatch(batchOf(two)).count).toBe(2);
    expect(() => measureBatch(batchOf(two.subarray(0, 30)))).toThrow("batch body does not decode: member 1: truncated header");
    expect(() => measureBatch(batchOf(two.subarray(0, 44)))).toThrow("member 1: body length 1 out of range");
    const wrongTotal = one.slice();
    wrongTotal[3] = 0x20; // TOTALSIZE 32
    expect(() => measureBatch(batchOf(wrongTotal))).toThrow("member 0: total size 32 does not match its fields");
    const negativeBody = one.slice();
    negativeBody[16] = 0xff; // body length < 0
    expect(() => measureBatch(batchOf(negativeBody))).toThrow("member 0: body length");
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
