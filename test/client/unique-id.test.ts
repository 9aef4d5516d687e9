import { describe, expect, test } from "bun:test";
import { UniqueIdGenerator, parseUniqueId } from "../../src/client/unique-id.ts";

describe("UNIQ_KEY", () => {
  test("Java MessageClientIDSetter layout: ip | pid | loader hash | ms since month start | counter", () => {
    const gen = new UniqueIdGenerator("192.168.1.20", 0x12345, 0x0a0b0c0d);
    const now = new Date(2026, 10, 22, 3, 0, 0, 5).getTime(); // local time, like Java's Calendar
    const id = gen.next(now);
    expect(id).toMatch(/^[0-9A-F]{32}$/);
    // C0A80114 = 192.168.1.20, 2345 = pid & 0xffff, 0A0B0C0D = class-loader hash
    expect(id.slice(0, 20)).toBe("C0A80114" + "2345" + "0A0B0C0D");
    const monthStart = new Date(2026, 10, 1).getTime();
    expect(parseUniqueId(id)).toEqual({ ip: "192.168.1.20", pid: 0x2345, monthOffsetMs: now - monthStart, counter: 0 });
    expect(parseUniqueId(gen.next(now)).counter).toBe(1);
  });
  test("ids are unique and the counter wraps at 16 bits", () => {
    const gen = new UniqueIdGenerator("10.0.0.1", 1, 1);
    const seen = new Set<string>();
    const now = Date.now();
    for (let i = 0; i < 70_000; i++) seen.add(gen.next(now + Math.floor(i / 65_536)));
    expect(seen.size).toBe(70_000);
  });
});
