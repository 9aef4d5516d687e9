// SEND_BATCH_MESSAGE body (Java MessageDecoder.encodeMessages, protocol doc 5.4); the broker copies
// the members into records with measureBatch/writeBatch in common/message-codec.ts.

import { BATCH_MEMBER_HEADER_SIZE_BYTES, MAX_RECORD_PROPERTIES_SIZE_BYTES } from "../common/message-codec.ts";
import type { Message, Properties } from "../common/message.ts";

const PROPERTIES_LENGTH_SIZE_BYTES = 2;
/** A UTF-16 unit is at most 3 UTF-8 bytes: the bound that sizes the body before it is encoded. */
const MAX_UTF8_BYTES_PER_UNIT = 3;
const NAME_VALUE_SEPARATOR_BYTE = 0x01;
const PROPERTY_SEPARATOR_BYTE = 0x02;
const ASCII_MAX = 0x7f;

const textEncoder = new TextEncoder();

/** UTF-16 units of propertiesToString(properties): name, separator, value per pair, separators between. */
function propertiesUnits(properties: Properties): number {
  let units = 0;
  for (const k in properties) {
    const v = properties[k];
    if (v === undefined || v === null) continue;
    units += (units > 0 ? 1 : 0) + k.length + 1 + v.length;
  }
  return units;
}

/** Writes `text` as UTF-8 at `pos` (room for 3 bytes per unit is the caller's); returns the bytes written. */
function writeUtf8(out: Uint8Array, pos: number, text: string): number {
  // ASCII (names, ids, tags) by a loop: no native call, and no string built for the whole properties.
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > ASCII_MAX) return i + textEncoder.encodeInto(text.slice(i), out.subarray(pos + i)).written;
    out[pos + i] = c;
  }
  return text.length;
}

/** The UTF-8 bytes of propertiesToString(properties), written at `pos`; returns their length. */
function writeProperties(out: Uint8Array, pos: number, properties: Properties): number {
  let p = pos;
  for (const k in properties) {
    const v = properties[k];
    if (v === undefined || v === null) continue;
    if (p > pos) out[p++] = PROPERTY_SEPARATOR_BYTE;
    p += writeUtf8(out, p, k);
    out[p++] = NAME_VALUE_SEPARATOR_BYTE;
    p += writeUtf8(out, p, v);
  }
  return p - pos;
}

/** Smallest pooled batch buffer: a batch of 32 members of 1 KiB with their properties fits. */
const BATCH_BUFFER_MIN_SIZE_BYTES = 64 * 1024;
/** Larger buffers are not kept: a rare huge batch must not pin its memory. */
const BATCH_BUFFER_MAX_POOLED_BYTES = 1024 * 1024;
/** Free buffers kept (≤ 16 MiB): about the batches a producer has in flight at once. */
const BATCH_BUFFERS_MAX_FREE = 16;

/**
 * Reused batch-body buffers. A fresh 36 KiB allocation per batch of 32 came with fresh pages (page
 * faults on the first write) and GC pressure: ~20 % of the bench client's time. A buffer is given
 * back once its send has settled; every attempt's frame was copied out of it by then, because a
 * connection encodes a request's frame when it takes the request.
 */
export class BatchBufferPool {
  private readonly free: Buffer[] = [];

  take(minSizeBytes: number): Buffer {
    const last = this.free[this.free.length - 1];
    if (last !== undefined && last.length >= minSizeBytes) return this.free.pop()!;
    return Buffer.allocUnsafe(Math.max(minSizeBytes, BATCH_BUFFER_MIN_SIZE_BYTES));
  }

  give(buffer: Buffer): void {
    if (buffer.length <= BATCH_BUFFER_MAX_POOLED_BYTES && this.free.length < BATCH_BUFFERS_MAX_FREE) this.free.push(buffer);
  }
}

/**
 * Encodes the members in one buffer from `take` (default: a fresh one), sized by an upper bound:
 * properties are encoded straight into place (no string or array per member), and the returned
 * view ends at the last member.
 */
export function encodeBatchBody(messages: readonly Message[], take: (minSizeBytes: number) => Buffer = (n) => Buffer.allocUnsafe(n)): Uint8Array {
  let boundBytes = 0;
  for (const m of messages) {
    boundBytes += BATCH_MEMBER_HEADER_SIZE_BYTES + m.body.length + PROPERTIES_LENGTH_SIZE_BYTES + propertiesUnits(m.properties) * MAX_UTF8_BYTES_PER_UNIT;
  }
  const out = take(boundBytes); // every byte up to the returned end is written
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let pos = 0;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    const propertiesAt = pos + BATCH_MEMBER_HEADER_SIZE_BYTES + m.body.length + PROPERTIES_LENGTH_SIZE_BYTES;
    const propertiesLength = writeProperties(out, propertiesAt, m.properties);
    if (propertiesLength > MAX_RECORD_PROPERTIES_SIZE_BYTES) {
      throw new Error(`batch member ${i}: properties of ${propertiesLength} bytes exceed the int16 length`);
    }
    const size = propertiesAt + propertiesLength - pos;
    view.setInt32(pos, size);
    // MAGICCODE and BODYCRC are 0: the broker ignores them (Java writes 0 too).
    view.setInt32(pos + 4, 0);
    view.setInt32(pos + 8, 0);
    view.setInt32(pos + 12, m.flag);
    view.setInt32(pos + 16, m.body.length);
    out.set(m.body, pos + BATCH_MEMBER_HEADER_SIZE_BYTES);
    view.setInt16(propertiesAt - PROPERTIES_LENGTH_SIZE_BYTES, propertiesLength);
    pos += size;
  }
  return out.subarray(0, pos);
}
