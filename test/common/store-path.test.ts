// storeSubPath: the one join of store paths from names; segments must be plain and the result under the root.

import { expect, test } from "bun:test";
import path from "node:path";
import { StorePathError, storeSubPath } from "../../src/common/store-path.ts";

const root = path.resolve("/tmp/tsmq-store/consumequeue");

test("plain segments join under the root", () => {
  expect(storeSubPath(root, "TopicTest", "0")).toBe(path.join(root, "TopicTest", "0"));
  expect(storeSubPath(root, "%DLQ%G|x-1_2")).toBe(path.join(root, "%DLQ%G|x-1_2"));
  expect(storeSubPath(root + "/", "a.b")).toBe(path.join(root, "a.b")); // dots inside a name are a plain name
});

test("separators, dot segments, NUL and empty names are refused", () => {
  for (const bad of ["/../..", "%DLQ%/../..", "x/../../lock/a", "..", ".", "", "a\\b", "a\0b"]) {
    expect(() => storeSubPath(root, bad, "0")).toThrow(StorePathError);
  }
  expect(() => storeSubPath(root, "ok", "..")).toThrow(StorePathError);
});
