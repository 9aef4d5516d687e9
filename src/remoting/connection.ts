// One TCP connection, shared by the server and client sides: frame decoding, request dispatch to a
// processor, response matching by opaque, and an outbound queue drained on `drain` because the
// socket's write takes what fits and buffers nothing (Bun natively; Node through transport-node.ts).

import { CHANNEL_MAX_IDLE_MS } from "../common/limits.ts";
import { createLogger } from "../log.ts";
import { ResponseCode } from "./codes.ts";
import { FLAG_RESPONSE, RemotingCommand } from "./command.ts";
import { RemotingSendError, RemotingTimeoutError, RequestRefusedError } from "./errors.ts";
import { FrameDecoder } from "./frame.ts";
import { OutboundQueue, WriteOutcome } from "./outbound-queue.ts";
import type { TransportSocket } from "./transport.ts";

const log = createLogger("remoting");

export interface Connection {
  readonly id: number;
  /** "ip:port" of the peer. */
  readonly remoteAddress: string;
  readonly closed: boolean;
  /** Queues a frame (response or request); false if closed or the outbound cap was hit (then it closes). */
  send(cmd: RemotingCommand): boolean;
  /** Sends a request on this connection and awaits the response with the same opaque. */
  invoke(request: RemotingCommand, timeoutMs: number): Promise<RemotingCommand>;
  /** Sets the oneway flag and sends; nothing is awaited (a closed connection drops it). */
  invokeOneway(request: RemotingCommand): void;
  close(): void;
}

/**
 * Answers a request. Returns the response, or null when it answers later through conn.send()
 * (long polling). For oneway requests a returned response is dropped. A throw becomes SYSTEM_ERROR
 * with the error message as remark. The response goes out in the request's serializeType.
 */
export type Processor = (
  request: RemotingCommand,
  conn: Connection,
) => RemotingCommand | null | Promise<RemotingCommand | null>;

/** Outbound bytes queued per connection before it is closed as a slow reader (a peer that stopped reading). */
const OUTBOUND_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Queued bytes that are written at once instead of at the end of the tick. Small enough that a
 * burst (64 sends made in one tick) leaves in a few writes, so the peer starts on the first ones
 * while this side builds the rest (both cores busy instead of a lockstep ping-pong); large enough
 * that a write carries many frames.
 */
const FLUSH_NOW_BYTES = 16 * 1024;

/** In-flight invokes per connection (Java bounds async invokes at 65535 with a semaphore). */
const PENDING_INVOKES_MAX = 65_536;

/**
 * Requests of one connection whose processor promise has not settled. Past this the connection is
 * answered SYSTEM_BUSY, like a Java server whose processing queue is full (the broker's send queue holds 10000).
 */
export const INFLIGHT_REQUESTS_MAX = 10_000;

/** Java's remark when a request is rejected for load (protocol doc 1.7). */
const SYSTEM_BUSY_REMARK = "[OVERLOAD]system busy, start flow control for a while";

/** What a Bun socket carries: its connection, once open. */
export interface SocketData {
  conn: TcpConnection | undefined;
}

export interface ConnectionOptions {
  /** Who owns the connection, for log lines ("namesrv server", "client"). */
  ownerName: string;
  socket: TransportSocket;
  /** Handles every inbound request. */
  processor: Processor;
  maxOutboundBytes?: number;
  idleTimeoutMs?: number;
  maxFrameSizeBytes?: number;
  maxInflightRequests?: number;
  onClose: (conn: TcpConnection) => void;
}

interface PendingInvoke {
  resolve: (response: RemotingCommand) => void;
  reject: (err: Error) => void;
  /** performance.now() past which the invoke fails with RemotingTimeoutError. */
  deadlineMs: number;
  timeoutMs: number;
  code: number;
}

let nextConnectionId = 0;

/** The response for a request code nobody handles, worded like Java's framework. */
export function requestNotSupported(request: RemotingCommand): RemotingCommand {
  return RemotingCommand.responseTo(
    request,
    ResponseCode.REQUEST_CODE_NOT_SUPPORTED,
    ` request type ${request.code} not supported`,
  );
}

/** "ip:port", with an IPv4-mapped IPv6 address shown as plain IPv4 (as Java prints it). */
function socketPeerAddress(socket: TransportSocket): string {
  const ip = socket.remoteAddress.startsWith("::ffff:") ? socket.remoteAddress.slice(7) : socket.remoteAddress;
  return `${ip}:${socket.remotePort}`;
}

