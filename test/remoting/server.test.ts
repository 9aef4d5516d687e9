import { afterEach, describe, expect, test } from "bun:test";
import type { Socket } from "bun";
import { RemotingClient } from "../../src/remoting/client.ts";
import { RequestCode, ResponseCode } from "../../src/remoting/codes.ts";
import { RemotingCommand } from "../../src/remoting/command.ts";
import type { TcpConnection } from "../../src/remoting/connection.ts";
import { FrameDecoder } from "../../src/remoting/frame.ts";
import { RemotingServer } from "../../src/remoting/server.ts";
import { captureLog, waitUntil } from "./harness.ts";

const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startServer(opts: Partial<ConstructorParameters<typeof RemotingServer>[0]> = {}): Promise<RemotingServer> {
  const server = new RemotingServer({ port: 0, host: "127.0.0.1", name: "test", ...opts });
  await server.start();
  cleanups.push(() => server.stop());
  return server;
}

/** A bare TCP peer: records what arrives and whether the server closed it. */
interface RawPeer {
  socket: Socket<undefined>;
  received: Uint8Array[];
  receivedBytes: () => number;
  closed: () => boolean;
  localAddress: string;
  /** Writes all of `bytes`, waiting for `drain` when the socket takes only part (Bun does not buffer). */
  writeAll: (bytes: Uint8Array) => Promise<void>;
}

async function rawConnect(port: number): Promise<RawPeer> {
  const received: Uint8Array[] = [];
  let bytes = 0;
  let isClosed = false;
  let onDrain: (() => void) | undefined;
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_s, chunk) {
        received.push(chunk);
        bytes += chunk.length;
      },
      drain() {
        onDrain?.();
      },
      close() {
        isClosed = true;
        onDrain?.();
      },
    },
  });
  cleanups.push(() => socket.terminate());
  const writeAll = async (data: Uint8Array): Promise<void> => {
    let pos = 0;
    while (pos < data.length) {
      const written = socket.write(data, pos, data.length - pos);
      if (written < 0 || isClosed) throw new Error("raw peer socket closed while writing");
      pos += written;
      if (pos < data.length) await new Promise<void>((resolve) => (onDrain = resolve));
    }
  };
  return {
    socket,
    received,
    receivedBytes: () => bytes,
    closed: () => isClosed,
    localAddress: `${socket.localAddress}:${socket.localPort}`,
    writeAll,
  };
}

function echoServerProcessor(server: RemotingServer): void {
  server.registerProcessor(RequestCode.HEART_BEAT, (req) => RemotingCommand.responseTo(req, ResponseCode.SUCCESS));
}

describe("RemotingServer: a bad frame closes only its own connection", () => {
  const badInputs: Array<[string, Uint8Array]> = [
    ["oversized length", new Uint8Array([0x7f, 0xff, 0xff, 0xff, 0x00, 0x00])], // frameLength 2^31-1
    ["negative length", new Uint8Array([0x80, 0x00, 0x00, 0x00])], // frameLength -2^31
    [
      "header that is not JSON",
      new Uint8Array([
        0x00, 0x00, 0x00, 0x07, // frameLength 7
        0x00, 0x00, 0x00, 0x03, // JSON, headerLength 3
        0x6e, 0x6f, 0x21, //       "no!"
      ]),
    ],
    [
      "unknown serialize type",
      new Uint8Array([
        0x00, 0x00, 0x00, 0x06, // frameLength 6
        0x05, 0x00, 0x00, 0x02, // type 5, headerLength 2
        0x7b, 0x7d, //             "{}"
      ]),
    ],
  ];

  for (const [name, bytes] of badInputs) {
    test(name, async () => {
      const log = captureLog();
      cleanups.push(log.restore);
      const server = await startServer();
      echoServerProcessor(server);
      const client = new RemotingClient();
      cleanups.push(() => client.close());
      const addr = `127.0.0.1:${server.port}`;
      expect((await client.invoke(addr, RemotingCommand.request(RequestCode.HEART_BEAT), 3000)).code).toBe(ResponseCode.SUCCESS);

      const bad = await rawConnect(server.port);
      await waitUntil(() => server.connectionCount === 2, "both connections accepted");
      await bad.writeAll(bytes);
      await waitUntil(() => bad.closed(), "server to close the bad connection");
      expect(bad.receivedBytes()).toBe(0); // closed without any response, like Java
      const logLine = log.lines.find((l) => l.includes(bad.localAddress));
      expect(logLine).toContain(`closing connection to ${bad.localAddress}`);

      // The good client's connection is untouched.
      expect(server.connectionCount).toBe(1);
      expect((await client.invoke(addr, RemotingCommand.request(RequestCode.HEART_BEAT), 3000)).code).toBe(ResponseCode.SUCCESS);
    });
  }
});

