import { describe, expect, test } from "bun:test";
import { CURRENT_VERSION, RequestCode, ResponseCode } from "../../src/remoting/codes.ts";
import { FLAG_ONEWAY, FLAG_RESPONSE, RemotingCommand, RemotingDecodeError, SerializeType } from "../../src/remoting/command.ts";

const text = new TextEncoder();
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const fromHex = (h: string) => new Uint8Array(Buffer.from(h.replace(/\s+/g, ""), "hex"));

/** The worked example of protocol doc 1.2: GET_ROUTEINFO_BY_TOPIC for TopicTest, opaque 7. */
function routeRequest(type: SerializeType): RemotingCommand {
  const cmd = new RemotingCommand();
  cmd.code = RequestCode.GET_ROUTEINFO_BY_TOPIC;
  cmd.opaque = 7;
  cmd.extFields = { topic: "TopicTest" };
  cmd.serializeType = type;
  return cmd;
}

const JSON_EXAMPLE_HEADER =
  '{"code":105,"extFields":{"topic":"TopicTest"},"flag":0,"language":"JAVA",' +
  '"opaque":7,"serializeTypeCurrentRPC":"JSON","version":409}';

// protocol doc 1.2, JSON serialization, 139 bytes on the wire
const JSON_EXAMPLE_FRAME = new Uint8Array([
  0x00, 0x00, 0x00, 0x87, // frameLength = 135
  0x00, 0x00, 0x00, 0x83, // type 0 (JSON), headerLength = 131
  ...text.encode(JSON_EXAMPLE_HEADER), // 131 bytes of header, no body
]);

// protocol doc 1.2, ROCKETMQ serialization, 49 bytes on the wire
const BINARY_EXAMPLE_FRAME = fromHex(`
  0000002d
  01000029
  0069
  00
  0199
  00000007
  00000000
  00000000
  00000014
  0005 746f706963
  00000009 546f70696354657374
`);
// Field by field: 0000002d frameLength 45 | 01000029 type 1, headerLength 41 | 0069 code 105 |
// 00 language JAVA | 0199 version 409 | 00000007 opaque 7 | 00000000 flag 0 | 00000000 no remark |
// 00000014 extFields length 20 | 0005 "topic" | 00000009 "TopicTest"

describe("RemotingCommand worked examples (protocol doc 1.2)", () => {
  test("JSON: encode is byte-exact", () => {
    expect(JSON_EXAMPLE_HEADER.length).toBe(131);
    expect(hex(routeRequest(SerializeType.JSON).encode())).toBe(hex(JSON_EXAMPLE_FRAME));
  });

  test("JSON: decode", () => {
    const cmd = RemotingCommand.decode(JSON_EXAMPLE_FRAME.subarray(4));
    expect(cmd.code).toBe(105);
    expect(cmd.opaque).toBe(7);
    expect(cmd.flag).toBe(0);
    expect(cmd.language).toBe("JAVA");
    expect(cmd.version).toBe(409);
    expect(cmd.extFields).toEqual({ topic: "TopicTest" });
    expect(cmd.remark).toBeUndefined();
    expect(cmd.body).toBeUndefined();
    expect(cmd.serializeType).toBe(SerializeType.JSON);
  });

  test("ROCKETMQ: encode is byte-exact", () => {
    expect(BINARY_EXAMPLE_FRAME.length).toBe(49);
    expect(hex(routeRequest(SerializeType.ROCKETMQ).encode())).toBe(hex(BINARY_EXAMPLE_FRAME));
  });

  test("ROCKETMQ: decode", () => {
    const cmd = RemotingCommand.decode(BINARY_EXAMPLE_FRAME.subarray(4));
    expect([cmd.code, cmd.opaque, cmd.flag, cmd.language, cmd.version]).toEqual([105, 7, 0, "JAVA", 409]);
    expect(cmd.extFields).toEqual({ topic: "TopicTest" });
    expect(cmd.remark).toBeUndefined();
    expect(cmd.body).toBeUndefined();
    expect(cmd.serializeType).toBe(SerializeType.ROCKETMQ);
  });
});

