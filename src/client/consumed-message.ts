// Messages as consumers see them: stored records decoded from pull / query bodies (protocol doc 5.5),
// bodies inflated when compressed, msgId = UNIQ_KEY when present (Java MessageClientExt).

import { inflateSync } from "node:zlib";
import { decodeRecordAt } from "../common/message-codec.ts";
import { type MessageExt, Prop, SysFlag } from "../common/message.ts";
import { MQClientError, errorText } from "./errors.ts";

/** Most records accepted from one response body; a pull asks for 32, a query for 64. */
const MAX_RECORDS_PER_BODY = 100_000;

/**
 * Largest body a compressed message inflates to, 16 MiB: bounds memory on a zip bomb. The Java
 * producer checks maxMessageSize (4 MiB) on the body before compressing it, so real bodies stay
 * far below; past it the message is delivered raw.
 */
export const MAX_INFLATED_BODY_SIZE_BYTES = 16 * 1024 * 1024;

export interface ConsumedMessage extends MessageExt {
  /** Broker offset message id (the stored `msgId` of MessageExt). */
  offsetMsgId: string;
  /** Broker name the message was pulled from ("" when unknown, e.g. a query by id). */
  brokerName: string;
  tags: string | undefined;
  keys: string | undefined;
}

/** Walks back-to-back stored records; throws MQClientError naming the bad record. */
export function decodeMessages(body: Uint8Array | undefined, brokerName: string): ConsumedMessage[] {
  const out: ConsumedMessage[] = [];
  if (!body) return out;
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let pos = 0;
  while (pos < body.length) {
    if (out.length >= MAX_RECORDS_PER_BODY) throw new MQClientError(`body holds more than ${MAX_RECORDS_PER_BODY} records`);
    if (pos + 4 > body.length) throw new MQClientError(`record ${out.length}: truncated size field at byte ${pos}`);
    const size = view.getInt32(pos);
    if (size <= 0 || pos + size > body.length) throw new MQClientError(`record ${out.length}: size ${size} out of range at byte ${pos}`);
    let ext: MessageExt;
    try {
      ext = decodeRecordAt(body, view, pos, pos + size);
    } catch (err) {
      throw new MQClientError(`record ${out.length}: ${errorText(err)}`, { cause: err });
    }
    out.push(toConsumed(ext, brokerName));
    pos += size;
  }
  return out;
}

/**
 * Turns a freshly decoded record into what consumers see. It takes `ext` over (the fields are
 * added in place, no copy of the record per message): pass an object nothing else holds.
 */
export function toConsumed(ext: MessageExt, brokerName: string): ConsumedMessage {
  const offsetMsgId = ext.msgId;
  if ((ext.sysFlag & SysFlag.COMPRESSED) !== 0 && ext.body.length > 0) inflateBody(ext);
  const consumed = ext as ConsumedMessage;
  consumed.msgId = ext.properties[Prop.UNIQ_KEY] ?? offsetMsgId;
  consumed.offsetMsgId = offsetMsgId;
  consumed.brokerName = brokerName;
  consumed.tags = ext.properties[Prop.TAGS];
  consumed.keys = ext.properties[Prop.KEYS];
  return consumed;
}

/**
 * Inflates a compressed body in place. A body that does not inflate (not zlib, or larger than
 * MAX_INFLATED_BODY_SIZE_BYTES) is delivered raw, the COMPRESSED flag left set so the listener can
 * tell: throwing here would fail the pull and retry the same offset forever, stalling the queue.
 */
function inflateBody(ext: MessageExt): void {
  // 0x300 (and 0 from older clients) mean zlib; LZ4/ZSTD are not produced by 4.x clients.
  try {
    ext.body = new Uint8Array(inflateSync(ext.body, { maxOutputLength: MAX_INFLATED_BODY_SIZE_BYTES }));
  } catch {
    // Delivered raw: the body stays as stored.
  }
}
