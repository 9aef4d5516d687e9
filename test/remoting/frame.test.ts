import { describe, expect, test } from "bun:test";
import { FRAME_MAX_SIZE_BYTES } from "../../src/common/limits.ts";
import { FrameDecoder, FrameError } from "../../src/remoting/frame.ts";

/** A frame whose payload (after the length prefix) is `payloadLength` bytes of a pattern seeded by `seed`. */
function makeFrame(seed: number, payloadLength: number): { frame: Uint8Array; payload: Uint8Array } {
  const frame = new Uint8Array(4 + payloadLength);
  new DataView(frame.buffer).setInt32(0, payloadLength);
  for (let i = 0; i < payloadLength; i++) frame[4 + i] = (seed * 31 + i) & 0xff;
  return { frame, payload: frame.subarray(4) };
}

/** Deterministic PRNG so a failing split is reproducible. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function sampleStream(): { stream: Uint8Array; payloads: Uint8Array[] } {
  // Sizes cover: the 4-byte minimum, small, and a frame larger than the 64 KiB first assembly buffer.
  const sizes = [4, 5, 17, 300, 4, 70_000, 1024, 8, 150_000, 33];
  const frames = sizes.map((size, i) => makeFrame(i, size));
  return { stream: new Uint8Array(Bun.concatArrayBuffers(frames.map((f) => f.frame))), payloads: frames.map((f) => f.payload) };
}

describe("FrameDecoder", () => {
  test("the worked GET_ROUTEINFO_BY_TOPIC frame: prefix 0x00000087 strips to 135 bytes", () => {
    const frame = new Uint8Array(4 + 135);
    frame.set([0x00, 0x00, 0x00, 0x87], 0); // frameLength = 135
    frame.set([0x00, 0x00, 0x00, 0x83], 4); // JSON, headerLength = 131
    const out = new FrameDecoder().push(frame);
    expect(out.length).toBe(1);
    expect(out[0]!.length).toBe(135);
    expect([...out[0]!.subarray(0, 4)]).toEqual([0x00, 0x00, 0x00, 0x83]);
  });

  test("whole stream in one chunk: every frame is a view of the chunk (no copy)", () => {
    const { stream, payloads } = sampleStream();
    const out = new FrameDecoder().push(stream);
    expect(out).toEqual(payloads);
    for (const frame of out) expect(frame.buffer).toBe(stream.buffer);
  });

  test("one byte at a time", () => {
    const { stream, payloads } = sampleStream();
    const decoder = new FrameDecoder();
    const out: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i++) out.push(...decoder.push(stream.subarray(i, i + 1)));
    expect(out).toEqual(payloads);
    expect(decoder.hasPartialFrame).toBe(false);
  });

  test("random chunk sizes, many seeds", () => {
    const { stream, payloads } = sampleStream();
    for (let seed = 1; seed <= 200; seed++) {
      const rand = prng(seed);
      const decoder = new FrameDecoder();
      const out: Uint8Array[] = [];
      let pos = 0;
      while (pos < stream.length) {
        // Mostly small cuts (inside prefixes and headers), sometimes big ones spanning frames.
        const size = rand() < 0.8 ? 1 + Math.floor(rand() * 12) : 1 + Math.floor(rand() * 200_000);
        // Each chunk is a fresh buffer, like Bun's socket data events.
        out.push(...decoder.push(stream.slice(pos, pos + size)));
        pos += size;
      }
      expect(out.length).toBe(payloads.length);
      expect(out).toEqual(payloads);
      expect(decoder.hasPartialFrame).toBe(false);
    }
  });

  test("a split frame followed by whole frames in the same chunk", () => {
    const a = makeFrame(1, 10);
    const b = makeFrame(2, 6);
    const c = makeFrame(3, 4);
    const stream = new Uint8Array(Bun.concatArrayBuffers([a.frame, b.frame, c.frame]));
    const decoder = new FrameDecoder();
    expect(decoder.push(stream.slice(0, 2))).toEqual([]); // half of a's prefix
    const rest = stream.slice(2);
    const out = decoder.push(rest);
    expect(out).toEqual([a.payload, b.payload, c.payload]);
    expect(out[1]!.buffer).toBe(rest.buffer); // b and c come straight out of the chunk
  });

  test("oversized length is rejected as soon as the prefix is complete", () => {
    const decoder = new FrameDecoder(1024);
    // frameLength 1021 + 4 = 1025 > 1024
    expect(decoder.push(new Uint8Array([0x00, 0x00]))).toEqual([]);
    expect(() => decoder.push(new Uint8Array([0x03, 0xfd]))).toThrow(FrameError);
    // exactly at the limit is fine: frameLength 1020 + 4 = 1024
    const ok = makeFrame(0, 1020);
    expect(new FrameDecoder(1024).push(ok.frame)).toEqual([ok.payload]);
  });

  test("the default limit is Java's 16 MiB, prefix included", () => {
    const atLimit = new Uint8Array([0x00, 0xff, 0xff, 0xfc]); // frameLength 16777212
    expect(new FrameDecoder().push(atLimit)).toEqual([]);
    const over = new Uint8Array([0x00, 0xff, 0xff, 0xfd]); // frameLength 16777213
    expect(() => new FrameDecoder().push(over)).toThrow(`exceeds the limit of ${FRAME_MAX_SIZE_BYTES} bytes`);
  });

  test("negative and too-short lengths are rejected", () => {
    expect(() => new FrameDecoder().push(new Uint8Array([0xff, 0xff, 0xff, 0xff]))).toThrow("negative frame length -1");
    expect(() => new FrameDecoder().push(new Uint8Array([0x00, 0x00, 0x00, 0x03]))).toThrow(FrameError);
    expect(() => new FrameDecoder().push(new Uint8Array([0x00, 0x00, 0x00, 0x00]))).toThrow(FrameError);
  });

  test("an announced-but-unsent large frame does not allocate its full size up front", () => {
    const decoder = new FrameDecoder();
    // frameLength 16777212 announced, 4 bytes of it sent
    decoder.push(new Uint8Array([0x00, 0xff, 0xff, 0xfc, 1, 2, 3, 4]));
    expect(decoder.hasPartialFrame).toBe(true);
    // (internal) the assembly buffer stays at its initial 64 KiB
    expect((decoder as unknown as { assembly: Uint8Array }).assembly.length).toBe(64 * 1024);
  });
});
