import { describe, expect, test } from "bun:test";
import { MAX_PROPERTIES_SIZE_BYTES } from "../../src/common/message.ts";
import { buildMessage } from "../../src/client/message-builder.ts";

describe("buildMessage validation", () => {
  test("a valid topic does not make the next, invalid one pass (per-topic validation cache)", () => {
    expect(buildMessage({ topic: "GoodTopic", body: "x" }).topic).toBe("GoodTopic");
    expect(() => buildMessage({ topic: "bad topic", body: "x" })).toThrow(/illegal characters/);
    expect(() => buildMessage({ topic: "SCHEDULE_TOPIC_XXXX", body: "x" })).toThrow(/forbidden/);
    expect(buildMessage({ topic: "GoodTopic", body: "x" }).topic).toBe("GoodTopic");
  });

  test("properties: user ones, keys, tags, delay, WAIT", () => {
    const m = buildMessage({ topic: "T", body: "x", properties: { a: "1" }, keys: ["k1", "k2"], tags: "TagA", delayLevel: 3, waitStoreMsgOK: false });
    expect(m.properties).toEqual({ a: "1", KEYS: "k1 k2", TAGS: "TagA", DELAY: "3", WAIT: "false" });
  });

  test("reserved separator characters are refused in names, values, keys and tags", () => {
    expect(() => buildMessage({ topic: "T", body: "x", properties: { "a\u0001": "1" } })).toThrow(/reserved characters/);
    expect(() => buildMessage({ topic: "T", body: "x", properties: { a: "1\u0002" } })).toThrow(/reserved characters/);
    expect(() => buildMessage({ topic: "T", body: "x", keys: "k\u0001" })).toThrow(/property KEYS contains the reserved characters/);
    expect(() => buildMessage({ topic: "T", body: "x", tags: "t\u0002" })).toThrow(/property TAGS contains the reserved characters/);
    expect(() => buildMessage({ topic: "T", body: "x", properties: { "": "1" } })).toThrow(/is empty/);
  });

  test("properties size limit in UTF-8 bytes", () => {
    // "k", U+0001, value, U+0002, "WAIT", U+0001, "true": the value is what is left of the limit.
    const fixed = 1 + 1 + 1 + "WAIT".length + 1 + "true".length;
    const fits = "v".repeat(MAX_PROPERTIES_SIZE_BYTES - fixed);
    expect(buildMessage({ topic: "T", body: "x", properties: { k: fits } }).properties.k).toBe(fits);
    expect(() => buildMessage({ topic: "T", body: "x", properties: { k: fits + "v" } })).toThrow(/exceed 32767 bytes/);
    // 3-byte characters: 11000 of them are 33000 bytes though only 11000 UTF-16 units.
    expect(() => buildMessage({ topic: "T", body: "x", properties: { k: "€".repeat(11_000) } })).toThrow(/exceed 32767 bytes/);
    expect(buildMessage({ topic: "T", body: "x", properties: { k: "€".repeat(10_000) } }).properties.k).toHaveLength(10_000);
  });
});
