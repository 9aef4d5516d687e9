// Message model shared by broker, store and client: properties codec, sysFlag bits, tag hash
// (protocol doc 5.2, 5.3, 5.7). Byte-level record encoding lives in message-codec.ts.

/** Well-known property names (MessageConst.java). */
export const Prop = {
  KEYS: "KEYS",
  TAGS: "TAGS",
  WAIT: "WAIT",
  DELAY: "DELAY",
  RETRY_TOPIC: "RETRY_TOPIC",
  REAL_TOPIC: "REAL_TOPIC",
  REAL_QID: "REAL_QID",
  TRAN_MSG: "TRAN_MSG",
  PGROUP: "PGROUP",
  MIN_OFFSET: "MIN_OFFSET",
  MAX_OFFSET: "MAX_OFFSET",
  ORIGIN_MESSAGE_ID: "ORIGIN_MESSAGE_ID",
  RECONSUME_TIME: "RECONSUME_TIME",
  MAX_RECONSUME_TIMES: "MAX_RECONSUME_TIMES",
  MSG_REGION: "MSG_REGION",
  TRACE_ON: "TRACE_ON",
  UNIQ_KEY: "UNIQ_KEY",
  CONSUME_START_TIME: "CONSUME_START_TIME",
  TRAN_PREPARED_QUEUE_OFFSET: "TRAN_PREPARED_QUEUE_OFFSET",
  TRANSACTION_CHECK_TIMES: "TRANSACTION_CHECK_TIMES",
  CHECK_IMMUNITY_TIME_IN_SECONDS: "CHECK_IMMUNITY_TIME_IN_SECONDS",
  CLUSTER: "CLUSTER",
  // Request–reply (RocketMQ 4.6+).
  CORRELATION_ID: "CORRELATION_ID",
  REPLY_TO_CLIENT: "REPLY_TO_CLIENT",
  /** Java PROPERTY_MESSAGE_TTL: the requester's timeout in ms. */
  TTL: "TTL",
  /** Java PROPERTY_REPLY_MESSAGE_ARRIVE_TIME: when the requester's client received the reply. */
  ARRIVE_TIME: "ARRIVE_TIME",
  PUSH_REPLY_TIME: "PUSH_REPLY_TIME",
  /** Java PROPERTY_MESSAGE_TYPE: REPLY_MESSAGE_FLAG marks a reply. */
  MSG_TYPE: "MSG_TYPE",
} as const;

/** Java MixAll.REPLY_MESSAGE_FLAG: the MSG_TYPE of a reply, which producers send as SEND_REPLY_MESSAGE(_V2). */
export const REPLY_MESSAGE_FLAG = "reply";

/** Message sysFlag bits (MessageSysFlag.java). */
export const SysFlag = {
  COMPRESSED: 0x1,
  MULTI_TAGS: 0x2,
  TRANSACTION_NOT_TYPE: 0x0,
  TRANSACTION_PREPARED_TYPE: 0x4,
  TRANSACTION_COMMIT_TYPE: 0x8,
  TRANSACTION_ROLLBACK_TYPE: 0xc,
  BORNHOST_V6: 0x10,
  STOREHOSTADDRESS_V6: 0x20,
  COMPRESSION_ZLIB: 0x300,
} as const;

/** `sysFlag & 0xC`: one of the TRANSACTION_*_TYPE values. */
export function transactionType(sysFlag: number): number {
  return sysFlag & 0xc;
}

/** Pull request sysFlag bits (PullSysFlag.java). */
export const PullSysFlag = {
  COMMIT_OFFSET: 0x1,
  SUSPEND: 0x2,
  SUBSCRIPTION: 0x4,
  CLASS_FILTER: 0x8,
  LITE_PULL: 0x10,
} as const;

/** How a pull went (Java PullStatus): what consumers see, and what the transaction check reads. */
export type PullStatus = "FOUND" | "NO_NEW_MSG" | "NO_MATCHED_MSG" | "OFFSET_ILLEGAL";

const NAME_VALUE_SEPARATOR = "\u0001";
const PROPERTY_SEPARATOR = "\u0002";

/** Largest UTF-8 properties string: it is stored with an int16 length. */
export const MAX_PROPERTIES_SIZE_BYTES = 32_767;

