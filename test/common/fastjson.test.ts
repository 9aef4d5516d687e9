import { describe, expect, test } from "bun:test";
import { FastjsonSyntaxError, parseFastjson, toFastjson } from "../../src/common/fastjson.ts";

describe("toFastjson", () => {
  test("beans sort keys and omit nulls; maps keep order", () => {
    const value = { queueDatas: [], brokerDatas: [{ cluster: "c", brokerName: "b", brokerAddrs: new Map([[0, "h:1"], [1, "h:2"]]) }], orderTopicConf: undefined };
    expect(toFastjson(value)).toBe('{"brokerDatas":[{"brokerAddrs":{0:"h:1",1:"h:2"},"brokerName":"b","cluster":"c"}],"queueDatas":[]}');
    expect(toFastjson(value, "standard")).toBe('{"brokerDatas":[{"brokerAddrs":{"0":"h:1","1":"h:2"},"brokerName":"b","cluster":"c"}],"queueDatas":[]}');
  });

  test("object keys: literal in default mode, JSON string in standard mode", () => {
    const table = new Map([[{ topic: "T", brokerName: "b", queueId: 0 }, 5]]);
    expect(toFastjson({ offsetTable: table })).toBe('{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:5}}');
    expect(toFastjson({ offsetTable: table }, "standard")).toBe('{"offsetTable":{"{\\"brokerName\\":\\"b\\",\\"queueId\\":0,\\"topic\\":\\"T\\"}":5}}');
  });

  test("non-ASCII raw in default mode, escaped in standard mode; sets and bigints", () => {
    expect(toFastjson({ s: "é" })).toBe('{"s":"é"}');
    expect(toFastjson({ s: "é" }, "standard")).toBe('{"s":"\\u00e9"}');
    expect(toFastjson({ a: new Set(["x"]), n: 9007199254740993n })).toBe('{"a":["x"],"n":9007199254740993}');
  });
});

describe("parseFastjson", () => {
  test("standard JSON", () => {
    expect(parseFastjson('{"a":[1,2.5,-3e2,true,false,null,"s\\n"]}')).toEqual({ a: [1, 2.5, -300, true, false, null, "s\n"] });
  });

  test("bare numeric and identifier keys (ClusterInfo, consumerOffset.json)", () => {
    const text = '{"brokerAddrTable":{"broker-a":{"brokerAddrs":{0:"10.0.0.1:10911",1:"10.0.0.2:10911"},"brokerName":"broker-a","cluster":"DefaultCluster"}},"clusterAddrTable":{"DefaultCluster":["broker-a"]}}';
    const parsed = parseFastjson(text) as any;
    expect(parsed.brokerAddrTable["broker-a"].brokerAddrs).toEqual({ "0": "10.0.0.1:10911", "1": "10.0.0.2:10911" });
    expect(parseFastjson("{offsetTable:{-1:5}}")).toEqual({ offsetTable: { "-1": 5 } });
    // Pretty-printed config files put tabs and newlines inside numeric-key maps.
    expect(parseFastjson('{\n\t"offsetTable":{\n\t\t"T@g":{0:250,1:249\n\t\t}\n\t}\n}')).toEqual({ offsetTable: { "T@g": { "0": 250, "1": 249 } } });
  });

  test("object-literal keys become their sorted standard JSON, equal to the standard-mode string key", () => {
    const literal = parseFastjson('{"offsetTable":{{"topic":"T","brokerName":"b","queueId":0}:{"brokerOffset":250}}}') as any;
    const standard = parseFastjson('{"offsetTable":{"{\\"brokerName\\":\\"b\\",\\"queueId\\":0,\\"topic\\":\\"T\\"}":{"brokerOffset":250}}}') as any;
    expect(Object.keys(literal.offsetTable)).toEqual(['{"brokerName":"b","queueId":0,"topic":"T"}']);
    expect(literal).toEqual(standard);
  });

  test("round trip of both modes", () => {
    const value = { m: new Map<unknown, unknown>([[0, "a"], ["k", { x: 1 }]]) };
    for (const mode of ["default", "standard"] as const) expect(parseFastjson(toFastjson(value, mode))).toEqual({ m: { "0": "a", k: { x: 1 } } });
  });

  test("__proto__ stays a plain key", () => {
    const parsed = parseFastjson('{"__proto__":{"polluted":1}}') as any;
    expect(({} as any).polluted).toBeUndefined();
    expect(Object.keys(parsed)).toEqual(["__proto__"]);
  });

  test("malformed input throws FastjsonSyntaxError with an offset", () => {
    for (const bad of ["", "{", '{"a" 1}', "[1,]", '{"a":1} x', '"open', "{a b}", "[".repeat(300)]) {
      expect(() => parseFastjson(bad)).toThrow(FastjsonSyntaxError);
    }
    expect(() => parseFastjson('{"a":tru}')).toThrow("at offset 5");
  });
});
