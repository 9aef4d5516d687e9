import { describe, expect, test } from "bun:test";
import { HeaderReader } from "../../src/broker/processors/header.ts";

describe("HeaderReader.int (Java Long.parseLong after trim)", () => {
  const read = (v: string) => new HeaderReader({ x: v }).int("x");

  test("plain digits, negatives, zero, the largest safe integer", () => {
    expect([read("0"), read("7"), read("-1"), read("1700000000000"), read("-0")]).toEqual([0, 7, -1, 1_700_000_000_000, -0]);
    expect(read("9007199254740991")).toBe(Number.MAX_SAFE_INTEGER); // 16 digits: the checked path
    expect(read("-9007199254740991")).toBe(-Number.MAX_SAFE_INTEGER);
  });

  test("surrounding whitespace is trimmed", () => {
    expect(read(" 42 ")).toBe(42);
    expect(read("\t-3")).toBe(-3);
  });

  test("not an integer or out of range: the remark names the field", () => {
    for (const bad of ["", "-", "1.5", "1e3", "0x10", "+", "12a", "--1"]) {
      expect(() => read(bad)).toThrow(`the custom field <x> is not an integer: ${bad}`);
    }
    expect(() => read("9007199254740993")).toThrow("the custom field <x> is out of range: 9007199254740993");
  });

  test("missing required field", () => {
    expect(() => new HeaderReader({}).int("e")).toThrow("the custom field <e> is null");
    expect(new HeaderReader({}).optInt("e")).toBeUndefined();
  });
});

describe("HeaderReader.bound (a Java long that only bounds a range)", () => {
  const read = (v: string) => new HeaderReader({ x: v }).bound("x");

  test("Java Long.MAX_VALUE / MIN_VALUE saturate at the safe-integer range, smaller values are exact", () => {
    expect(read("9223372036854775807")).toBe(Number.MAX_SAFE_INTEGER); // mqadmin queryMsgByKey's endTimestamp
    expect(read("-9223372036854775808")).toBe(-Number.MAX_SAFE_INTEGER);
    expect([read("0"), read(" 1700000000000 ")]).toEqual([0, 1_700_000_000_000]);
  });

  test("not an integer or missing: the remark names the field", () => {
    expect(() => read("soon")).toThrow("the custom field <x> is not an integer: soon");
    expect(() => new HeaderReader({}).bound("x")).toThrow("the custom field <x> is null");
  });
});
