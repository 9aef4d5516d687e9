import { describe, expect, test } from "bun:test";
import { formatProperties, parseProperties, PropertiesSyntaxError } from "../../src/config/properties.ts";

describe("parseProperties", () => {
  test("separators, comments, blank lines and whitespace", () => {
    const props = parseProperties(
      [
        "# a comment",
        "! another comment",
        "",
        "brokerClusterName = DefaultCluster",
        "brokerName=broker-a",
        "   brokerId:0",
        "deleteWhen 04",
        "fileReservedTime\t=\t48   ",
        "emptyValue=",
        "keyOnly",
      ].join("\n"),
    );
    expect(Object.fromEntries(props)).toEqual({
      brokerClusterName: "DefaultCluster",
      brokerName: "broker-a",
      brokerId: "0",
      deleteWhen: "04",
      fileReservedTime: "48",
      emptyValue: "",
      keyOnly: "",
    });
  });

  test("CRLF line ends, continuation lines and escapes", () => {
    const props = parseProperties("a=1\r\nlong=one,\\\r\n    two\r\nkey\\=with\\:seps=v\\tx\\u0041\n");
    expect(props.get("a")).toBe("1");
    expect(props.get("long")).toBe("one,two");
    expect(props.get("key=with:seps")).toBe("v\txA");
  });

  test("a later duplicate key wins", () => {
    expect(parseProperties("k=1\nk=2").get("k")).toBe("2");
  });

  test("malformed unicode escape names the line", () => {
    expect(() => parseProperties("ok=1\nbad=\\u12G4")).toThrow(PropertiesSyntaxError);
    expect(() => parseProperties("ok=1\nbad=\\u12G4")).toThrow("line 2");
  });

  test("formatProperties writes key=value lines", () => {
    expect(formatProperties([["listenPort", 9876], ["orderMessageEnable", false], ["name", "x"]])).toBe(
      "listenPort=9876\norderMessageEnable=false\nname=x\n",
    );
  });
});
