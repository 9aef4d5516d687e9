import { afterEach, describe, expect, test } from "bun:test";
import { RemotingClient } from "../../src/remoting/client.ts";
import { RequestCode, ResponseCode } from "../../src/remoting/codes.ts";
import { RemotingCommand, SerializeType } from "../../src/remoting/command.ts";
import type { Connection } from "../../src/remoting/connection.ts";
import { RemotingConnectError, RemotingSendError, RemotingTimeoutError } from "../../src/remoting/errors.ts";
import { FrameDecoder } from "../../src/remoting/frame.ts";
import { RemotingServer } from "../../src/remoting/server.ts";
import { captureLog, waitUntil } from "./harness.ts";

const servers: RemotingServer[] = [];
const clients: RemotingClient[] = [];

async function startServer(opts: Partial<ConstructorParameters<typeof RemotingServer>[0]> = {}): Promise<RemotingServer> {
  const server = new RemotingServer({ port: 0, host: "127.0.0.1", name: "test", ...opts });
  await server.start();
  servers.push(server);
  return server;
}

function newClient(opts: ConstructorParameters<typeof RemotingClient>[0] = {}): RemotingClient {
  const client = new RemotingClient(opts);
  clients.push(client);
  return client;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.stop();
});

describe("RemotingClient <-> RemotingServer over TCP", () => {
  test("request gets its response, matched by opaque, in the request's serialization", async () => {
    const server = await startServer();
    server.registerProcessor(RequestCode.GET_ROUTEINFO_BY_TOPIC, (req) => {
      const res = RemotingCommand.responseTo(req, ResponseCode.SUCCESS, undefined, { echo: req.extFields.topic! });
      res.body = new TextEncoder().encode(`route of ${req.extFields.topic}`);
      return res;
    });
    const client = newClient();
    const addr = `127.0.0.1:${server.port}`;
    for (const type of [SerializeType.JSON, SerializeType.ROCKETMQ]) {
      const req = RemotingCommand.request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: "TopicTest" });
      req.serializeType = type;
      const res = await client.invoke(addr, req, 3000);
      expect(res.code).toBe(ResponseCode.SUCCESS);
      expect(res.opaque).toBe(req.opaque);
      expect(res.isResponse).toBe(true);
      expect(res.serializeType).toBe(type);
      expect(res.extFields.echo).toBe("TopicTest");
      expect(new TextDecoder().decode(res.body)).toBe("route of TopicTest");
    }
  });

  test("concurrent invokes share one connection and out-of-order responses match", async () => {
    const server = await startServer();
    server.registerProcessor(RequestCode.HEART_BEAT, async (req) => {
      await Bun.sleep(Number(req.extFields.delayMs));
      return RemotingCommand.responseTo(req, ResponseCode.SUCCESS, req.extFields.delayMs);
    });
    const client = newClient();
    const addr = `127.0.0.1:${server.port}`;
    const delays = [40, 5, 25, 0, 15];
    const results = await Promise.all(
      delays.map((d) => client.invoke(addr, RemotingCommand.request(RequestCode.HEART_BEAT, { delayMs: String(d) }), 3000)),
    );
    expect(results.map((r) => r.remark)).toEqual(delays.map(String));
    expect(server.connectionCount).toBe(1);
  });

  test("unknown code gets REQUEST_CODE_NOT_SUPPORTED with Java's remark", async () => {
    const server = await startServer();
    const res = await newClient().invoke(`127.0.0.1:${server.port}`, RemotingCommand.request(999), 3000);
    expect(res.code).toBe(ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
    expect(res.remark).toBe(" request type 999 not supported");
  });

  test("processor throw (sync and async) or unencodable response becomes SYSTEM_ERROR with the message as remark", async () => {
    const log = captureLog();
    const server = await startServer();
    server.registerProcessor(1, () => {
      throw new Error("sync boom");
    });
    server.registerProcessor(2, async () => {
      throw new Error("async boom");
    });
    const client = newClient();
    const addr = `127.0.0.1:${server.port}`;
    server.registerProcessor(4, (req) => RemotingCommand.responseTo(req, ResponseCode.SUCCESS, undefined, { ["k".repeat(40_000)]: "v" }));
    const a = await client.invoke(addr, RemotingCommand.request(1), 3000);
    const b = await client.invoke(addr, RemotingCommand.request(2), 3000);
    expect([a.code, a.remark]).toEqual([ResponseCode.SYSTEM_ERROR, "sync boom"]);
    expect([b.code, b.remark]).toEqual([ResponseCode.SYSTEM_ERROR, "async boom"]);
    // A response that cannot be encoded (binary header key over 32767 bytes) becomes SYSTEM_ERROR too.
    const tooLong = RemotingCommand.request(4);
    tooLong.serializeType = SerializeType.ROCKETMQ;
    const c = await client.invoke(addr, tooLong, 3000);
    expect([c.code, c.remark]).toEqual([ResponseCode.SYSTEM_ERROR, "extFields key of 40000 bytes does not fit the binary header"]);
    log.restore();
    expect(log.lines.filter((l) => l.includes("processing request code")).length).toBe(3);
  });

  test("oneway reaches the processor and is never answered", async () => {
    const server = await startServer();
    const seen: RemotingCommand[] = [];
    server.registerProcessor(RequestCode.UPDATE_CONSUMER_OFFSET, (req) => {
      seen.push(req);
      return RemotingCommand.responseTo(req, ResponseCode.SUCCESS);
    });
    const client = newClient();
    const addr = `127.0.0.1:${server.port}`;
    await client.invokeOneway(addr, RemotingCommand.request(RequestCode.UPDATE_CONSUMER_OFFSET, { queueId: "1" }));
    // An unknown oneway code must not be answered either.
    await client.invokeOneway(addr, RemotingCommand.request(998));
    await waitUntil(() => seen.length === 1, "oneway request");
    expect(seen[0]!.isOneway).toBe(true);
    expect(seen[0]!.extFields.queueId).toBe("1");
    // A round trip after the oneways proves no stray response arrived first (it would be logged as unmatched).
    const res = await client.invoke(addr, RemotingCommand.request(997), 3000);
    expect(res.code).toBe(ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
  });

  test("timeout rejects with RemotingTimeoutError and forgets the pending entry", async () => {
    const server = await startServer();
    let serverConn: Connection | undefined;
    server.registerProcessor(RequestCode.PULL_MESSAGE, (_req, conn) => {
      serverConn = conn;
      return null; // answers never
    });
    const client = newClient();
    const addr = `127.0.0.1:${server.port}`;
    const req = RemotingCommand.request(RequestCode.PULL_MESSAGE);
    const started = Date.now();
    const err = await client.invoke(addr, req, 100).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemotingTimeoutError);
    expect((err as RemotingTimeoutError).retriable).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    // A late response is dropped; the connection keeps working.
    serverConn!.send(RemotingCommand.responseTo(req, ResponseCode.SUCCESS));
    const res = await client.invoke(addr, RemotingCommand.request(996), 3000);
    expect(res.code).toBe(ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
  });

  test("long polling: processor returns null and answers later through conn.send", async () => {
    const server = await startServer();
    server.registerProcessor(RequestCode.PULL_MESSAGE, (req, conn) => {
      setTimeout(() => conn.send(RemotingCommand.responseTo(req, ResponseCode.PULL_NOT_FOUND)), 20);
      return null;
    });
    const res = await newClient().invoke(`127.0.0.1:${server.port}`, RemotingCommand.request(RequestCode.PULL_MESSAGE), 3000);
    expect(res.code).toBe(ResponseCode.PULL_NOT_FOUND);
  });

  test("closing the connection fails all its pending invokes at once with RemotingSendError", async () => {
    const server = await startServer();
    let calls = 0;
    server.registerProcessor(RequestCode.PULL_MESSAGE, () => {
      calls++;
      return null;
    });
    const closedAddrs: string[] = [];
    const client = newClient({ onConnectionClose: (a) => closedAddrs.push(a) });
    const addr = `127.0.0.1:${server.port}`;
    const invokes = [1, 2, 3].map(() =>
      client.invoke(addr, RemotingCommand.request(RequestCode.PULL_MESSAGE), 10_000).catch((e: unknown) => e),
    );
    await waitUntil(() => calls === 3, "three requests at the server");
    const closeStart = Date.now();
    await server.stop();
    const errors = await Promise.all(invokes);
    expect(Date.now() - closeStart).toBeLessThan(1000);
    for (const e of errors) expect(e).toBeInstanceOf(RemotingSendError);
    expect(closedAddrs).toEqual([addr]);
  });

  test("server-initiated request is answered by the client's onRequest on the same connection", async () => {
    const server = await startServer();
    let serverConn: Connection | undefined;
    server.registerProcessor(RequestCode.HEART_BEAT, (req, conn) => {
      serverConn = conn;
      return RemotingCommand.responseTo(req, ResponseCode.SUCCESS);
    });
    const client = newClient({
      onRequest: (req) =>
        RemotingCommand.responseTo(req, ResponseCode.SUCCESS, `status of ${req.extFields.consumerGroup}`),
    });
    await client.invoke(`127.0.0.1:${server.port}`, RemotingCommand.request(RequestCode.HEART_BEAT), 3000);
    const res = await serverConn!.invoke(
      RemotingCommand.request(RequestCode.GET_CONSUMER_RUNNING_INFO, { consumerGroup: "g1" }),
      3000,
    );
    expect(res.code).toBe(ResponseCode.SUCCESS);
    expect(res.remark).toBe("status of g1");
    // A client without onRequest answers REQUEST_CODE_NOT_SUPPORTED.
    const plain = newClient();
    await plain.invoke(`127.0.0.1:${server.port}`, RemotingCommand.request(RequestCode.HEART_BEAT), 3000);
    const res2 = await serverConn!.invoke(RemotingCommand.request(RequestCode.CHECK_TRANSACTION_STATE), 3000);
    expect(res2.code).toBe(ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
  });

  test("concurrent callers during connect share one connection", async () => {
    const server = await startServer();
    server.registerProcessor(RequestCode.HEART_BEAT, (req) => RemotingCommand.responseTo(req, ResponseCode.SUCCESS));
    const client = newClient();
    const addr = `127.0.0.1:${server.port}`;
    const all = await Promise.all(
      Array.from({ length: 20 }, () => client.invoke(addr, RemotingCommand.request(RequestCode.HEART_BEAT), 3000)),
    );
    expect(all.every((r) => r.code === ResponseCode.SUCCESS)).toBe(true);
    expect(server.connectionCount).toBe(1);
  });

  test("connect failures reject with RemotingConnectError", async () => {
    const server = await startServer();
    const freePort = server.port;
    await server.stop();
    servers.length = 0;
    const client = newClient();
    const refused = await client.invoke(`127.0.0.1:${freePort}`, RemotingCommand.request(1), 1000).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RemotingConnectError);
    const bad = await client.invoke("no-port-here", RemotingCommand.request(1), 1000).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(RemotingConnectError);
    client.close();
    const afterClose = await client.invoke(`127.0.0.1:${freePort}`, RemotingCommand.request(1), 1000).catch((e: unknown) => e);
    expect(afterClose).toBeInstanceOf(RemotingConnectError);
  });

  test("after the connection closes, the next invoke reconnects", async () => {
    const server = await startServer();
    server.registerProcessor(RequestCode.HEART_BEAT, (req) => RemotingCommand.responseTo(req, ResponseCode.SUCCESS));
    const client = newClient();
    const addr = `127.0.0.1:${server.port}`;
    await client.invoke(addr, RemotingCommand.request(RequestCode.HEART_BEAT), 3000);
    client.closeConnection(addr);
    await waitUntil(() => server.connectionCount === 0, "server to see the close");
    const res = await client.invoke(addr, RemotingCommand.request(RequestCode.HEART_BEAT), 3000);
    expect(res.code).toBe(ResponseCode.SUCCESS);
  });
  test("client.close() fails pending invokes with RemotingSendError", async () => {
    const server = await startServer();
    let arrived = 0;
    server.registerProcessor(RequestCode.PULL_MESSAGE, () => {
      arrived++;
      return null;
    });
    const client = newClient();
    const pending = client
      .invoke(`127.0.0.1:${server.port}`, RemotingCommand.request(RequestCode.PULL_MESSAGE), 10_000)
      .catch((e: unknown) => e);
    await waitUntil(() => arrived === 1, "request at the server");
    client.close();
    expect(await pending).toBeInstanceOf(RemotingSendError);
  });

  test("requests split at arbitrary bytes across TCP writes are reassembled", async () => {
    const server = await startServer();
    server.registerProcessor(RequestCode.HEART_BEAT, (req) => RemotingCommand.responseTo(req, ResponseCode.SUCCESS, req.extFields.n));
    const answers: RemotingCommand[] = [];
    const decoder = new FrameDecoder();
    const socket = await Bun.connect({
      hostname: "127.0.0.1",
      port: server.port,
      socket: {
        data(_s, chunk) {
          for (const f of decoder.push(chunk)) answers.push(RemotingCommand.decode(f));
        },
      },
    });
    try {
      socket.setNoDelay(true);
      const frames = [0, 1, 2, 3].map((n) => {
        const req = RemotingCommand.request(RequestCode.HEART_BEAT, { n: String(n) });
        req.serializeType = n % 2 === 0 ? SerializeType.JSON : SerializeType.ROCKETMQ;
        return req.encode();
      });
      const stream = Buffer.concat(frames);
      // Cut points inside the length prefix, inside the header and across frame boundaries.
      const cuts = [1, 3, 5, 9, 40, stream.length - 7, stream.length];
      let pos = 0;
      for (const cut of cuts) {
        expect(socket.write(stream.subarray(pos, cut))).toBe(cut - pos);
        pos = cut;
        await Bun.sleep(1); // give each piece its own segment
      }
      await waitUntil(() => answers.length === 4, "four responses");
      expect(answers.map((a) => a.remark)).toEqual(["0", "1", "2", "3"]);
      expect(answers.map((a) => a.serializeType)).toEqual([0, 1, 0, 1]);
    } finally {
      socket.terminate();
    }
  });
});
