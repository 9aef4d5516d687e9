// TCP connect on Bun's native sockets. Their write takes what fits and buffers nothing, which is
// exactly the TransportSocket contract, so the Bun socket is handed over as it is.

import type { SocketEventHandler, TransportSocket } from "./transport.ts";

/** What a Bun client socket carries: the handler of its events, once open. */
interface ClientSocketData {
  handler: SocketEventHandler | undefined;
}

export async function connectBun<H extends SocketEventHandler>(
  host: string,
  port: number,
  onOpen: (socket: TransportSocket) => H,
): Promise<H> {
  let opened: H | undefined;
  const socket = await Bun.connect<ClientSocketData>({
    hostname: host,
    port,
    data: { handler: undefined },
    socket: {
      open: (socket) => {
        opened = onOpen(socket);
        socket.data = { handler: opened };
      },
      data: (socket, chunk) => socket.data.handler?.handleData(chunk),
      drain: (socket) => socket.data.handler?.handleDrain(),
      close: (socket, error) => socket.data.handler?.handleSocketClosed(error),
      error: (socket, error) => socket.data.handler?.handleSocketError(error),
      // Failure is reported through the rejected Bun.connect promise.
      connectError: () => {},
    },
  });
  if (opened === undefined) {
    socket.terminate();
    throw new Error(`connect to ${host}:${port} produced no open socket`);
  }
  return opened;
}
