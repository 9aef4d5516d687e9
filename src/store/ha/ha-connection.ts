// Master side of one slave connection (Java HAConnection): reads the slave's offset reports and
// pushes commit-log bytes from where the slave stands, one frame in flight at a time.

import type { Socket } from "bun";
import { createLogger } from "../../log.ts";
import { encodeTransferHeader, OffsetReportDecoder, TRANSFER_HEADER_SIZE_BYTES } from "./ha-codec.ts";
import { HASocketWriter } from "./ha-socket-writer.ts";
import type { HAConfig, HAConnectionRuntimeInfo, HAStore } from "./ha-types.ts";

const log = createLogger("ha-master");

/**
 * Frames sent per pump before yielding to the event loop (32 × 32 KiB = 1 MiB): a fast slave on
 * loopback must not starve client requests while it catches up.
 */
const PUMP_MAX_FRAMES_PER_TURN = 32;

export interface HAConnectionHost {
  readonly store: HAStore;
  readonly config: HAConfig;
  /** A slave reported it holds everything below `offset`. */
  onSlaveAck(offset: number): void;
  onClosed(connection: HAConnection): void;
}

export class HAConnection {
  readonly addr: string;
  /** First offset the slave reported (where it started); -1 until the first report. */
  slaveRequestOffset = -1;
  /** Last offset the slave reported; -1 until the first report. */
  slaveAckOffset = -1;
  private nextTransferFromWhere = -1;
  private transferredBytes = 0;
  private lastReadMs = Date.now();
  private lastWriteMs = Date.now();
  private closed = false;
  private pumpScheduled = false;
  private warnedMissingData = false;
  private readonly decoder = new OffsetReportDecoder();
  private readonly writer: HASocketWriter;

  constructor(
    private readonly socket: Socket<unknown>,
    private readonly host: HAConnectionHost,
  ) {
    this.addr = `${socket.remoteAddress}:${socket.remotePort}`;
    // One frame is in flight at most: its header plus one batch of data.
    this.writer = new HASocketWriter(socket, TRANSFER_HEADER_SIZE_BYTES + host.config.haTransferBatchSize, (bytes) => {
      this.lastWriteMs = Date.now();
      this.transferredBytes += bytes;
    });
  }

  isClosed(): boolean {
    return this.closed;
  }

  /** Bytes from the slave: offset reports. */
  onData(chunk: Uint8Array): void {
    if (this.closed) return;
    this.lastReadMs = Date.now();
    const decoded = this.decoder.push(chunk);
    if (typeof decoded === "string") return this.close(decoded);
    if (decoded < 0) return;
    const masterMaxOffset = this.host.store.getMaxPhyOffset();
    if (decoded > masterMaxOffset) {
      return this.close(`slave reported offset ${decoded} beyond the master's commit log end ${masterMaxOffset}`);
    }
    this.slaveAckOffset = decoded;
    if (this.slaveRequestOffset < 0) {
      this.slaveRequestOffset = decoded;
      log.info(`slave ${this.addr} requests offset ${decoded}`);
    }
    this.host.onSlaveAck(decoded);
    this.pump();
  }

  onDrain(): void {
    if (this.closed) return;
    if (!this.writer.drain()) return this.close("socket closed while writing");
    this.pump();
  }

  /** Periodic: housekeeping, and heartbeats/new data for an idle connection. */
  tick(nowMs: number): void {
    if (this.closed) return;
    if (nowMs - this.lastReadMs > this.host.config.haHousekeepingInterval) {
      return this.close(`nothing read for ${nowMs - this.lastReadMs} ms`);
    }
    this.pump();
  }

  /** Sends frames while the socket takes them and there is data; a heartbeat when idle too long. */
  pump(): void {
    if (this.closed || this.slaveRequestOffset < 0 || !this.writer.isIdle()) return;
    if (this.nextTransferFromWhere < 0) this.nextTransferFromWhere = this.firstTransferOffset();
    const batchSizeBytes = this.host.config.haTransferBatchSize;
    for (let frames = 0; frames < PUMP_MAX_FRAMES_PER_TURN; frames++) {
      if (!this.writer.isIdle()) return; // the drain handler resumes
      const data = this.host.store.getCommitLogData(this.nextTransferFromWhere);
      if (data === undefined || data.length === 0) {
        this.warnIfDataGone();
        if (Date.now() - this.lastWriteMs > this.host.config.haSendHeartbeatInterval) {
          this.send(encodeTransferHeader(this.nextTransferFromWhere, 0), undefined);
        }
        return;
      }
      const size = Math.min(data.length, batchSizeBytes);
      if (!(size > 0)) throw new Error(`HA invariant: empty data frame at ${this.nextTransferFromWhere}`);
      const offset = this.nextTransferFromWhere;
      this.nextTransferFromWhere += size;
      if (!this.send(encodeTransferHeader(offset, size), data.subarray(0, size))) return;
    }
    this.schedulePump();
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    log.info(`closing slave connection ${this.addr}: ${reason}`);
    this.writer.close();
    this.socket.end();
    this.host.onClosed(this);
  }

  runtimeInfo(masterPutWhere: number): HAConnectionRuntimeInfo {
    const diff = masterPutWhere - this.slaveAckOffset;
    return {
      addr: this.addr,
      slaveAckOffset: this.slaveAckOffset,
      diff,
      inSync: this.slaveAckOffset >= 0 && diff < this.host.config.haSlaveFallbehindMax,
      transferFromWhere: this.nextTransferFromWhere,
      transferredBytes: this.transferredBytes,
    };
  }

  /** A slave that reports 0 is empty: feed it from the start of the master's last segment only. */
  private firstTransferOffset(): number {
    if (this.slaveRequestOffset !== 0) return this.slaveRequestOffset;
    const maxOffset = this.host.store.getMaxPhyOffset();
    const start = maxOffset - (maxOffset % this.host.config.mappedFileSizeCommitLog);
    log.info(`slave ${this.addr} is empty: transfer from ${start} (start of the last commit-log segment)`);
    return start;
  }

  private send(header: Uint8Array, data: Uint8Array | undefined): boolean {
    if (this.writer.write(header) && (data === undefined || this.writer.write(data))) return true;
    this.close("socket closed or write queue full");
    return false;
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Java behaves the same (the slave waits forever); say why once instead of silently stalling. */
  private warnIfDataGone(): void {
    if (this.warnedMissingData || this.nextTransferFromWhere >= this.host.store.getMinPhyOffset()) return;
    this.warnedMissingData = true;
    log.warn(`slave ${this.addr} needs offset ${this.nextTransferFromWhere}, below the oldest commit-log segment; it cannot catch up`);
  }
}
