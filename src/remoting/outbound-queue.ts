// A connection's outbound bytes: commands are encoded straight into reusable chunks, and a write
// hands the kernel a whole chunk of frames. One copy per frame (header and body into the chunk),
// one allocation per chunk rather than per frame, and no concatenation before the write.

import assert from "node:assert";
import type { RemotingCommand } from "./command.ts";
import type { TransportSocket } from "./transport.ts";

/**
 * Size of a standard chunk. A write carries up to this much; a frame larger than this gets a
 * chunk of its own size (not pooled).
 */
export const OUTBOUND_CHUNK_SIZE_BYTES = 64 * 1024;

/**
 * Standard chunks kept for reuse, process-wide (JS is single-threaded; a written chunk is free
 * at once because the socket keeps no reference). Bounds the pool to 4 MiB.
 */
const FREE_CHUNKS_MAX = 64;
const freeChunks: Uint8Array[] = [];

function takeChunk(): Uint8Array {
  // Not zeroed: only the bytes frames were written to are ever read.
  return freeChunks.pop() ?? Buffer.allocUnsafe(OUTBOUND_CHUNK_SIZE_BYTES);
}

function releaseChunk(chunk: Uint8Array): void {
  if (chunk.length === OUTBOUND_CHUNK_SIZE_BYTES && freeChunks.length < FREE_CHUNKS_MAX) freeChunks.push(chunk);
}

/** What writeTo() achieved. */
export const WriteOutcome = {
  /** Everything queued was written. */
  EMPTY: 0,
  /** The socket took part; the rest waits for `drain`. */
  BLOCKED: 1,
  /** The socket refused to write (closed). */
  REFUSED: 2,
} as const;
export type WriteOutcome = (typeof WriteOutcome)[keyof typeof WriteOutcome];

export class OutboundQueue {
  /** chunks[0] is written from `headOffset`; the last one is filled up to `tailFill`. */
  private chunks: Uint8Array[] = [];
  /** Filled bytes of every chunk but the last (whose fill is `tailFill`). */
  private fills: number[] = [];
  private headOffset = 0;
  private tailFill = 0;
  private queued = 0;

  /** Bytes appended and not yet taken by the socket. */
  get queuedBytes(): number {
    return this.queued;
  }

  /**
   * Appends `cmd`, whose frame measureFrame() just sized as `frameSizeBytes` (the caller checks
   * its cap with that size first).
   */
  append(cmd: RemotingCommand, frameSizeBytes: number): void {
    const last = this.chunks.length - 1;
    let chunk = last >= 0 ? this.chunks[last]! : undefined;
    if (chunk === undefined || this.tailFill + frameSizeBytes > chunk.length) {
      if (chunk !== undefined) this.fills.push(this.tailFill);
      chunk = frameSizeBytes > OUTBOUND_CHUNK_SIZE_BYTES ? Buffer.allocUnsafe(frameSizeBytes) : takeChunk();
      this.chunks.push(chunk);
      this.tailFill = 0;
    }
    const end = cmd.writeFrame(chunk, this.tailFill);
    assert(end === this.tailFill + frameSizeBytes, "frame size differs from its measure");
    this.tailFill = end;
    this.queued += frameSizeBytes;
  }

  /** Writes queued bytes, chunk by chunk, until none is left or the socket takes no more. */
  writeTo(socket: TransportSocket): WriteOutcome {
    // Bounded: every pass removes a chunk or returns.
    while (this.chunks.length > 0) {
      const chunk = this.chunks[0]!;
      const fill = this.chunks.length === 1 ? this.tailFill : this.fills[0]!;
      const remaining = fill - this.headOffset;
      const written = remaining > 0 ? socket.write(chunk, this.headOffset, remaining) : 0;
      if (written < 0) return WriteOutcome.REFUSED;
      assert(written <= remaining, "socket took more bytes than offered");
      this.queued -= written;
      this.headOffset += written;
      if (written < remaining) return WriteOutcome.BLOCKED;
      this.chunks.shift();
      if (this.chunks.length === 0) this.tailFill = 0;
      else this.fills.shift();
      this.headOffset = 0;
      releaseChunk(chunk);
    }
    assert(this.queued === 0, "empty queue with bytes counted");
    return WriteOutcome.EMPTY;
  }

  /** Drops everything queued (the connection closed). */
  clear(): void {
    for (const chunk of this.chunks) releaseChunk(chunk);
    this.chunks = [];
    this.fills = [];
    this.headOffset = 0;
    this.tailFill = 0;
    this.queued = 0;
  }
}
