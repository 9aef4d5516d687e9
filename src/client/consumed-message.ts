// Messages as consumers see them: stored records decoded from pull / query bodies (protocol doc 5.5),
// bodies inflated when compressed, msgId = UNIQ_KEY when present (Java MessageClientExt).

import { inflateSync } from "node:zlib";
import { decodeRecord } from "../common/message-codec.ts";
import { type MessageExt, Prop, SysFlag } from "../common/message.ts";
import { MQClientError, errorText } from "./errors.ts";

/** Most records accepted from one response body; a pull asks for 32, a query for 64. */
const MAX_RECORDS_PER_BODY = 100_000;

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
  let pos = 0;
  while (pos < body.length) {
    if (out.length >= MAX_RECORDS_PER_BODY) throw new MQClientError(`body holds more than ${MAX_RECORDS_PER_BODY} records`);
    if (pos + 4 > body.length) throw new MQClientError(`record ${out.length}: truncated size field at byte ${pos}`);
    const size = new DataView(body.buffer, body.byteOffset + pos, 4).getInt32(0);
    if (size <= 0 || pos + size > body.length) throw new MQClientError(`record ${out.length}: size ${size} out of range at byte ${pos}`);
    let ext: MessageExt;
    try {
      ext = decodeRecord(body.subarray(pos, pos + size));
    } catch (err) {
      throw new MQClientError(`record ${out.length}: ${errorText(err)}`, { cause: err });
    }
    out.push(toConsumed(ext, brokerName));
    pos += size;
  }
  return out;
}

export function toConsumed(ext: MessageExt, brokerName: string): ConsumedMessage {
  const offsetMsgId = ext.msgId;
  let body = ext.body;
  if ((ext.sysFlag & SysFlag.COMPRESSED) !== 0 && body.length > 0) {
    // 0x300 (and 0 from older clients) mean zlib; LZ4/ZSTD are not produced by 4.x clients.
    try {
      body = new Uint8Array(inflateSync(body));
    } catch (err) {
      throw new MQClientError(`message ${offsetMsgId}: compressed body does not inflate: ${errorText(err)}`, { cause: err });
    }
  }
  return {
    ...ext,
    body,
    msgId: ext.properties[Prop.UNIQ_KEY] ?? offsetMsgId,
    offsetMsgId,
    brokerName,
    tags: ext.properties[Prop.TAGS],
    keys: ext.properties[Prop.KEYS],
  };
}