describe("RemotingServer: backpressure", () => {
  /** 64 KiB response bodies, each byte tagged with its request's index so a cut or mix-up shows. */
  const RESPONSE_BODY_BYTES = 64 * 1024;

  function registerBigResponder(server: RemotingServer, stats: { answered: number; maxQueued: number; conn?: TcpConnection }): void {
    server.registerProcessor(RequestCode.PULL_MESSAGE, (req, conn) => {
      const tcp = conn as TcpConnection;
      stats.conn = tcp;
      const res = RemotingCommand.responseTo(req, ResponseCode.SUCCESS, undefined, { index: req.extFields.index! });
      res.body = new Uint8Array(RESPONSE_BODY_BYTES).fill(Number(req.extFields.index) & 0xff);
      conn.send(res);
      stats.answered++;
      stats.maxQueued = Math.max(stats.maxQueued, tcp.queuedBytes);
      return null;
    });
  }

  function requestFrames(count: number): Uint8Array {
    const frames = Array.from({ length: count }, (_, i) => RemotingCommand.request(RequestCode.PULL_MESSAGE, { index: String(i) }).encode());
    return Buffer.concat(frames);
  }

  test("a paused reader: queue stays under the cap, and after resuming every frame arrives whole", async () => {
    const capBytes = 24 * 1024 * 1024;
    const server = await startServer({ maxOutboundBytes: capBytes });
    const stats = { answered: 0, maxQueued: 0 } as { answered: number; maxQueued: number; conn?: TcpConnection };
    registerBigResponder(server, stats);
    const peer = await rawConnect(server.port);
    peer.socket.pause();
    const count = 256; // 16 MiB of responses: well past loopback socket buffers (~4 MiB), under the cap
    await peer.writeAll(requestFrames(count));
    await waitUntil(() => stats.answered === count, "all requests processed");
    await waitUntil(() => stats.conn!.queuedBytes > 0, "server queue to back up");
    expect(stats.maxQueued).toBeLessThanOrEqual(capBytes);
    expect(stats.conn!.closed).toBe(false);

    peer.socket.resume();
    await waitUntil(() => stats.conn!.queuedBytes === 0, "server queue to drain", 10_000);
    const decoder = new FrameDecoder();
    const seen = new Set<number>();
    let i = 0;
    await waitUntil(() => {
      for (; i < peer.received.length; i++) {
        for (const frame of decoder.push(peer.received[i]!)) {
          const res = RemotingCommand.decode(frame);
          const index = Number(res.extFields.index);
          expect(res.body!.length).toBe(RESPONSE_BODY_BYTES);
          expect(res.body!.every((b) => b === (index & 0xff))).toBe(true);
          seen.add(index);
        }
      }
      return seen.size === count;
    }, "every response decoded", 10_000);
    expect(decoder.hasPartialFrame).toBe(false);
  });

  test("a reader that never resumes: the connection is closed at the cap, memory never past it", async () => {
    const log = captureLog();
    cleanups.push(log.restore);
    const capBytes = 2 * 1024 * 1024;
    const server = await startServer({ maxOutboundBytes: capBytes });
    const stats = { answered: 0, maxQueued: 0 } as { answered: number; maxQueued: number; conn?: TcpConnection };
    registerBigResponder(server, stats);
    const closedConns: number[] = [];
    server.onConnectionClose((c) => closedConns.push(c.id));
    const peer = await rawConnect(server.port);
    peer.socket.pause();
    await peer.writeAll(requestFrames(256)); // 16 MiB of responses vs 4 MiB kernel buffers + 2 MiB cap
    await waitUntil(() => closedConns.length === 1, "server to close the slow reader");
    expect(stats.maxQueued).toBeLessThanOrEqual(capBytes);
    expect(stats.conn!.queuedBytes).toBe(0);
    const logLine = log.lines.find((l) => l.includes(peer.localAddress));
    expect(logLine).toContain("over the cap of 2097152 bytes");
  });

  test("many small responses to one chunk of requests are written in batches", async () => {
    const server = await startServer();
    echoServerProcessor(server);
    const peer = await rawConnect(server.port);
    const count = 500;
    const frames = Array.from({ length: count }, () => RemotingCommand.request(RequestCode.HEART_BEAT).encode());
    await peer.writeAll(Buffer.concat(frames));
    const decoder = new FrameDecoder();
    let decoded = 0;
    let i = 0;
    await waitUntil(() => {
      for (; i < peer.received.length; i++) decoded += decoder.push(peer.received[i]!).length;
      return decoded === count;
    }, "all responses");
    // One data event on the server yields one write; TCP may still split it, but far fewer than 500 chunks arrive.
    expect(peer.received.length).toBeLessThan(count / 10);
  });
});

