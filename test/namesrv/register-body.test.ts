import { expect, test } from "bun:test";
import zlib from "node:zlib";
import { decodeRegisterBrokerBody, encodeRegisterBrokerBody, RegisterBodyError } from "../../src/namesrv/register-body.ts";

const topicTest = { topicName: "TopicTest", readQueueNums: 4, writeQueueNums: 4, perm: 6, topicFilterType: "SINGLE_TAG", topicSysFlag: 0, order: false };

test("decodes the Java-generated JSON body of protocol doc §4.4", () => {
  const java =
    '{"filterServerList":[],"topicConfigSerializeWrapper":{"dataVersion":{"counter":3,"timestamp":1700000000000},' +
    '"topicConfigTable":{"TopicTest":{"order":false,"perm":6,"readQueueNums":4,"topicFilterType":"SINGLE_TAG","topicName":"TopicTest","topicSysFlag":0,"writeQueueNums":4}}}}';
  const body = decodeRegisterBrokerBody(new TextEncoder().encode(java), false);
  expect(body).toEqual({ dataVersion: { counter: 3, timestamp: 1_700_000_000_000 }, topicConfigs: [topicTest], filterServerList: [] });
  expect(new TextDecoder().decode(encodeRegisterBrokerBody(body, false))).toBe(java);
});

test("compressed body round trip; topicSysFlag and order are not carried, as in Java", () => {
  const value = {
    dataVersion: { counter: 7, timestamp: 1_700_000_000_123 },
    topicConfigs: [topicTest, { ...topicTest, topicName: "Ordered", topicSysFlag: 1, order: true }],
    filterServerList: [],
  };
  const decoded = decodeRegisterBrokerBody(encodeRegisterBrokerBody(value, true), true);
  expect(decoded.dataVersion).toEqual(value.dataVersion);
  expect(decoded.topicConfigs).toEqual([topicTest, { ...topicTest, topicName: "Ordered" }]);
});

test("Java's compressed layout: int32-length parts inside one zlib stream", () => {
  const enc = new TextEncoder();
  const part = (s: string) => {
    const b = enc.encode(s);
    const len = Buffer.alloc(4);
    len.writeInt32BE(b.length); // 4-byte big-endian length
    return Buffer.concat([len, b]);
  };
  const count = Buffer.alloc(4);
  count.writeInt32BE(1); // one topic
  const raw = Buffer.concat([part('{"counter":1,"timestamp":2}'), count, part("TopicTest 4 4 6 SINGLE_TAG"), part("[]")]);
  const decoded = decodeRegisterBrokerBody(zlib.deflateSync(raw, { level: 9 }), true);
  expect(decoded).toEqual({ dataVersion: { counter: 1, timestamp: 2 }, topicConfigs: [topicTest], filterServerList: [] });
});

test("missing body registers no topics with DataVersion {0,0}", () => {
  expect(decodeRegisterBrokerBody(undefined, false)).toEqual({ dataVersion: { counter: 0, timestamp: 0 }, topicConfigs: [], filterServerList: [] });
});

test("bad bodies raise RegisterBodyError naming the problem", () => {
  const enc = new TextEncoder();
  expect(() => decodeRegisterBrokerBody(enc.encode("{nope"), false)).toThrow(RegisterBodyError);
  expect(() => decodeRegisterBrokerBody(enc.encode('{"topicConfigSerializeWrapper":{"dataVersion":{"counter":"x"}}}'), false)).toThrow("dataVersion.counter");
  expect(() => decodeRegisterBrokerBody(enc.encode("not zlib"), true)).toThrow("does not inflate");
  const truncated = zlib.deflateSync(Buffer.from([0, 0, 0, 50, 0x7b])); // claims 50 bytes, has 1
  expect(() => decodeRegisterBrokerBody(truncated, true)).toThrow("out of range");
});

test("a pre-3.0.11 body (the TopicConfigSerializeWrapper itself) is accepted", () => {
  const legacy = '{"dataVersion":{"counter":2,"timestamp":5},"topicConfigTable":{"TopicTest":{"perm":6,"readQueueNums":4,"topicName":"TopicTest","writeQueueNums":4}}}';
  const body = decodeRegisterBrokerBody(new TextEncoder().encode(legacy), false);
  expect(body).toEqual({ dataVersion: { counter: 2, timestamp: 5 }, topicConfigs: [topicTest], filterServerList: [] });
});
