// Slave side of replication (Java HAService.HAClient): connects to the master's HA port, reports
// its commit-log end, appends the master's bytes at the same offsets, and reconnects when the
// connection is lost or the stream stops matching its own commit log.

import type { Socket } from "bun";
import { createLogger } from "../../log.ts";
import { encodeOffsetReport, OFFSET_REPORT_SIZE_BYTES, TransferFrameDecoder } from "./ha-codec.ts";
import { HASocketWriter } from "./ha-socket-writer.ts";
import type { HAClientRuntimeInfo, HAConfig, HAStore } from "./ha-types.ts";
import { guardedTask } from "../../common/guarded-task.ts";

const log = createLogger("ha-slave");

/** How often the client checks for a due offset report or a silent master (ms). */
const CLIENT_TICK_INTERVAL_MS = 500;

/** First reconnect delay after a lost or refused connection (ms); doubles per failure. */
const RECONNECT_MIN_DELAY_MS = 200;

/** Reconnect delay cap (ms): Java's HAClient retries every 5 s. */
const RECONNECT_MAX_DELAY_MS = 5000;

/** A connect attempt still pending after this long is abandoned (Java's HA connect timeout, ms). */
const CONNECT_TIMEOUT_MS = 5000;

/** Unsent reports allowed before the master is deemed stuck; reports are tiny, so a few suffice. */
const REPORT_QUEUE_MAX_BYTES = 64 * OFFSET_REPORT_SIZE_BYTES;

interface MasterAddress {
  hostname: string;
  port: number;
}

/** Parses `host:port` or `[ipv6]:port`; undefined when malformed. */
export function parseHAAddress(address: string): MasterAddress | undefined {
  const colon = address.lastIndexOf(":");
  if (colon <= 0) return undefined;
  let hostname = address.slice(0, colon).trim();
  if (hostname.startsWith("[") && hostname.endsWith("]")) hostname = hostname.slice(1, -1);
  const port = Number(address.slice(colon + 1).trim());
  if (hostname === "" || !Number.isInteger(port) || port <= 0 || port > 65535) return undefined;
  return { hostname, port };
}

