// Master HA server (Java HAService.AcceptSocketService + connection list): accepts slaves on
// haListenPort and drives their connections from one timer.

import type { Socket, TCPSocketListener } from "bun";
import { createLogger } from "../../log.ts";
import { HAConnection, type HAConnectionHost } from "./ha-connection.ts";
import type { HAConfig, HAConnectionRuntimeInfo, HAStore } from "./ha-types.ts";
import { guardedTask } from "../../common/guarded-task.ts";

const log = createLogger("ha-master");

/**
 * How often idle connections look for new data, send heartbeats and check housekeeping (ms).
 * Java's transfer threads poll every 100 ms when a put does not wake them.
 */
const SERVER_TICK_INTERVAL_MS = 100;

/** Slaves accepted at once; a broker group has a handful, more means something is wrong. */
const SLAVE_CONNECTIONS_MAX = 64;

interface SocketState {
  connection?: HAConnection;
}

export class HAServer implements HAConnectionHost {
  private listener: TCPSocketListener<SocketState> | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly connections = new Set<HAConnection>();

  constructor(
    readonly store: HAStore,
    readonly config: HAConfig,
    private readonly onAck: (offset: number) => void,
  ) {}

  /** Listens on `hostname`:haListenPort; returns the bound port (useful with haListenPort 0). */
  start(hostname = "0.0.0.0"): number {
    if (this.listener !== undefined) throw new Error("HA server already started");
    this.listener = Bun.listen<SocketState>({
      hostname,
      port: this.config.haListenPort,
      socket: {
        open: (socket) => this.accept(socket),
        data: (socket, chunk) => socket.data?.connection?.onData(chunk),
        drain: (socket) => socket.data?.connection?.onDrain(),
        close: (socket) => socket.data?.connection?.close("slave closed the connection"),
        error: (socket, error) => socket.data?.connection?.close(`socket error: ${error.message}`),
      },
    });
    this.timer = setInterval(guardedTask("HA server tick", () => this.tick()), SERVER_TICK_INTERVAL_MS);
    log.info(`HA server listening on ${hostname}:${this.listener.port}`);
    return this.listener.port;
  }

  get port(): number {
    if (this.listener === undefined) throw new Error("HA server not started");
    return this.listener.port;
  }

  /** Slaves currently connected (Java connectionCount). */
  connectionCount(): number {
    return this.connections.size;
  }

  /** New commit-log data: push it now instead of at the next tick. */
  wakeup(): void {
    for (const connection of this.connections) connection.pump();
  }

  runtimeInfo(masterPutWhere: number): HAConnectionRuntimeInfo[] {
    return [...this.connections].map((connection) => connection.runtimeInfo(masterPutWhere));
  }

  onSlaveAck(offset: number): void {
    this.onAck(offset);
  }

  onClosed(connection: HAConnection): void {
    this.connections.delete(connection);
  }

  shutdown(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    for (const connection of [...this.connections]) connection.close("master shutting down");
    this.listener?.stop(true);
    this.listener = undefined;
  }

  private accept(socket: Socket<SocketState>): void {
    if (this.connections.size >= SLAVE_CONNECTIONS_MAX) {
      log.warn(`refusing HA connection from ${socket.remoteAddress}: ${SLAVE_CONNECTIONS_MAX} slaves already connected`);
      socket.end();
      return;
    }
    socket.setNoDelay(true);
    const connection = new HAConnection(socket as Socket<unknown>, this);
    socket.data = { connection }; // a fresh object: a listener-level data object would be shared
    this.connections.add(connection);
    log.info(`slave connected from ${connection.addr}`);
  }

  private tick(): void {
    const nowMs = Date.now();
    for (const connection of [...this.connections]) connection.tick(nowMs);
  }
}
