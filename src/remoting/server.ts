// The accepting side: Bun.listen, one TcpConnection per accepted socket, requests dispatched to the
// processor registered for their code.

import type { Socket, TCPSocketListener } from "bun";
import { createLogger } from "../log.ts";
import type { RemotingCommand } from "./command.ts";
import {
  type Connection,
  type Processor,
  requestNotSupported,
  type SocketData,
  TcpConnection,
} from "./connection.ts";

const log = createLogger("remoting");

export interface RemotingServerOptions {
  port: number;
  /** Interface to bind; all interfaces by default, like Java. */
  host?: string;
  /** Names this server in log lines ("namesrv", "broker"). */
  name: string;
  maxOutboundBytes?: number;
  idleTimeoutMs?: number;
  maxFrameSizeBytes?: number;
  /** Unsettled async processor calls per connection before SYSTEM_BUSY (default INFLIGHT_REQUESTS_MAX). */
  maxInflightRequests?: number;
  /** Open connections at once (default MAX_CONNECTIONS); a connection past it is closed on accept. */
  maxConnections?: number;
}

const DEFAULT_HOST = "0.0.0.0";

/**
 * Open connections per server, 10,000: each holds buffers and timers, so without a cap a peer
 * opening sockets in a loop exhausts memory and descriptors. A Java client instance shares one
 * connection per broker for all its producers and consumers, so real deployments stay far below.
 */
export const MAX_CONNECTIONS = 10_000;
/** Connections refused past the cap are logged at most once per this interval (with a count). */
const REFUSED_LOG_INTERVAL_MS = 10_000;

export class RemotingServer {
  private readonly opts: RemotingServerOptions;
  private readonly processors = new Map<number, Processor>();
  private readonly closeListeners: Array<(conn: Connection) => void> = [];
  private readonly connections = new Set<TcpConnection>();
  private listener: TCPSocketListener<SocketData> | undefined;
  private boundPort = 0;
  private refusedConnections = 0;
  private lastRefusedLogMs = Number.NEGATIVE_INFINITY;

  constructor(opts: RemotingServerOptions) {
    this.opts = opts;
  }

  registerProcessor(code: number, processor: Processor): void {
    if (!Number.isInteger(code)) throw new TypeError(`request code ${code} is not an integer`);
    this.processors.set(code, processor);
  }

  onConnectionClose(listener: (conn: Connection) => void): void {
    this.closeListeners.push(listener);
  }

  /** The bound port once started (the ephemeral one when started with port 0). */
  get port(): number {
    return this.boundPort;
  }

  /** The address listened on (printed at start). */
  get host(): string {
    return this.opts.host ?? DEFAULT_HOST;
  }

  /** Open connections, for diagnostics and tests. */
  get connectionCount(): number {
    return this.connections.size;
  }

  async start(): Promise<void> {
    if (this.listener !== undefined) throw new Error(`${this.opts.name} server already started`);
    this.listener = Bun.listen<SocketData>({
      hostname: this.opts.host ?? DEFAULT_HOST,
      port: this.opts.port,
      data: { conn: undefined },
      socket: {
        open: (socket) => this.accept(socket),
        data: (socket, chunk) => socket.data.conn?.handleData(chunk),
        drain: (socket) => socket.data.conn?.handleDrain(),
        close: (socket, error) => socket.data.conn?.handleSocketClosed(error),
        error: (socket, error) => socket.data.conn?.handleSocketError(error),
      },
    });
    this.boundPort = this.listener.port;
  }

  async stop(): Promise<void> {
    const listener = this.listener;
    if (listener === undefined) return;
    this.listener = undefined;
    for (const conn of [...this.connections]) conn.close();
    listener.stop(true);
  }

  /** Connections closed on accept because the server was at maxConnections. */
  get refusedConnectionCount(): number {
    return this.refusedConnections;
  }

  private accept(socket: Socket<SocketData>): void {
    const maxConnections = this.opts.maxConnections ?? MAX_CONNECTIONS;
    if (this.connections.size >= maxConnections) {
      this.refuse(socket, maxConnections);
      return;
    }
    const conn = new TcpConnection({
      ownerName: `${this.opts.name} server`,
      socket,
      processor: this.dispatch,
      maxOutboundBytes: this.opts.maxOutboundBytes,
      idleTimeoutMs: this.opts.idleTimeoutMs,
      maxFrameSizeBytes: this.opts.maxFrameSizeBytes,
      maxInflightRequests: this.opts.maxInflightRequests,
      onClose: (closed) => this.forget(closed),
    });
    // Each socket gets its own data object: the listener's initial one is shared.
    socket.data = { conn };
    this.connections.add(conn);
  }

  private refuse(socket: Socket<SocketData>, maxConnections: number): void {
    this.refusedConnections++;
    socket.data = { conn: undefined };
    socket.terminate();
    const now = performance.now();
    if (now - this.lastRefusedLogMs < REFUSED_LOG_INTERVAL_MS) return;
    this.lastRefusedLogMs = now;
    log.warn(`${this.opts.name} server: ${maxConnections} connections open, closed a new one from ${socket.remoteAddress} (${this.refusedConnections} refused so far)`);
  }

  private readonly dispatch: Processor = (request: RemotingCommand, conn: Connection) => {
    const processor = this.processors.get(request.code);
    if (processor === undefined) {
      log.warn(`${this.opts.name} server: request code ${request.code} from ${conn.remoteAddress} not supported`);
      return requestNotSupported(request);
    }
    return processor(request, conn);
  };

  private forget(conn: TcpConnection): void {
    if (!this.connections.delete(conn)) return;
    for (const listener of this.closeListeners) {
      try {
        listener(conn);
      } catch (err) {
        log.error(`${this.opts.name} server: connection close listener failed for ${conn.remoteAddress}`, err);
      }
    }
  }
}
