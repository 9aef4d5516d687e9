import { describe, expect, test } from "bun:test";
import { Prop, propertiesToString, stringToProperties } from "../../src/common/message.ts";

describe("stringToProperties (Java MessageDecoder.string2messageProperties)", () => {
  test("well-known and user names, values with separators of the other kind excluded", () => {
    const text = "KEYS\u0001k1 k2\u0002TAGS\u0001TagA\u0002UNIQ_KEY\u00017F000001\u0002WAIT\u0001true\u0002color\u0001red";
    expect(stringToProperties(text)).toEqual({ KEYS: "k1 k2", TAGS: "TagA", UNIQ_KEY: "7F000001", WAIT: "true", color: "red" });
  });

  test("names that share length, first and last letters with a well-known one stay distinct", () => {
    // MIN_OFFSET / MAX_OFFSET / MSG_REGION and TRACE_ON / TRAN_MSG are the close pairs; the others mimic a slot.
    const pairs: Record<string, string> = {
      MIN_OFFSET: "1",
      MAX_OFFSET: "2",
      MSG_REGION: "r",
      TRACE_ON: "t",
      TRAN_MSG: "m",
      MAX_OFFSEX: "user1", // same length and first two letters as MAX_OFFSET, other last letter
      MAXXOFFSET: "user2", // same slot as MAX_OFFSET (length, first two, last letter), other middle
      KEYSS: "user3",
      K: "user4", // one-letter name
      "ТAGS": "user5", // Cyrillic Т: same low byte is not enough
    };
    expect(stringToProperties(propertiesToString(pairs))).toEqual(pairs);
  });

  test("every Prop name round-trips", () => {
    const all: Record<string, string> = {};
    for (const name of Object.values(Prop)) all[name] = `v-${name}`;
    expect(stringToProperties(propertiesToString(all))).toEqual(all);
  });

  test("Java's skips: short fragments, no name, no value, trailing separator (ali-ons)", () => {
    expect(stringToProperties("")).toEqual({});
    expect(stringToProperties("a\u0001")).toEqual({});
    expect(stringToProperties("\u0001abc")).toEqual({});
    expect(stringToProperties("ab\u0001\u0002TAGS\u0001x\u0002")).toEqual({ TAGS: "x" });
    expect(stringToProperties("TAGS\u0001a\u0001b")).toEqual({ TAGS: "a\u0001b" });
  });

  test("a later duplicate wins, as in a Java HashMap", () => {
    expect(stringToProperties("TAGS\u0001a\u0002TAGS\u0001b")).toEqual({ TAGS: "b" });
  });
});

describe("stringToProperties on hostile input", () => {
  test("many fragments without a name/value separator, one valid pair at the end", () => {
    const text = "ab\u0002".repeat(10_000) + "KEYS\u0001v"; // 30 006 chars, within the 32 767-byte limit
    expect(stringToProperties(text)).toEqual({ KEYS: "v" });
  });
});
