// The connecting side: a pool of one TCP connection per "host:port", created lazily and shared by
// every caller; requests the server sends back on that connection go to `onRequest`.

import { createLogger } from "../log.ts";
import type { RemotingCommand, SerializeType } from "./command.ts";
import {
  type Processor,
  requestNotSupported,
  TcpConnection,
} from "./connection.ts";
import { RemotingConnectError, RemotingSendError, RemotingTimeoutError } from "./errors.ts";
import { connectTcp, type TransportSocket } from "./transport.ts";

const log = createLogger("remoting");

/** Java `connectTimeoutMillis` default. */
export const CONNECT_TIMEOUT_MS = 3000;

export interface RemotingClientOptions {
  connectTimeoutMs?: number;
  /** Answers requests the server sends to this client (e.g. CHECK_TRANSACTION_STATE). */
  onRequest?: Processor;
  /** Called with the pool address after a connection to it closed, whatever the reason. */
  onConnectionClose?: (addr: string) => void;
  maxOutboundBytes?: number;
  idleTimeoutMs?: number;
  /**
   * Header serialization of the requests this client sends (Java's rocketmq.serialize.type);
   * default: whatever each request was built with (JSON). Responses come back in kind.
   */
  serializeType?: SerializeType;
}

export class RemotingClient {
  private readonly opts: RemotingClientOptions;
  private readonly connections = new Map<string, TcpConnection>();
  /** Connects under way; concurrent callers for one address share the same attempt. */
  private readonly connecting = new Map<string, Promise<TcpConnection>>();
  private isClosed = false;

  constructor(opts: RemotingClientOptions = {}) {
    this.opts = opts;
  }

  invoke(addr: string, request: RemotingCommand, timeoutMs: number): Promise<RemotingCommand> {
    if (this.opts.serializeType !== undefined) request.serializeType = this.opts.serializeType;
    // Hot path: an open connection takes the request now, without an extra await on the pool.
    const open = this.isClosed ? undefined : this.connections.get(addr);
    if (open !== undefined && !open.closed) return open.invoke(request, timeoutMs);
    return this.invokeAfterConnect(addr, request, timeoutMs);
  }

  private async invokeAfterConnect(addr: string, request: RemotingCommand, timeoutMs: number): Promise<RemotingCommand> {
    const startMs = Date.now();
    const conn = await this.connection(addr);
    // Like Java's invokeSync, the connect time counts against the caller's timeout.
    const leftMs = timeoutMs - (Date.now() - startMs);
    if (leftMs <= 0) throw new RemotingTimeoutError(`connecting to ${addr} used up the ${timeoutMs} ms timeout`);
    return conn.invoke(request, leftMs);
  }

  /** Resolves once the request is queued on the connection. */
  async invokeOneway(addr: string, request: RemotingCommand): Promise<void> {
    if (this.opts.serializeType !== undefined) request.serializeType = this.opts.serializeType;
    const conn = await this.connection(addr);
    request.markOneway();
    if (!conn.send(request)) throw new RemotingSendError(`could not send oneway request to ${addr}: connection closed`);
  }

  closeConnection(addr: string): void {
    this.connections.get(addr)?.close();
  }

  /** Closes every connection (failing their pending invokes); later invokes fail with RemotingConnectError. */
  close(): void {
    this.isClosed = true;
    for (const conn of [...this.connections.values()]) conn.close();
  }

  /** The open connection to `addr`, connecting first when there is none. */
  private connection(addr: string): Promise<TcpConnection> {
    if (this.isClosed) return Promise.reject(new RemotingConnectError(`client is closed, not connecting to ${addr}`));
    const existing = this.connections.get(addr);
    if (existing !== undefined && !existing.closed) return Promise.resolve(existing);
    let attempt = this.connecting.get(addr);
    if (attempt === undefined) {
      attempt = this.connect(addr).finally(() => this.connecting.delete(addr));
      this.connecting.set(addr, attempt);
    }
    return attempt;
  }

  private async connect(addr: string): Promise<TcpConnection> {
    const { host, port } = parseAddress(addr);
    const timeoutMs = this.opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
    const connPromise = connectTcp(host, port, (socket) => this.opened(socket, addr));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new RemotingConnectError(`connect to ${addr} timed out after ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    let conn: TcpConnection;
    try {
      conn = await Promise.race([connPromise, timeout]);
    } catch (err) {
      // A connect that completes after the timeout must not leak its socket.
      connPromise.then((late) => late.close(), () => {});
      if (err instanceof RemotingConnectError) throw err;
      throw new RemotingConnectError(`connect to ${addr} failed: ${err instanceof Error ? err.message : String(err)}`, err);
    } finally {
      clearTimeout(timer);
    }
    if (this.isClosed) {
      conn.close();
      throw new RemotingConnectError(`client closed while connecting to ${addr}`);
    }
    if (conn.closed) throw new RemotingConnectError(`connection to ${addr} closed right after connecting`);
    this.connections.set(addr, conn);
    return conn;
  }

  private opened(socket: TransportSocket, addr: string): TcpConnection {
    return new TcpConnection({
      ownerName: "client",
      socket,
      processor: this.opts.onRequest ?? requestNotSupported,
      maxOutboundBytes: this.opts.maxOutboundBytes,
      idleTimeoutMs: this.opts.idleTimeoutMs,
      onClose: (closed) => this.forget(addr, closed),
    });
  }

  private forget(addr: string, conn: TcpConnection): void {
    if (this.connections.get(addr) === conn) this.connections.delete(addr);
    if (this.opts.onConnectionClose === undefined) return;
    try {
      this.opts.onConnectionClose(addr);
    } catch (err) {
      log.error(`client: connection close listener failed for ${addr}`, err);
    }
  }
}

/** Splits "host:port" (IPv6 as "[::1]:port"); throws RemotingConnectError on anything else. */
function parseAddress(addr: string): { host: string; port: number } {
  const colon = addr.lastIndexOf(":");
  const portText = addr.slice(colon + 1);
  let host = addr.slice(0, colon);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  const port = Number(portText);
  if (colon <= 0 || host.length === 0 || !/^\d+$/.test(portText) || port < 1 || port > 65_535) {
    throw new RemotingConnectError(`address "${addr}" is not host:port`);
  }
  return { host, port };
}