describe("RemotingCommand round trips", () => {
  for (const [name, type] of [["JSON", SerializeType.JSON], ["ROCKETMQ", SerializeType.ROCKETMQ]] as const) {
    test(`${name}: extFields, remark (non-ASCII), body, flags`, () => {
      const cmd = RemotingCommand.request(RequestCode.SEND_MESSAGE_V2, {
        a: "ProducerGroup",
        b: "TopicTest",
        e: "3",
        i: "KEYS\u0001k1\u0002TAGS\u0001TagA\u0002", // property separators survive
        "unicode-ключ": "значение ✓",
      });
      cmd.serializeType = type;
      cmd.remark = "remarque: déjà vu ✓";
      cmd.body = new Uint8Array([0x00, 0xff, 0x10, 0x7b, 0x22]); // arbitrary binary, incl. `{"`
      cmd.markOneway();
      const frame = cmd.encode();
      const view = new DataView(frame.buffer);
      expect(view.getUint32(0)).toBe(frame.length - 4);
      expect(frame[4]).toBe(type); // serialize type in the top byte
      const back = RemotingCommand.decode(frame.subarray(4));
      expect(back.code).toBe(RequestCode.SEND_MESSAGE_V2);
      expect(back.opaque).toBe(cmd.opaque);
      expect(back.flag).toBe(FLAG_ONEWAY);
      expect(back.isOneway).toBe(true);
      expect(back.version).toBe(CURRENT_VERSION);
      expect(back.remark).toBe(cmd.remark);
      expect(back.extFields).toEqual(cmd.extFields);
      expect(back.body).toEqual(cmd.body);
      expect(back.serializeType).toBe(type);
    });

    test(`${name}: response keeps the request's opaque and serialization`, () => {
      const req = RemotingCommand.request(RequestCode.HEART_BEAT);
      req.serializeType = type;
      const res = RemotingCommand.responseTo(req, ResponseCode.SUBSCRIPTION_NOT_EXIST, "no such group", { x: "1" });
      const back = RemotingCommand.decode(res.encode().subarray(4));
      expect(back.isResponse).toBe(true);
      expect(back.flag).toBe(FLAG_RESPONSE);
      expect(back.opaque).toBe(req.opaque);
      expect(back.code).toBe(ResponseCode.SUBSCRIPTION_NOT_EXIST);
      expect(back.remark).toBe("no such group");
      expect(back.extFields).toEqual({ x: "1" });
      expect(back.serializeType).toBe(type);
    });

    test(`${name}: negative opaque and code survive`, () => {
      const cmd = RemotingCommand.request(-5);
      cmd.opaque = -2_000_000_000;
      cmd.serializeType = type;
      const back = RemotingCommand.decode(cmd.encode().subarray(4));
      expect([back.code, back.opaque]).toEqual([-5, -2_000_000_000]);
    });
  }

  test("JSON header leniency: numeric/boolean extFields become strings, numeric language is an ordinal, unknown keys ignored", () => {
    const header = '{"code":10,"language":9,"opaque":3,"flag":0,"version":121,"extFields":{"queueId":1,"unitMode":false,"n":null},"whatever":[1]}';
    const bytes = text.encode(header);
    const frame = new Uint8Array(4 + bytes.length);
    new DataView(frame.buffer).setUint32(0, bytes.length); // type 0, like ali-ons
    frame.set(bytes, 4);
    const cmd = RemotingCommand.decode(frame);
    expect(cmd.language).toBe("GO");
    expect(cmd.extFields).toEqual({ queueId: "1", unitMode: "false" });
  });
});

describe("RemotingCommand.decode rejects malformed headers with RemotingDecodeError", () => {
  const cases: Array<[string, Uint8Array]> = [
    ["shorter than the header length field", new Uint8Array([0x00, 0x00])],
    ["header length past the frame", new Uint8Array([0x00, 0x00, 0x00, 0x10, 0x7b, 0x7d])],
    ["JSON that does not parse", new Uint8Array([0x00, 0x00, 0x00, 0x02, 0x7b, 0x22])], // `{"`
    ["JSON that is not an object", new Uint8Array([0x00, 0x00, 0x00, 0x02, 0x5b, 0x5d])], // `[]`
    ["unknown serialize type 2", new Uint8Array([0x02, 0x00, 0x00, 0x02, 0x7b, 0x7d])],
    ["binary header shorter than 21 bytes", new Uint8Array([0x01, 0x00, 0x00, 0x02, 0x00, 0x0a])],
    [
      "binary remark length past the header",
      fromHex("01000015 000a 00 0199 00000001 00000000 000000ff 00000000"), // remark length 255, 0 bytes follow
    ],
    [
      "binary extFields entry cut",
      fromHex("01000018 000a 00 0199 00000001 00000000 00000000 00000003 0005 61"), // key length 5, 1 byte
    ],
  ];
  for (const [name, frame] of cases) {
    test(name, () => {
      expect(() => RemotingCommand.decode(frame)).toThrow(RemotingDecodeError);
    });
  }

  test("JSON with a non-integer code", () => {
    const bytes = text.encode('{"code":"ten"}');
    const frame = new Uint8Array(4 + bytes.length);
    new DataView(frame.buffer).setUint32(0, bytes.length);
    frame.set(bytes, 4);
    expect(() => RemotingCommand.decode(frame)).toThrow("header field code is not an integer");
  });
});
