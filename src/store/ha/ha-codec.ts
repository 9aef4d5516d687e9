// The HA byte protocol (storage doc §12.9): plain TCP, big-endian, no remoting frames.
//   slave -> master: 8-byte int64 "I have everything below this commit-log offset", repeated.
//   master -> slave: 12-byte header (int64 offset of the first data byte, int32 data length) then the
//                    raw commit-log bytes; length 0 is a heartbeat.
// Both decoders accept the stream split anywhere.

export const OFFSET_REPORT_SIZE_BYTES = 8;
export const TRANSFER_HEADER_SIZE_BYTES = 12;

/**
 * Largest data frame a slave accepts. Java's slave reads into a 4 MiB buffer, so no working master
 * sends more; anything larger means a corrupt stream.
 */
export const TRANSFER_FRAME_MAX_SIZE_BYTES = 4 * 1024 * 1024;

const TWO_POW_32 = 0x1_0000_0000;

/** Reads a non-negative int64 at `pos`; -1 when negative or beyond 2^53 (offsets are JS numbers). */
function readOffset(bytes: Uint8Array, pos: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset + pos, 8);
  const high = view.getInt32(0);
  const low = view.getUint32(4);
  if (high < 0 || high > 0x1f_ffff) return -1;
  return high * TWO_POW_32 + low;
}

function writeOffset(view: DataView, pos: number, offset: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new Error(`HA offset out of range: ${offset}`);
  view.setUint32(pos, Math.floor(offset / TWO_POW_32));
  view.setUint32(pos + 4, offset % TWO_POW_32);
}

export function encodeOffsetReport(offset: number): Uint8Array {
  const bytes = new Uint8Array(OFFSET_REPORT_SIZE_BYTES);
  writeOffset(new DataView(bytes.buffer), 0, offset);
  return bytes;
}

export function encodeTransferHeader(offset: number, dataSizeBytes: number): Uint8Array {
  if (!Number.isInteger(dataSizeBytes) || dataSizeBytes < 0 || dataSizeBytes > 0x7fff_ffff) {
    throw new Error(`HA frame size out of range: ${dataSizeBytes}`);
  }
  const bytes = new Uint8Array(TRANSFER_HEADER_SIZE_BYTES);
  const view = new DataView(bytes.buffer);
  writeOffset(view, 0, offset);
  view.setInt32(8, dataSizeBytes);
  return bytes;
}

/** Master side: the slave's offset reports. Only the last complete one of a read matters (as in Java). */
export class OffsetReportDecoder {
  private readonly partial = new Uint8Array(OFFSET_REPORT_SIZE_BYTES);
  private partialFill = 0;

  /**
   * Consumes `chunk`; returns the last complete offset in it, -1 when none completed, or an error
   * remark when a report is not a valid offset.
   */
  push(chunk: Uint8Array): number | string {
    let last = -1;
    for (let i = 0; i < chunk.length; i++) {
      this.partial[this.partialFill++] = chunk[i]!;
      if (this.partialFill < OFFSET_REPORT_SIZE_BYTES) continue;
      this.partialFill = 0;
      const offset = readOffset(this.partial, 0);
      if (offset < 0) return "slave reported an offset that is negative or above 2^53";
      last = offset;
    }
    return last;
  }
}

/**
 * Called per complete frame; `data` is a view valid only during the call (it may point into the
 * socket's read buffer or a reused buffer). Return an error remark to stop decoding.
 */
export type TransferFrameHandler = (offset: number, data: Uint8Array) => string | undefined;

/** Slave side: the master's frames. Whole frames inside one read are handed over without copying. */
export class TransferFrameDecoder {
  private readonly header = new Uint8Array(TRANSFER_HEADER_SIZE_BYTES);
  private headerFill = 0;
  /** Offset and size of the frame whose header is complete and whose data is still arriving; size -1 = none. */
  private frameOffset = 0;
  private frameSize = -1;
  /** Reassembly buffer for data split across reads; grows up to TRANSFER_FRAME_MAX_SIZE_BYTES. */
  private body: Uint8Array = new Uint8Array(0);
  private bodyFill = 0;

  constructor(private readonly maxFrameSizeBytes: number = TRANSFER_FRAME_MAX_SIZE_BYTES) {}

  /** Consumes `chunk`, calling `onFrame` per complete frame; returns an error remark or undefined. */
  push(chunk: Uint8Array, onFrame: TransferFrameHandler): string | undefined {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.frameSize < 0) {
        const take = Math.min(TRANSFER_HEADER_SIZE_BYTES - this.headerFill, chunk.length - pos);
        this.header.set(chunk.subarray(pos, pos + take), this.headerFill);
        this.headerFill += take;
        pos += take;
        if (this.headerFill < TRANSFER_HEADER_SIZE_BYTES) break;
        this.headerFill = 0;
        const error = this.startFrame();
        if (error !== undefined) return error;
        if (this.frameSize === 0 || chunk.length - pos >= this.frameSize) {
          const data = chunk.subarray(pos, pos + this.frameSize);
          pos += this.frameSize;
          this.frameSize = -1;
          const handlerError = onFrame(this.frameOffset, data);
          if (handlerError !== undefined) return handlerError;
        }
        continue;
      }
      if (this.body.length < this.frameSize) {
        if (this.bodyFill !== 0) throw new Error("HA decoder invariant: reassembly buffer grown mid-frame");
        this.body = new Uint8Array(Math.min(this.maxFrameSizeBytes, Math.max(this.frameSize, this.body.length * 2)));
      }
      const take = Math.min(this.frameSize - this.bodyFill, chunk.length - pos);
      this.body.set(chunk.subarray(pos, pos + take), this.bodyFill);
      this.bodyFill += take;
      pos += take;
      if (this.bodyFill < this.frameSize) break;
      const data = this.body.subarray(0, this.frameSize);
      this.frameSize = -1;
      this.bodyFill = 0;
      const handlerError = onFrame(this.frameOffset, data);
      if (handlerError !== undefined) return handlerError;
    }
    return undefined;
  }

  private startFrame(): string | undefined {
    const offset = readOffset(this.header, 0);
    if (offset < 0) return "master sent a frame offset that is negative or above 2^53";
    const size = new DataView(this.header.buffer).getInt32(8);
    if (size < 0 || size > this.maxFrameSizeBytes) {
      return `master sent a frame of ${size} bytes (limit ${this.maxFrameSizeBytes})`;
    }
    this.frameOffset = offset;
    this.frameSize = size;
    this.bodyFill = 0;
    return undefined;
  }
}