export type Properties = Record<string, string>;

/** Java MessageDecoder.messageProperties2String: name 0x01 value 0x02 ..., without the final 0x02. */
export function propertiesToString(properties: Properties): string {
  let out = "";
  // for-in, not Object.entries: no pair arrays on the send path.
  for (const k in properties) {
    const v = properties[k];
    if (v === undefined || v === null) continue;
    if (out.length > 0) out += PROPERTY_SEPARATOR;
    out += k + NAME_VALUE_SEPARATOR + v;
  }
  return out;
}

/** A well-known name's slot: its length, first two and last UTF-16 units (distinct for all of Prop). */
function nameSlot(text: string, start: number, length: number): number {
  return (length << 24) | ((text.charCodeAt(start) & 0xff) << 16) | ((text.charCodeAt(start + 1) & 0xff) << 8) | (text.charCodeAt(start + length - 1) & 0xff);
}

/**
 * The Prop names by slot. A property name used as an object key is interned by the engine; a
 * fresh slice costs a hash and table lookup per property, the literal from here does not (about
 * half of stringToProperties' time on the send and consume paths).
 */
const KNOWN_NAMES = new Map<number, string>();
for (const name of Object.values(Prop)) {
  const slot = nameSlot(name, 0, name.length);
  if (KNOWN_NAMES.has(slot)) throw new Error(`property names ${name} and ${KNOWN_NAMES.get(slot)} share a slot`);
  KNOWN_NAMES.set(slot, name);
}

/** Java MessageDecoder.string2messageProperties, tolerant of a trailing 0x02 (ali-ons). */
export function stringToProperties(text: string): Properties {
  const properties: Properties = {};
  // An indexOf walk over the one flat string: no split array, and the name slot is read from it.
  // `sep` is the next name/value separator at or after `start`, searched again only once passed,
  // so fragments without one cost no rescans (linear in the text).
  let sep = -1;
  for (let start = 0; start < text.length; ) {
    if (sep < start) {
      sep = text.indexOf(NAME_VALUE_SEPARATOR, start);
      if (sep < 0) break; // no valid fragment left
    }
    let end = text.indexOf(PROPERTY_SEPARATOR, start);
    if (end < 0) end = text.length;
    // Java skips a fragment without a name or without a value (and so any shorter than 3 chars).
    if (sep > start && sep < end - 1) {
      const length = sep - start;
      const known = length >= 2 ? KNOWN_NAMES.get(nameSlot(text, start, length)) : undefined;
      const name = known !== undefined && known.length === length && text.startsWith(known, start) ? known : text.slice(start, sep);
      properties[name] = text.slice(sep + 1, end);
    }
    start = end + 1;
  }
  return properties;
}

/** Java String.hashCode over UTF-16 code units, 32-bit signed: the consume-queue tags code. */
export function tagsHashCode(tag: string | undefined): number {
  if (!tag) return 0;
  let h = 0;
  for (let i = 0; i < tag.length; i++) h = (Math.imul(h, 31) + tag.charCodeAt(i)) | 0;
  return h;
}

/** A message as a producer builds it (Java `Message`). */
export interface Message {
  topic: string;
  body: Uint8Array;
  flag: number;
  properties: Properties;
}

/**
 * A message on its way into the store (Java `MessageExtBrokerInner`).
 * Hosts are "ip:port" strings; IPv6 addresses as "[v6]:port".
 */
export interface MessageInner {
  topic: string;
  queueId: number;
  flag: number;
  body: Uint8Array;
  properties: Properties;
  /** propertiesToString(properties), computed once by whoever builds the message. */
  propertiesString: string;
  tagsCode: number;
  sysFlag: number;
  bornTimestamp: number;
  bornHost: string;
  storeHost: string;
  reconsumeTimes: number;
  preparedTransactionOffset: number;
}

/** A stored message as decoded from a commit-log record (Java `MessageExt`). */
export interface MessageExt extends MessageInner {
  storeSize: number;
  bodyCRC: number;
  queueOffset: number;
  commitLogOffset: number;
  storeTimestamp: number;
  /** Offset message id: store host + commit-log offset in uppercase hex (protocol doc 5.6). */
  msgId: string;
}
