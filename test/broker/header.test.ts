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

describe("HeaderReader.longBound (a Java long only compared: time range ends)", () => {
  const read = (v: string) => new HeaderReader({ x: v }).longBound("x");

  test("safe integers read as they are", () => {
    expect([read("0"), read("1700000000000"), read("-1")]).toEqual([0, 1_700_000_000_000, -1]);
  });

  test("Long.MAX_VALUE / MIN_VALUE (the Java client's 'no end') clamp to the safe range", () => {
    expect(read("9223372036854775807")).toBe(Number.MAX_SAFE_INTEGER);
    expect(read("-9223372036854775808")).toBe(-Number.MAX_SAFE_INTEGER);
  });

  test("beyond Java's long range: refused like Long.parseLong", () => {
    expect(() => read("9223372036854775808")).toThrow("the custom field <x> is out of range: 9223372036854775808");
    expect(() => read("-9223372036854775809")).toThrow("the custom field <x> is out of range");
  });
});
