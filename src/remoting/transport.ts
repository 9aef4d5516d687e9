// The seam between a connection and the runtime's TCP sockets: Bun.connect under Bun, node:net
// under Node, so the client library runs on both. The server side stays on Bun.listen.

import { connectBun } from "./transport-bun.ts";
import { connectNode } from "./transport-node.ts";

/**
 * The socket operations a TcpConnection needs. A Bun socket has them as they are; Node's is wrapped
 * (transport-node.ts).
 */
export interface TransportSocket {
  /** Peer IP as the runtime reports it (may be IPv4-mapped IPv6). */
  readonly remoteAddress: string;
  readonly remotePort: number;
  /**
   * Offers `byteLength` bytes from `byteOffset`; returns how many the socket took (0 .. byteLength,
   * the rest waits for the next `drain`), or a negative number when it refuses to write at all.
   */
  write(data: Uint8Array, byteOffset: number, byteLength: number): number;
  setNoDelay(noDelay: boolean): unknown;
  /** Closes after what was written has left (FIN). */
  end(): unknown;
  /** Closes now, dropping what is not yet sent. */
  terminate(): unknown;
}

/** Socket events, delivered to what `onOpen` returned (a TcpConnection). */
export interface SocketEventHandler {
  handleData(chunk: Uint8Array): void;
  /** The socket can take bytes again after a short write. */
  handleDrain(): void;
  handleSocketClosed(error?: Error): void;
  handleSocketError(error: Error): void;
}

/**
 * Connects to host:port; once connected, `onOpen` makes the handler of the socket's events and the
 * promise resolves with it. Rejects when the connect fails; it has no timeout of its own.
 */
export type TcpConnector = <H extends SocketEventHandler>(
  host: string,
  port: number,
  onOpen: (socket: TransportSocket) => H,
) => Promise<H>;

/** The runtime's connector: Bun's native sockets when running on Bun, node:net otherwise. */
export const connectTcp: TcpConnector = typeof Bun !== "undefined" ? connectBun : connectNode;