export class HAClient {
  private masterAddress: string | null = null;
  private socket: Socket<unknown> | undefined;
  private writer: HASocketWriter | undefined;
  private decoder = new TransferFrameDecoder();
  /** Bumped on every connect and close, so callbacks of an abandoned socket are ignored. */
  private generation = 0;
  private connecting = false;
  private connectStartedMs = 0;
  private started = false;
  private currentReportedOffset = 0;
  private lastReadMs = 0;
  private lastWriteMs = 0;
  private reconnectDelayMs = RECONNECT_MIN_DELAY_MS;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private tickTimer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly store: HAStore,
    private readonly config: HAConfig,
  ) {}

  start(): void {
    if (this.started) return;
    this.started = true;
    if (this.masterAddress === null && this.config.haMasterAddress) this.masterAddress = this.config.haMasterAddress;
    this.tickTimer = setInterval(guardedTask("HA client tick", () => this.tick()), CLIENT_TICK_INTERVAL_MS);
    this.connect();
  }

  /** The master's HA address changed (REGISTER_BROKER's haServerAddr, or an operator). */
  updateMasterAddress(address: string): void {
    if (address === "" || address === this.masterAddress) return;
    log.info(`master HA address ${this.masterAddress ?? "(none)"} -> ${address}`);
    this.masterAddress = address;
    if (this.socket !== undefined || this.connecting) this.closeMaster("master address changed");
    this.reconnectDelayMs = RECONNECT_MIN_DELAY_MS;
    this.scheduleReconnect(0);
  }

  runtimeInfo(): HAClientRuntimeInfo {
    return {
      masterAddr: this.masterAddress ?? "",
      maxOffset: this.store.getMaxPhyOffset(),
      lastReadTimestamp: this.lastReadMs,
      lastWriteTimestamp: this.lastWriteMs,
      isActivated: this.socket !== undefined,
    };
  }

  shutdown(): void {
    this.started = false;
    if (this.tickTimer !== undefined) clearInterval(this.tickTimer);
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.tickTimer = undefined;
    this.reconnectTimer = undefined;
    this.closeMaster("slave shutting down");
  }

  private connect(): void {
    if (!this.started || this.socket !== undefined || this.connecting || this.masterAddress === null) return;
    const target = parseHAAddress(this.masterAddress);
    if (target === undefined) {
      log.error(`malformed master HA address "${this.masterAddress}" (expected host:port)`);
      return;
    }
    const generation = ++this.generation;
    const current = () => generation === this.generation;
    this.connecting = true;
    this.connectStartedMs = Date.now();
    Bun.connect({
      hostname: target.hostname,
      port: target.port,
      socket: {
        open: (socket) => {
          if (current()) this.onOpen(socket as Socket<unknown>);
          else socket.end();
        },
        data: (_socket, chunk) => {
          if (current()) this.onData(chunk);
        },
        drain: () => {
          if (current() && this.writer !== undefined && !this.writer.drain()) this.closeMaster("socket closed while writing");
        },
        close: () => {
          if (current()) this.closeMaster("master closed the connection");
        },
        error: (_socket, error) => {
          if (current()) this.closeMaster(`socket error: ${error.message}`);
        },
      },
    }).catch((error: unknown) => {
      if (!current()) return;
      this.connecting = false;
      log.warn(`connecting to master ${this.masterAddress} failed: ${error instanceof Error ? error.message : String(error)}`);
      this.scheduleReconnect(this.nextReconnectDelay());
    });
  }

  private onOpen(socket: Socket<unknown>): void {
    this.connecting = false;
    this.socket = socket;
    socket.setNoDelay(true);
    this.writer = new HASocketWriter(socket, REPORT_QUEUE_MAX_BYTES, () => {
      this.lastWriteMs = Date.now();
    });
    this.decoder = new TransferFrameDecoder();
    this.lastReadMs = Date.now();
    this.currentReportedOffset = this.store.getMaxPhyOffset();
    log.info(`connected to master ${this.masterAddress}, reporting offset ${this.currentReportedOffset}`);
    // Java waits a heartbeat interval before the first report; reporting now starts the transfer sooner.
    this.report(this.currentReportedOffset);
  }

  private onData(chunk: Uint8Array): void {
    this.lastReadMs = Date.now();
    const error = this.decoder.push(chunk, (offset, data) => this.applyFrame(offset, data));
    if (error !== undefined) return this.closeMaster(error);
    this.reconnectDelayMs = RECONNECT_MIN_DELAY_MS;
    // One report per read covers every frame in it: the ack only needs the latest end.
    const maxOffset = this.store.getMaxPhyOffset();
    if (maxOffset > this.currentReportedOffset) {
      this.currentReportedOffset = maxOffset;
      this.report(maxOffset);
    }
  }

  private applyFrame(offset: number, data: Uint8Array): string | undefined {
    const slaveMaxOffset = this.store.getMaxPhyOffset();
    // An empty slave accepts any start (the master begins at its last segment); otherwise the
    // stream must continue exactly where this commit log ends.
    if (slaveMaxOffset !== 0 && slaveMaxOffset !== offset) {
      return `master pushed offset ${offset} but this slave's commit log ends at ${slaveMaxOffset}`;
    }
    if (data.length === 0) return undefined;
    if (!this.store.appendToCommitLog(offset, data)) return `appending ${data.length} bytes at offset ${offset} failed`;
    return undefined;
  }

  private report(offset: number): void {
    if (this.writer === undefined) return;
    if (!this.writer.write(encodeOffsetReport(offset))) this.closeMaster("could not send the offset report");
  }

  private tick(): void {
    const nowMs = Date.now();
    if (this.connecting && nowMs - this.connectStartedMs > CONNECT_TIMEOUT_MS) {
      return this.closeMaster(`connect timed out after ${CONNECT_TIMEOUT_MS} ms`);
    }
    if (this.socket === undefined) return;
    if (nowMs - this.lastReadMs > this.config.haHousekeepingInterval) {
      return this.closeMaster(`master silent for ${nowMs - this.lastReadMs} ms`);
    }
    if (nowMs - this.lastWriteMs > this.config.haSendHeartbeatInterval) this.report(this.currentReportedOffset);
  }

  private closeMaster(reason: string): void {
    const socket = this.socket;
    const wasActive = socket !== undefined || this.connecting;
    this.generation++;
    this.connecting = false;
    this.socket = undefined;
    this.writer?.close();
    this.writer = undefined;
    if (socket !== undefined) socket.end();
    if (wasActive) log.info(`disconnected from master ${this.masterAddress}: ${reason}`);
    if (this.started) this.scheduleReconnect(this.nextReconnectDelay());
  }

  private nextReconnectDelay(): number {
    const delay = this.reconnectDelayMs;
    this.reconnectDelayMs = Math.min(RECONNECT_MAX_DELAY_MS, this.reconnectDelayMs * 2);
    return delay;
  }

  private scheduleReconnect(delayMs: number): void {
    if (!this.started) return;
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect();
    }, delayMs);
  }
}
