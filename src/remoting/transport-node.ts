// TCP connect on node:net, for the client library under Node. Node's socket.write buffers whatever
// it is given; the adapter below turns that into the take-what-fits contract the connection's
// outbound queue expects, so the queue's cap still bounds memory when the peer stops reading.

import net from "node:net";
import type { SocketEventHandler, TransportSocket } from "./transport.ts";

class NodeTransportSocket implements TransportSocket {
  constructor(private readonly socket: net.Socket) {}

  get remoteAddress(): string {
    return this.socket.remoteAddress ?? "";
  }

  get remotePort(): number {
    return this.socket.remotePort ?? 0;
  }

  write(data: Uint8Array, byteOffset: number, byteLength: number): number {
    if (this.socket.destroyed || this.socket.writableEnded) return -1;
    // A write returned false (Node's buffer is past its high-water mark) and 'drain' is pending:
    // take nothing, so further bytes stay in the connection's queue where its cap counts them.
    // Node's own buffer thus holds at most the high-water mark plus one write batch.
    if (this.socket.writableNeedDrain) return 0;
    // Node keeps a reference until sent, and the connection reuses its outbound chunks once a
    // write returns: Node gets a copy.
    this.socket.write(Buffer.from(data.subarray(byteOffset, byteOffset + byteLength)));
    return byteLength;
  }

  setNoDelay(noDelay: boolean): net.Socket {
    return this.socket.setNoDelay(noDelay);
  }

  end(): void {
    this.socket.end();
  }

  terminate(): void {
    this.socket.destroy();
  }
}

export function connectNode<H extends SocketEventHandler>(
  host: string,
  port: number,
  onOpen: (socket: TransportSocket) => H,
): Promise<H> {
  return new Promise<H>((resolve, reject) => {
    const socket = net.connect({ host, port });
    let handler: H | undefined;
    socket.once("connect", () => {
      handler = onOpen(new NodeTransportSocket(socket));
      resolve(handler);
    });
    // A plain Uint8Array view: Buffer's slice() shares memory where Uint8Array's copies.
    socket.on("data", (chunk: Buffer) => handler?.handleData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
    socket.on("drain", () => handler?.handleDrain());
    // Before 'connect' an error is the connect failure; 'close' follows every error.
    socket.on("error", (err: Error) => (handler === undefined ? reject(err) : handler.handleSocketError(err)));
    socket.on("close", () => handler?.handleSocketClosed());
  });
}
