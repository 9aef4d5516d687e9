import { describe, expect, test } from "bun:test";
import { encodeBatchBody } from "../../src/client/batch.ts";
import { decodeBatchBody } from "../../src/common/message-codec.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("SEND_BATCH_MESSAGE body", () => {
  test("matches the generated Java example of protocol doc 5.4", () => {
    const body = encodeBatchBody([{ topic: "T", body: new Uint8Array([0x41]), flag: 0, properties: { KEYS: "k1", WAIT: "true", TAGS: "TagA" } }]);
    expect(hex(body)).toBe(
      "00000032" + // TOTALSIZE 50
        "00000000" + // MAGICCODE (ignored)
        "00000000" + // BODYCRC (ignored)
        "00000000" + // FLAG
        "00000001" + // body length
        "41" + // body "A"
        "001b" + // properties length 27
        "4b455953016b310257414954017472756502544147530154616741", // KEYS\1k1\2WAIT\1true\2TAGS\1TagA
    );
  });
  test("round-trips through the broker's decoder", () => {
    const msgs = [1, 2, 3].map((i) => ({ topic: "T", body: new TextEncoder().encode(`body-${i}`), flag: i, properties: { UNIQ_KEY: `U${i}` } }));
    const members = decodeBatchBody(encodeBatchBody(msgs));
    expect(members.map((m) => [m.flag, new TextDecoder().decode(m.body), m.propertiesString])).toEqual([
      [1, "body-1", "UNIQ_KEY\u0001U1"],
      [2, "body-2", "UNIQ_KEY\u0001U2"],
      [3, "body-3", "UNIQ_KEY\u0001U3"],
    ]);
  });
});