export class TcpConnection implements Connection {
  readonly id = ++nextConnectionId;
  readonly remoteAddress: string;
  private isClosed = false;
  private readonly socket: TransportSocket;
  private readonly ownerName: string;
  private readonly processor: Processor;
  private readonly maxOutboundBytes: number;
  private readonly idleTimeoutMs: number;
  private readonly onCloseListener: (conn: TcpConnection) => void;
  private readonly decoder: FrameDecoder;
  private readonly pending = new Map<number, PendingInvoke>();
  /**
   * One timer for all pending invokes, armed at the earliest deadline (a timer per invoke costs a
   * setTimeout and a clearTimeout on every request of the hot path).
   */
  private deadlineTimer: ReturnType<typeof setTimeout> | undefined;
  private deadlineTimerAtMs = Infinity;
  private readonly maxInflightRequests: number;
  /** Requests whose processor returned a promise that has not settled. */
  private inflightRequests = 0;

  private readonly outbound = new OutboundQueue();
  private flushScheduled = false;
  private waitingForDrain = false;

  private lastActivityMs = Date.now();
  private idleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(opts: ConnectionOptions) {
    this.socket = opts.socket;
    this.remoteAddress = socketPeerAddress(opts.socket);
    this.ownerName = opts.ownerName;
    this.processor = opts.processor;
    this.maxOutboundBytes = opts.maxOutboundBytes ?? OUTBOUND_MAX_BYTES;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? CHANNEL_MAX_IDLE_MS;
    this.onCloseListener = opts.onClose;
    this.decoder = new FrameDecoder(opts.maxFrameSizeBytes);
    this.maxInflightRequests = opts.maxInflightRequests ?? INFLIGHT_REQUESTS_MAX;
    if (!(this.maxOutboundBytes > 0)) throw new RangeError(`maxOutboundBytes ${this.maxOutboundBytes} must be positive`);
    if (!(this.idleTimeoutMs > 0)) throw new RangeError(`idleTimeoutMs ${this.idleTimeoutMs} must be positive`);
    opts.socket.setNoDelay(true);
    this.armIdleTimer(this.idleTimeoutMs);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Bytes waiting in the outbound queue (not yet taken by the socket). */
  get queuedBytes(): number {
    return this.outbound.queuedBytes;
  }

  send(cmd: RemotingCommand): boolean {
    if (this.isClosed) return false;
    return this.enqueue(cmd, cmd.measureFrame());
  }

  invoke(request: RemotingCommand, timeoutMs: number): Promise<RemotingCommand> {
    if (this.isClosed) return Promise.reject(new RemotingSendError(`connection to ${this.remoteAddress} is closed`));
    if (request.isResponse || request.isOneway) {
      return Promise.reject(new TypeError(`invoke needs a two-way request, got flag ${request.flag}`));
    }
    const opaque = request.opaque;
    if (this.pending.has(opaque)) {
      return Promise.reject(new RemotingSendError(`opaque ${opaque} is already in flight on ${this.remoteAddress}`));
    }
    if (this.pending.size >= PENDING_INVOKES_MAX) {
      return Promise.reject(new RemotingSendError(`${PENDING_INVOKES_MAX} invokes already in flight on ${this.remoteAddress}`));
    }
    // Measuring first: a request that cannot be encoded leaves nothing registered.
    let frameSizeBytes: number;
    try {
      frameSizeBytes = request.measureFrame();
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<RemotingCommand>((resolve, reject) => {
      const deadlineMs = performance.now() + timeoutMs;
      this.pending.set(opaque, { resolve, reject, deadlineMs, timeoutMs, code: request.code });
      if (deadlineMs < this.deadlineTimerAtMs) this.armDeadlineTimer(deadlineMs);
      if (!this.enqueue(request, frameSizeBytes)) {
        // A failed send closed the connection, which already failed every pending invoke.
        const entry = this.pending.get(opaque);
        if (entry !== undefined) {
          this.pending.delete(opaque);
          reject(new RemotingSendError(`could not send to ${this.remoteAddress}: connection closed`));
        }
      }
    });
  }

  invokeOneway(request: RemotingCommand): void {
    request.markOneway();
    this.send(request);
  }

  close(): void {
    this.shutdown("closed locally", false);
  }

  // ---- socket events, called by the server / client socket handlers ----

  handleData(chunk: Uint8Array): void {
    if (this.isClosed) return;
    this.lastActivityMs = Date.now();
    let frames: Uint8Array[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.fail(`bad frame: ${errorMessage(err)}`);
      return;
    }
    for (const frame of frames) {
      if (this.isClosed) return;
      let cmd: RemotingCommand;
      try {
        cmd = RemotingCommand.decode(frame);
      } catch (err) {
        this.fail(`undecodable frame: ${errorMessage(err)}`);
        return;
      }
      if (cmd.isResponse) this.completeInvoke(cmd);
      else this.dispatchRequest(cmd);
    }
  }

  handleDrain(): void {
    this.waitingForDrain = false;
    this.flush();
  }

  handleSocketClosed(error?: Error): void {
    if (error !== undefined) {
      this.handleSocketError(error);
      return;
    }
    if (!this.isClosed && this.decoder.hasPartialFrame) {
      log.warn(`${this.ownerName}: ${this.remoteAddress} closed the connection in the middle of a frame`);
    }
    this.shutdown("closed by peer", false);
  }

  handleSocketError(error: Error): void {
    if (this.isClosed) return;
    // Resets and the like are the peer's business: a warning, not an error of ours.
    log.warn(`${this.ownerName}: connection to ${this.remoteAddress} failed: ${error.message}`);
    this.shutdown(`socket error: ${error.message}`, true);
  }

  // ---- inbound ----

  private completeInvoke(response: RemotingCommand): void {
    const entry = this.pending.get(response.opaque);
    if (entry === undefined) {
      // Late response after a timeout, or a peer bug: Java logs and drops it too.
      log.warn(`${this.ownerName}: response from ${this.remoteAddress} matches no pending request (opaque ${response.opaque}, code ${response.code})`);
      return;
    }
    this.pending.delete(response.opaque);
    // The deadline timer stays armed (unref'd): re-arming it for every request of a
    // one-at-a-time caller cost a clearTimeout and a setTimeout per request; when it fires it
    // finds nothing expired and arms for the earliest remaining deadline, if any.
    entry.resolve(response);
  }

  private armDeadlineTimer(atMs: number): void {
    clearTimeout(this.deadlineTimer);
    this.deadlineTimerAtMs = atMs;
    this.deadlineTimer = setTimeout(this.expireInvokes, Math.max(0, atMs - performance.now()));
    // The socket, not this timer, keeps the process alive.
    this.deadlineTimer.unref();
  }

  private disarmDeadlineTimer(): void {
    clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    this.deadlineTimerAtMs = Infinity;
  }

  /** Fails the invokes past their deadline and re-arms for the earliest remaining one. */
  private readonly expireInvokes = (): void => {
    this.deadlineTimer = undefined;
    this.deadlineTimerAtMs = Infinity;
    const now = performance.now();
    let next = Infinity;
    // Bounded by PENDING_INVOKES_MAX entries; deleting the visited entry is safe during iteration.
    for (const [opaque, entry] of this.pending) {
      if (entry.deadlineMs <= now) {
        this.pending.delete(opaque);
        entry.reject(new RemotingTimeoutError(
          `no response from ${this.remoteAddress} within ${entry.timeoutMs} ms (request code ${entry.code}, opaque ${opaque})`,
        ));
      } else if (entry.deadlineMs < next) {
        next = entry.deadlineMs;
      }
    }
    if (next !== Infinity) this.armDeadlineTimer(next);
  };

  private dispatchRequest(request: RemotingCommand): void {
    if (this.inflightRequests >= this.maxInflightRequests) {
      log.warn(`${this.ownerName}: ${this.inflightRequests} requests from ${this.remoteAddress} still processing, rejecting code ${request.code}`);
      if (!request.isOneway) this.send(RemotingCommand.responseTo(request, ResponseCode.SYSTEM_BUSY, SYSTEM_BUSY_REMARK));
      return;
    }
    let result: RemotingCommand | null | Promise<RemotingCommand | null>;
    try {
      result = this.processor(request, this);
    } catch (err) {
      this.answerError(request, err);
      return;
    }
    if (result instanceof Promise) {
      this.inflightRequests++;
      result.then(
        (response) => {
          this.inflightRequests--;
          this.answer(request, response);
        },
        (err: unknown) => {
          this.inflightRequests--;
          this.answerError(request, err);
        },
      );
    } else {
      this.answer(request, result);
    }
  }

  private answer(request: RemotingCommand, response: RemotingCommand | null | undefined): void {
    if (response === null || response === undefined || request.isOneway) return;
    try {
      response.opaque = request.opaque;
      response.flag |= FLAG_RESPONSE;
      response.serializeType = request.serializeType;
      this.send(response);
    } catch (err) {
      // A response that cannot be encoded (e.g. an over-long header) still gets the caller an answer.
      this.answerError(request, err);
    }
  }

  private answerError(request: RemotingCommand, err: unknown): void {
    if (err instanceof RequestRefusedError) {
      log.warn(`${this.ownerName}: request code ${request.code} from ${this.remoteAddress} refused: ${err.message}`);
      if (!request.isOneway) this.send(RemotingCommand.responseTo(request, err.code, err.message));
      return;
    }
    log.error(`${this.ownerName}: processing request code ${request.code} from ${this.remoteAddress} failed`, err);
    if (request.isOneway) return;
    this.send(RemotingCommand.responseTo(request, ResponseCode.SYSTEM_ERROR, errorMessage(err)));
  }

  // ---- outbound ----

  /** Queues `cmd`, whose frame measureFrame() sized as `frameSizeBytes`. */
  private enqueue(cmd: RemotingCommand, frameSizeBytes: number): boolean {
    const queuedBytes = this.outbound.queuedBytes;
    if (queuedBytes + frameSizeBytes > this.maxOutboundBytes) {
      this.fail(`outbound queue would hold ${queuedBytes + frameSizeBytes} bytes, over the cap of ${this.maxOutboundBytes} bytes (peer not reading)`);
      return false;
    }
    this.outbound.append(cmd, frameSizeBytes);
    if (this.waitingForDrain) return true;
    if (this.outbound.queuedBytes >= FLUSH_NOW_BYTES) {
      // A full batch is waiting: hand it to the kernel now rather than holding a burst in memory.
      this.flush();
      return !this.isClosed;
    } else if (!this.flushScheduled) {
      // Frames sent in the same tick (e.g. all responses to one chunk) leave in one write.
      this.flushScheduled = true;
      queueMicrotask(this.scheduledFlush);
    }
    return true;
  }

  private readonly scheduledFlush = (): void => {
    this.flushScheduled = false;
    if (!this.waitingForDrain) this.flush();
  };

  /** Writes queued frames until the queue is empty or the socket takes no more (then `drain` resumes). */
  private flush(): void {
    if (this.isClosed) return;
    const before = this.outbound.queuedBytes;
    const outcome = this.outbound.writeTo(this.socket);
    if (outcome === WriteOutcome.REFUSED) {
      this.fail("socket refused a write");
      return;
    }
    if (this.outbound.queuedBytes < before) this.lastActivityMs = Date.now();
    if (outcome === WriteOutcome.BLOCKED) this.waitingForDrain = true;
  }

  // ---- lifecycle ----

  private armIdleTimer(delayMs: number): void {
    this.idleTimer = setTimeout(this.checkIdle, delayMs);
    // The socket, not this timer, keeps the process alive.
    this.idleTimer.unref();
  }

  private readonly checkIdle = (): void => {
    if (this.isClosed) return;
    const idleMs = Date.now() - this.lastActivityMs;
    if (idleMs >= this.idleTimeoutMs) {
      log.warn(`${this.ownerName}: closing connection to ${this.remoteAddress}: no read or write for ${idleMs} ms`);
      this.shutdown(`idle for ${idleMs} ms`, false);
    } else {
      this.armIdleTimer(this.idleTimeoutMs - idleMs);
    }
  };

  /** Closes because of a protocol or resource problem, with a log line naming the peer. */
  private fail(reason: string): void {
    if (this.isClosed) return;
    log.error(`${this.ownerName}: closing connection to ${this.remoteAddress}: ${reason}`);
    this.shutdown(reason, true);
  }

  private shutdown(reason: string, abort: boolean): void {
    if (this.isClosed) return;
    this.isClosed = true;
    clearTimeout(this.idleTimer);
    this.outbound.clear();
    const failure = new RemotingSendError(`connection to ${this.remoteAddress} closed: ${reason}`);
    this.disarmDeadlineTimer();
    for (const entry of this.pending.values()) entry.reject(failure);
    this.pending.clear();
    // Abort drops whatever the kernel still holds for a peer we gave up on; otherwise FIN after it.
    if (abort) this.socket.terminate();
    else this.socket.end();
    this.onCloseListener(this);
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
