// UPDATE_BROKER_CONFIG / UPDATE_NAMESRV_CONFIG bodies: the config file's parser, an allow-list, no
// line breaks; and formatProperties output that parseProperties reads back exactly.

import { expect, test } from "bun:test";
import { BROKER_RUNTIME_KEYS, brokerConfigEntries, parseBrokerConfig } from "../../src/config/broker-config.ts";
import { NAMESRV_RUNTIME_KEYS, parseNamesrvConfig } from "../../src/config/namesrv-config.ts";
import { formatProperties, parseProperties } from "../../src/config/properties.ts";
import { readConfigUpdate } from "../../src/config/runtime-update.ts";

const enc = new TextEncoder();
const allowed = new Set(["regionId", "brokerPermission"]);

test("allowed keys parse like the config file (escapes, continuations, comments)", () => {
  const r = readConfigUpdate(enc.encode("# comment\nregionId = east\\\n  -1\nbrokerPermission: 4\n"), allowed);
  expect(r).toEqual({ ok: true, updates: new Map([["regionId", "east-1"], ["brokerPermission", "4"]]) });
});

test("escaped or literal line breaks and control characters in a value are refused (issue 13)", () => {
  for (const body of ["regionId=x\\nstorePathCommitLog=/tmp/e", "regionId=x\\u000astorePathCommitLog=/tmp/e", "regionId=x\\ry", "regionId=a\\u0000b", "regionId=a\\u2028b"]) {
    const r = readConfigUpdate(enc.encode(body), allowed);
    expect({ body, r }).toEqual({ body, r: { ok: false, refusal: "malformed", remark: expect.stringContaining("line breaks") } });
  }
  // A real line break makes a second key, which the allow-list refuses.
  expect(readConfigUpdate(enc.encode("regionId=x\nstorePathCommitLog=/tmp/e"), allowed)).toMatchObject({ ok: false, refusal: "not-allowed" });
});

test("a key off the allow-list refuses the whole update, naming the key", () => {
  const r = readConfigUpdate(enc.encode("regionId=x\nlistenPort=1\n"), allowed);
  expect(r).toMatchObject({ ok: false, refusal: "not-allowed", remark: expect.stringContaining("Can not update config listenPort") });
});

test("the allow-lists name only schema keys, and none is a path, port, role, id or size", () => {
  const brokerKeys = new Set(brokerConfigEntries(parseBrokerConfig(new Map()).config).map(([k]) => k));
  const namesrvKeys = new Set(Object.keys(parseNamesrvConfig(new Map()).config));
  for (const key of BROKER_RUNTIME_KEYS) expect({ key, known: brokerKeys.has(key) }).toEqual({ key, known: true });
  for (const key of NAMESRV_RUNTIME_KEYS) expect({ key, known: namesrvKeys.has(key) }).toEqual({ key, known: true });
  for (const key of [...BROKER_RUNTIME_KEYS, ...NAMESRV_RUNTIME_KEYS]) {
    expect({ key, risky: /path|dir|home|port|role|brokerId|size|bytes|namesrvAddr|filterServer|thread/i.test(key) }).toEqual({ key, risky: false });
  }
});

test("formatProperties escapes so that parseProperties reads back exactly what was written", () => {
  const entries: Array<[string, string]> = [
    ["plain", "value"],
    ["windows", "C:\\store\\new"],
    ["lines", "a\nb\rc"],
    ["k=ey:with space", "v=1:2 3"],
    ["#notComment", "x"],
  ];
  const back = parseProperties(formatProperties(entries));
  expect([...back]).toEqual(entries);
});
