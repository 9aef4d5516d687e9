// SEND_BATCH_MESSAGE body (Java MessageDecoder.encodeMessages, protocol doc 5.4); the broker side
// decodes it with decodeBatchBody in common/message-codec.ts.

import { type Message, propertiesToString } from "../common/message.ts";

/** TOTALSIZE, MAGICCODE, BODYCRC, FLAG, body length: five int32 before the body. */
const MEMBER_HEADER_BYTES = 20;
const PROPERTIES_LENGTH_BYTES = 2;

const textEncoder = new TextEncoder();

export function encodeBatchBody(messages: readonly Message[]): Uint8Array {
  const props = messages.map((m) => textEncoder.encode(propertiesToString(m.properties)));
  let total = 0;
  for (let i = 0; i < messages.length; i++) total += MEMBER_HEADER_BYTES + messages[i]!.body.length + PROPERTIES_LENGTH_BYTES + props[i]!.length;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let pos = 0;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    const p = props[i]!;
    if (p.length > 0x7fff) throw new Error(`batch member ${i}: properties of ${p.length} bytes exceed the int16 length`);
    const size = MEMBER_HEADER_BYTES + m.body.length + PROPERTIES_LENGTH_BYTES + p.length;
    view.setInt32(pos, size);
    // MAGICCODE and BODYCRC stay 0: the broker ignores them.
    view.setInt32(pos + 12, m.flag);
    view.setInt32(pos + 16, m.body.length);
    out.set(m.body, pos + MEMBER_HEADER_BYTES);
    view.setInt16(pos + MEMBER_HEADER_BYTES + m.body.length, p.length);
    out.set(p, pos + MEMBER_HEADER_BYTES + m.body.length + PROPERTIES_LENGTH_BYTES);
    pos += size;
  }
  return out;
}
