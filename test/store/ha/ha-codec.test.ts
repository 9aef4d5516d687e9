import { describe, expect, test } from "bun:test";
import {
  encodeOffsetReport,
  encodeTransferHeader,
  OffsetReportDecoder,
  TransferFrameDecoder,
} from "../../../src/store/ha/ha-codec.ts";

describe("HA wire encoding", () => {
  test("offset report is a big-endian int64", () => {
    // 0x0000_0001_0000_0002 = 2^32 + 2
    expect([...encodeOffsetReport(2 ** 32 + 2)]).toEqual([0, 0, 0, 1, /* low */ 0, 0, 0, 2]);
  });

  test("transfer header is int64 offset + int32 size", () => {
    expect([...encodeTransferHeader(65536, 32768)]).toEqual([
      0, 0, 0, 0, 0, 1, 0, 0, // offset 65536
      0, 0, 0x80, 0, // size 32768
    ]);
  });

  test("offsets beyond 2^53 are refused when encoding", () => {
    expect(() => encodeOffsetReport(2 ** 53)).toThrow();
    expect(() => encodeTransferHeader(-1, 0)).toThrow();
  });
});

describe("OffsetReportDecoder", () => {
  test("keeps the last complete report of a read", () => {
    const decoder = new OffsetReportDecoder();
    const stream = new Uint8Array(Bun.concatArrayBuffers([encodeOffsetReport(100), encodeOffsetReport(200), encodeOffsetReport(300).subarray(0, 3)]));
    expect(decoder.push(stream)).toBe(200);
    expect(decoder.push(encodeOffsetReport(300).subarray(3))).toBe(300);
  });

  test("one byte at a time", () => {
    const decoder = new OffsetReportDecoder();
    const bytes = encodeOffsetReport(123_456_789_012);
    const results = [...bytes].map((b) => decoder.push(new Uint8Array([b])));
    expect(results.slice(0, 7)).toEqual([-1, -1, -1, -1, -1, -1, -1]);
    expect(results[7]).toBe(123_456_789_012);
  });

  test("a negative report is an error", () => {
    const decoder = new OffsetReportDecoder();
    expect(typeof decoder.push(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff /* -1 */]))).toBe("string");
  });
});

describe("TransferFrameDecoder", () => {
  const data1 = new Uint8Array(1000).map((_, i) => i % 251);
  const data2 = new Uint8Array(70_000).map((_, i) => (i * 7) % 253);
  const stream = new Uint8Array(
    Bun.concatArrayBuffers([
      encodeTransferHeader(4096, data1.length),
      data1,
      encodeTransferHeader(5096, 0), // heartbeat
      encodeTransferHeader(5096, data2.length),
      data2,
    ]),
  );

  function decodeInChunks(chunkSize: number): Array<{ offset: number; data: number[] }> {
    const decoder = new TransferFrameDecoder();
    const frames: Array<{ offset: number; data: number[] }> = [];
    for (let pos = 0; pos < stream.length; pos += chunkSize) {
      const error = decoder.push(stream.subarray(pos, pos + chunkSize), (offset, data) => {
        frames.push({ offset, data: [...data] }); // copy: the view is only valid during the call
        return undefined;
      });
      expect(error).toBeUndefined();
    }
    return frames;
  }

  const expected = [
    { offset: 4096, data: [...data1] },
    { offset: 5096, data: [] },
    { offset: 5096, data: [...data2] },
  ];

  test("whole stream in one read", () => {
    expect(decodeInChunks(stream.length)).toEqual(expected);
  });

  test("one byte at a time", () => {
    expect(decodeInChunks(1)).toEqual(expected);
  });

  test("odd splits", () => {
    for (const size of [5, 12, 13, 999, 4096]) expect(decodeInChunks(size)).toEqual(expected);
  });

  test("oversized and negative frame sizes are errors", () => {
    const decoder = new TransferFrameDecoder(1024);
    expect(decoder.push(encodeTransferHeader(0, 1025), () => undefined)).toContain("1025");
    const negative = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, /* size -1 */ 0xff, 0xff, 0xff, 0xff]);
    expect(new TransferFrameDecoder().push(negative, () => undefined)).toContain("-1");
  });

  test("a handler error stops decoding", () => {
    const decoder = new TransferFrameDecoder();
    let calls = 0;
    const error = decoder.push(stream, () => {
      calls++;
      return "mismatch";
    });
    expect(error).toBe("mismatch");
    expect(calls).toBe(1);
  });
});
