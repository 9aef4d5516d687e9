import { describe, expect, test } from "bun:test";
import { buildSubscription, subscriptionMatches } from "../../src/client/subscription.ts";

describe("tag expressions", () => {
  test("* and empty subscribe everything", () => {
    for (const expr of ["*", "", "  ", undefined]) {
      const sub = buildSubscription("T", expr, 1);
      expect(sub.subString).toBe("*");
      expect(sub.tagsSet).toEqual([]);
      expect(subscriptionMatches(sub, undefined)).toBe(true);
      expect(subscriptionMatches(sub, "x")).toBe(true);
    }
  });
  test("a || b: trimmed tags, Java hash codes, empty parts dropped", () => {
    const sub = buildSubscription("T", " TagA ||TagB|| ", 7);
    expect(sub.tagsSet).toEqual(["TagA", "TagB"]);
    expect(sub.codeSet).toEqual([2598919, 2598920]); // protocol doc 5.7 examples
    expect(sub.subVersion).toBe(7);
    expect(subscriptionMatches(sub, "TagA")).toBe(true);
    expect(subscriptionMatches(sub, "TagC")).toBe(false);
    expect(subscriptionMatches(sub, undefined)).toBe(false);
  });
  test("heartbeat JSON keys in fastjson order", () => {
    expect(Object.keys(buildSubscription("T", "a"))).toEqual(["classFilterMode", "codeSet", "expressionType", "subString", "subVersion", "tagsSet", "topic"]);
  });
});