describe("RemotingServer: idle connections", () => {
  test("closed after idleTimeoutMs without reads or writes; traffic keeps a connection open", async () => {
    const log = captureLog();
    cleanups.push(log.restore);
    const idleTimeoutMs = 300;
    const server = await startServer({ idleTimeoutMs });
    echoServerProcessor(server);
    const busy = new RemotingClient();
    cleanups.push(() => busy.close());
    const addr = `127.0.0.1:${server.port}`;
    await busy.invoke(addr, RemotingCommand.request(RequestCode.HEART_BEAT), 3000);
    const started = Date.now();
    const idle = await rawConnect(server.port);
    // The busy client talks every 50 ms, the idle one never does.
    while (!idle.closed()) {
      expect((await busy.invoke(addr, RemotingCommand.request(RequestCode.HEART_BEAT), 3000)).code).toBe(ResponseCode.SUCCESS);
      await Bun.sleep(50);
      if (Date.now() - started > 3000) throw new Error("idle connection never closed");
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(idleTimeoutMs - 20);
    expect(log.lines.find((l) => l.includes(idle.localAddress))).toContain("no read or write for");
    expect(server.connectionCount).toBe(1);
    expect((await busy.invoke(addr, RemotingCommand.request(RequestCode.HEART_BEAT), 3000)).code).toBe(ResponseCode.SUCCESS);
  });
});

describe("RemotingServer lifecycle", () => {
  test("port 0 binds an ephemeral port; stop closes connections and notifies listeners", async () => {
    const server = new RemotingServer({ port: 0, host: "127.0.0.1", name: "lifecycle" });
    await server.start();
    expect(server.port).toBeGreaterThan(0);
    const closed: string[] = [];
    server.onConnectionClose((c) => closed.push(c.remoteAddress));
    const peer = await rawConnect(server.port);
    await waitUntil(() => server.connectionCount === 1, "accept");
    await server.stop();
    await waitUntil(() => peer.closed(), "peer to see the close");
    expect(closed).toEqual([peer.localAddress]);
    const again = await Bun.connect({ hostname: "127.0.0.1", port: server.port, socket: { data() {} } }).then(
      (s) => {
        s.terminate();
        return "connected";
      },
      () => "refused",
    );
    expect(again).toBe("refused");
  });

  test("starting on a port in use fails", async () => {
    const first = await startServer();
    const second = new RemotingServer({ port: first.port, host: "127.0.0.1", name: "second" });
    await expect(second.start()).rejects.toThrow();
  });
});

describe("RemotingServer: load shedding", () => {
  test("past maxConnections a new connection is closed on accept; the open ones are served", async () => {
    const log = captureLog();
    cleanups.push(log.restore);
    const server = await startServer({ maxConnections: 2 });
    server.registerProcessor(RequestCode.HEART_BEAT, (req) => RemotingCommand.responseTo(req, ResponseCode.SUCCESS));
    const clients = [new RemotingClient(), new RemotingClient()];
    for (const c of clients) cleanups.push(() => c.close());
    const addr = `127.0.0.1:${server.port}`;
    for (const c of clients) expect((await c.invoke(addr, RemotingCommand.request(RequestCode.HEART_BEAT), 3000)).code).toBe(ResponseCode.SUCCESS);
    const third = await rawConnect(server.port);
    await waitUntil(() => third.closed(), "the third connection closed by the server");
    expect(server.refusedConnectionCount).toBe(1);
    expect(server.connectionCount).toBe(2);
    expect(log.lines.some((l) => l.includes("2 connections open, closed a new one"))).toBe(true);
    for (const c of clients) expect((await c.invoke(addr, RemotingCommand.request(RequestCode.HEART_BEAT), 3000)).code).toBe(ResponseCode.SUCCESS);
  });

  test("past maxInflightRequests unsettled async requests, new ones get SYSTEM_BUSY", async () => {
    const log = captureLog();
    cleanups.push(log.restore);
    const server = await startServer({ maxInflightRequests: 2 });
    const release: Array<() => void> = [];
    server.registerProcessor(RequestCode.SEND_MESSAGE_V2, (req) =>
      new Promise((resolve) => release.push(() => resolve(RemotingCommand.responseTo(req, ResponseCode.SUCCESS)))),
    );
    const client = new RemotingClient();
    cleanups.push(() => client.close());
    const addr = `127.0.0.1:${server.port}`;
    const held = [1, 2].map(() => client.invoke(addr, RemotingCommand.request(RequestCode.SEND_MESSAGE_V2), 3000));
    await waitUntil(() => release.length === 2, "two requests in the processor");
    const busy = await client.invoke(addr, RemotingCommand.request(RequestCode.SEND_MESSAGE_V2), 3000);
    expect(busy.code).toBe(ResponseCode.SYSTEM_BUSY);
    expect(busy.remark).toBe("[OVERLOAD]system busy, start flow control for a while");
    for (const r of release) r();
    expect((await Promise.all(held)).map((r) => r.code)).toEqual([ResponseCode.SUCCESS, ResponseCode.SUCCESS]);
    // Settled requests free their slots.
    const again = client.invoke(addr, RemotingCommand.request(RequestCode.SEND_MESSAGE_V2), 3000);
    await waitUntil(() => release.length === 3, "third request in the processor");
    release[2]!();
    expect((await again).code).toBe(ResponseCode.SUCCESS);
  });
});

describe("RemotingServer: zero-copy decoding", () => {
  test("request bodies (views of socket chunks) stay intact after later chunks arrive", async () => {
    const server = await startServer();
    const kept: Array<{ index: number; body: Uint8Array }> = [];
    server.registerProcessor(RequestCode.SEND_MESSAGE_V2, (req) => {
      kept.push({ index: Number(req.extFields.index), body: req.body! });
      return null;
    });
    const peer = await rawConnect(server.port);
    const count = 300;
    const frames = Array.from({ length: count }, (_, i) =>
      RemotingCommand.request(RequestCode.SEND_MESSAGE_V2, { index: String(i) }, new Uint8Array(4096).fill(i & 0xff)).encode(),
    );
    // Several writes of many frames each, cut at odd offsets so some frames span chunks.
    const stream = Buffer.concat(frames);
    for (let pos = 0; pos < stream.length; pos += 100_003) await peer.writeAll(stream.subarray(pos, pos + 100_003));
    await waitUntil(() => kept.length === count, "all requests");
    for (const { index, body } of kept) {
      expect(body.length).toBe(4096);
      expect(body.every((b) => b === (index & 0xff))).toBe(true);
    }
  });
});
