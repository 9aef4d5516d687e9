import { describe, expect, test } from "bun:test";
import { RemotingCommand } from "../../src/remoting/command.ts";
import { FrameDecoder } from "../../src/remoting/frame.ts";
import { OUTBOUND_CHUNK_SIZE_BYTES, OutboundQueue, WriteOutcome } from "../../src/remoting/outbound-queue.ts";
import type { TransportSocket } from "../../src/remoting/transport.ts";

/** A socket that takes at most `budget` bytes per write call (Infinity: all), copying what it takes. */
function fakeSocket(budget: () => number) {
  const received: number[] = [];
  const socket: TransportSocket = {
    remoteAddress: "127.0.0.1",
    remotePort: 1,
    write(data, byteOffset, byteLength) {
      const n = Math.min(byteLength, budget());
      for (let i = 0; i < n; i++) received.push(data[byteOffset + i]!);
      return n;
    },
    setNoDelay: () => undefined,
    end: () => undefined,
    terminate: () => undefined,
  };
  return { socket, received };
}

function request(i: number, bodySizeBytes: number): RemotingCommand {
  return RemotingCommand.request(10, { i: String(i) }, new Uint8Array(bodySizeBytes).fill(i & 0xff));
}

function append(queue: OutboundQueue, cmd: RemotingCommand): void {
  queue.append(cmd, cmd.measureFrame());
}

function decodeAll(bytes: number[]): RemotingCommand[] {
  return new FrameDecoder().push(Uint8Array.from(bytes)).map((f) => RemotingCommand.decode(f));
}

describe("OutboundQueue", () => {
  test("frames written in order, the same bytes as encode(), across chunk boundaries and an oversized frame", () => {
    const queue = new OutboundQueue();
    const { socket, received } = fakeSocket(() => Infinity);
    const sizes = [100, 30_000, 30_000, 30_000, OUTBOUND_CHUNK_SIZE_BYTES + 10, 5, 0];
    const expected: number[] = [];
    sizes.forEach((size, i) => {
      const cmd = request(i, size);
      expected.push(...cmd.encode());
      append(queue, cmd);
    });
    expect(queue.queuedBytes).toBe(expected.length);
    expect(queue.writeTo(socket)).toBe(WriteOutcome.EMPTY);
    expect(queue.queuedBytes).toBe(0);
    expect(received).toEqual(expected);
    expect(decodeAll(received).map((c) => [c.extFields.i, c.body?.length ?? 0])).toEqual(sizes.map((s, i) => [String(i), s]));
  });

  test("short writes: BLOCKED keeps the rest, appends after it, and the stream stays intact", () => {
    const queue = new OutboundQueue();
    let budget = 7;
    const { socket, received } = fakeSocket(() => budget);
    for (let i = 0; i < 50; i++) append(queue, request(i, 1000 + i));
    let rounds = 0;
    // Bounded: each round writes at least one byte.
    while (queue.writeTo(socket) === WriteOutcome.BLOCKED) {
      rounds++;
      expect(rounds).toBeLessThan(100_000);
      if (rounds % 500 === 0) append(queue, request(1000 + rounds, 10));
      budget = 1 + (rounds % 4000);
    }
    const decoded = decodeAll(received);
    expect(decoded.length).toBe(50 + Math.floor(rounds / 500));
    expect(decoded.slice(0, 50).map((c) => c.body!.length)).toEqual(Array.from({ length: 50 }, (_, i) => 1000 + i));
    expect(queue.queuedBytes).toBe(0);
  });

  test("a socket that refuses reports REFUSED; clear() drops everything", () => {
    const queue = new OutboundQueue();
    const { socket } = fakeSocket(() => -1);
    append(queue, request(1, 10));
    expect(queue.writeTo(socket)).toBe(WriteOutcome.REFUSED);
    queue.clear();
    expect(queue.queuedBytes).toBe(0);
  });

  test("bodyParts are written back to back, like one body", () => {
    const parts = [Uint8Array.of(1, 2), Uint8Array.of(), Uint8Array.of(3)];
    const cmd = RemotingCommand.request(11, {});
    cmd.bodyParts = parts;
    const whole = RemotingCommand.request(11, {}, Uint8Array.of(1, 2, 3));
    whole.opaque = cmd.opaque;
    expect([...cmd.encode()]).toEqual([...whole.encode()]);
  });
});
