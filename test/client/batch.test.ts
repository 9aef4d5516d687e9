import { describe, expect, test } from "bun:test";
import { BatchBufferPool, encodeBatchBody } from "../../src/client/batch.ts";
import { decodeRecordAt, measureBatch, writeBatch } from "../../src/common/message-codec.ts";
import { propertiesToString, type Message, type Properties } from "../../src/common/message.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** The records the broker writes for a batch body (store path: measureBatch + writeBatch). */
function storedRecords(body: Uint8Array) {
  const batch = { topic: "T", queueId: 0, sysFlag: 0, bornTimestamp: 1, bornHost: "127.0.0.1:1", storeHost: "127.0.0.1:2", reconsumeTimes: 0, body, propertiesString: "", waitStoreMsgOK: true };
  const layout = measureBatch(batch);
  const out = new Uint8Array(layout.totalSize);
  const view = new DataView(out.buffer);
  writeBatch(out, view, 0, batch, layout, 0, 0, 2);
  const records = [];
  for (let pos = 0; pos < out.length; ) {
    const r = decodeRecordAt(out, view, pos, out.length);
    records.push(r);
    pos += r.storeSize;
  }
  return records;
}

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

  test("round-trips through the broker's batch store path (UTF-8 and empty properties too)", () => {
    const msgs: Message[] = [
      { topic: "T", body: new TextEncoder().encode("body-1"), flag: 1, properties: { UNIQ_KEY: "U1" } },
      { topic: "T", body: new TextEncoder().encode("body-2"), flag: 2, properties: { KEYS: "clé €" } },
      { topic: "T", body: new TextEncoder().encode("body-3"), flag: 3, properties: {} },
    ];
    const records = storedRecords(encodeBatchBody(msgs));
    expect(records.map((m) => [m.flag, new TextDecoder().decode(m.body), m.propertiesString])).toEqual([
      [1, "body-1", "UNIQ_KEY\u0001U1"],
      [2, "body-2", "KEYS\u0001clé €"],
      [3, "body-3", ""],
    ]);
  });

  test("member properties are the UTF-8 bytes of propertiesToString (undefined values skipped, emoji, lone surrogate)", () => {
    const cases: Properties[] = [{}, { A: "1" }, { KEYS: "k1 k2", X: undefined as unknown as string, TAGS: "t" }, { "clé": "😀 x", B: "\ud800" }];
    for (const properties of cases) {
      const body = encodeBatchBody([{ topic: "T", body: new Uint8Array([7]), flag: 0, properties }]);
      const expected = new TextEncoder().encode(propertiesToString(properties));
      const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
      expect(view.getInt16(21)).toBe(expected.length); // properties length after the 1-byte body
      expect(hex(body.subarray(23))).toBe(hex(expected));
      expect(view.getInt32(0)).toBe(body.length); // TOTALSIZE
    }
  });

  test("properties over the int16 length are refused", () => {
    const big = { topic: "T", body: new Uint8Array([1]), flag: 0, properties: { KEYS: "€".repeat(11_000) } }; // 33,005 UTF-8 bytes
    expect(() => encodeBatchBody([big])).toThrow("batch member 0: properties of 33005 bytes exceed the int16 length");
  });

  test("the buffer pool hands a given-back buffer out again; huge ones are not kept", () => {
    const pool = new BatchBufferPool();
    const msgs: Message[] = [{ topic: "T", body: new Uint8Array([1]), flag: 0, properties: { A: "b" } }];
    let first: Buffer | undefined;
    const a = encodeBatchBody(msgs, (n) => (first = pool.take(n)));
    expect(a.buffer).toBe(first!.buffer); // encoded into the pooled buffer
    expect(first!.length).toBe(64 * 1024); // the pool's smallest buffer
    pool.give(first!);
    expect(pool.take(100)).toBe(first!);
    const huge = pool.take(2 * 1024 * 1024);
    pool.give(huge);
    expect(pool.take(100)).not.toBe(huge);
  });
});
