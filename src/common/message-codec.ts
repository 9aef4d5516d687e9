// Store-format message records (storage doc §3.1/§3.2, protocol doc §5.5), SEND_BATCH_MESSAGE
// bodies (protocol doc §5.4) and offset message ids (protocol doc §5.6). Integers are big-endian.
// The append path measures a record once, then writes it straight into the mapped segment.

import { crc32 } from "node:zlib";
import { MAX_PROPERTIES_SIZE_BYTES, SysFlag, stringToProperties, tagsHashCode, type MessageExt, type MessageInner } from "./message.ts";

/** MAGICCODE of a message record (Java MESSAGE_MAGIC_CODE, -626843481). */
export const MESSAGE_MAGIC_CODE = 0xdaa320a7;
/** MAGICCODE of the end-of-segment blank record (Java BLANK_MAGIC_CODE, -875286124). */
export const BLANK_MAGIC_CODE = 0xcbd43194;
/** Blank record: int32 remaining size + int32 magic. */
export const BLANK_RECORD_SIZE_BYTES = 8;
/** Topic length is one signed byte. */
export const MAX_TOPIC_SIZE_BYTES = 127;
/** Properties length is a signed int16: the same limit as message.ts's. */
export const MAX_RECORD_PROPERTIES_SIZE_BYTES = MAX_PROPERTIES_SIZE_BYTES;
/** Record bytes that are neither body, topic, properties nor hosts: 4+4+4+4+4+8+8+4+8+8+4+8+4+1+2. */
const FIXED_PART_SIZE_BYTES = 75;
const IPV4_HOST_SIZE_BYTES = 8;
const IPV6_HOST_SIZE_BYTES = 20;
/** Parsed "ip:port" strings kept; brokers see few distinct hosts, the bound stops a leak. */
const HOST_CACHE_MAX_ENTRIES = 4096;
const TWO_POW_32 = 0x1_0000_0000;

/** Record field positions that do not depend on the host sizes. */
export const RecordPos = {
  TOTALSIZE: 0,
  MAGICCODE: 4,
  BODYCRC: 8,
  QUEUEID: 12,
  FLAG: 16,
  QUEUEOFFSET: 20,
  PHYSICALOFFSET: 28,
  SYSFLAG: 36,
  BORNTIMESTAMP: 40,
  BORNHOST: 48,
} as const;

export class CodecError extends Error {}

/** An address in record form: 4 or 16 address bytes and a port. */
export interface HostBytes {
  readonly address: Uint8Array;
  readonly port: number;
  readonly v6: boolean;
  /** Uppercase hex of address + int32 port: the prefix of offset msgIds. */
  readonly msgIdPrefix: string;
  /** msgIdPrefix as Latin-1 bytes (a batch's msgIds are written as bytes). */
  readonly msgIdPrefixBytes: Uint8Array;
}

const hostCache = new Map<string, HostBytes>();
/** The last host parsed: most puts in a row share it, and an identity check beats a Map lookup. */
let lastHostText = "";
let lastHost: HostBytes | undefined;
/** Uppercase hex of every byte value, for msgIds on the append path. */
const HEX_BYTE = Array.from({ length: 256 }, (_, b) => b.toString(16).toUpperCase().padStart(2, "0"));
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += HEX_BYTE[b];
  return out;
}

function uint32Hex(value: number): string {
  return HEX_BYTE[value >>> 24]! + HEX_BYTE[(value >>> 16) & 0xff]! + HEX_BYTE[(value >>> 8) & 0xff]! + HEX_BYTE[value & 0xff]!;
}

function parseIPv4(text: string): Uint8Array | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i]!;
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    out[i] = Number(part);
  }
  return out;
}

function parseIPv6(text: string): Uint8Array | undefined {
  let head = text;
  let tail4: Uint8Array | undefined;
  const lastColon = text.lastIndexOf(":");
  if (text.indexOf(".", lastColon) >= 0) {
    tail4 = parseIPv4(text.slice(lastColon + 1));
    if (!tail4) return undefined;
    head = text.slice(0, lastColon + 1) + "0:0";
  }
  const halves = head.split("::");
  if (halves.length > 2) return undefined;
  const groupsOf = (s: string) => (s.length === 0 ? [] : s.split(":"));
  const left = groupsOf(halves[0]!);
  const right = halves.length === 2 ? groupsOf(halves[1]!) : [];
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...right];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const g = groups[i]!;
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    const value = parseInt(g, 16);
    out[i * 2] = value >> 8;
    out[i * 2 + 1] = value & 0xff;
  }
  if (tail4) out.set(tail4, 12);
  return out;
}

function isV4Mapped(address: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (address[i] !== 0) return false;
  return address[10] === 0xff && address[11] === 0xff;
}

/**
 * Parses "a.b.c.d:port" or "[v6]:port". IPv4-mapped IPv6 addresses become IPv4 (as Java's
 * InetAddress does), so clients that only read 4-byte hosts (ali-ons) still work.
 */
export function parseHost(host: string): HostBytes {
  if (host === lastHostText && lastHost) return lastHost;
  const cached = hostCache.get(host);
  if (cached) {
    lastHostText = host;
    lastHost = cached;
    return cached;
  }
  const colon = host.lastIndexOf(":");
  const portText = host.slice(colon + 1);
  const port = Number(portText);
  if (colon <= 0 || !/^\d{1,5}$/.test(portText) || port > 65535) throw new CodecError(`bad host "${host}": want ip:port`);
  let ip = host.slice(0, colon);
  if (ip.startsWith("[") && ip.endsWith("]")) ip = ip.slice(1, -1);
  let address = parseIPv4(ip) ?? parseIPv6(ip);
  if (!address) throw new CodecError(`bad host "${host}": not an IPv4 or IPv6 address`);
  if (address.length === 16 && isV4Mapped(address)) address = address.slice(12);
  const portBytes = new Uint8Array([port >>> 24, (port >>> 16) & 0xff, (port >>> 8) & 0xff, port & 0xff]);
  const msgIdPrefix = toHex(address) + toHex(portBytes);
  const parsed: HostBytes = { address, port, v6: address.length === 16, msgIdPrefix, msgIdPrefixBytes: Buffer.from(msgIdPrefix, "latin1") };
  if (hostCache.size >= HOST_CACHE_MAX_ENTRIES) hostCache.clear();
  hostCache.set(host, parsed);
  lastHostText = host;
  lastHost = parsed;
  return parsed;
}

/** "a.b.c.d:port" or "[x:x::x]:port" (RFC 5952 short form). */
export function formatHost(address: Uint8Array, port: number): string {
  if (address.length === 4) return `${address[0]}.${address[1]}.${address[2]}.${address[3]}:${port}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((address[i]! << 8) | address[i + 1]!);
  // Longest run (≥ 2) of zero groups becomes "::".
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  const text =
    bestStart < 0
      ? hex.join(":")
      : `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
  return `[${text}]:${port}`;
}

/**
 * CRC32 (zlib polynomial) & 0x7FFFFFFF, as java.util.zip.CRC32 then masked by the broker.
 * node:zlib's crc32 (Node >= 20.15) so the client library runs on Node; on Bun it is as fast as Bun.hash.crc32.
 */
export function bodyCrc(body: Uint8Array): number {
  return crc32(body) & 0x7fffffff;
}

/** Below this many UTF-16 units a JS scan beats the native call (measured: ~40 ns vs ~140 ns at 90 chars). */
const UTF8_SCAN_MAX_CHARS = 16;

function utf8Length(text: string): number {
  if (text.length > UTF8_SCAN_MAX_CHARS) return Buffer.byteLength(text, "utf8");
  // Short strings (topics): an ASCII scan, no native call.
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return Buffer.byteLength(text, "utf8");
  return text.length;
}

/** What a record needs before it is written: its size and the parsed hosts. */
export interface RecordLayout {
  totalSize: number;
  topicLength: number;
  propertiesLength: number;
  /** msg.sysFlag with the host v6 bits (0x10 / 0x20) set from the addresses. */
  sysFlag: number;
  bornHost: HostBytes;
  storeHost: HostBytes;
}

let lastBornText: string | undefined;
let lastBorn: HostBytes | undefined;
let lastStoreText: string | undefined;
let lastStore: HostBytes | undefined;

/** Measures a record (storage doc §3.1). Size limits are the caller's to check. */
export function measureRecord(msg: MessageInner): RecordLayout {
  // Own last-host checks for each side: born and store host alternate, which defeats parseHost's.
  if (msg.bornHost !== lastBornText) {
    lastBorn = parseHost(msg.bornHost);
    lastBornText = msg.bornHost;
  }
  if (msg.storeHost !== lastStoreText) {
    lastStore = parseHost(msg.storeHost);
    lastStoreText = msg.storeHost;
  }
  const bornHost = lastBorn!;
  const storeHost = lastStore!;
  const topicLength = utf8Length(msg.topic);
  const propertiesLength = utf8Length(msg.propertiesString);
  let sysFlag = msg.sysFlag & ~(SysFlag.BORNHOST_V6 | SysFlag.STOREHOSTADDRESS_V6);
  if (bornHost.v6) sysFlag |= SysFlag.BORNHOST_V6;
  if (storeHost.v6) sysFlag |= SysFlag.STOREHOSTADDRESS_V6;
  const totalSize =
    FIXED_PART_SIZE_BYTES +
    (bornHost.v6 ? IPV6_HOST_SIZE_BYTES : IPV4_HOST_SIZE_BYTES) +
    (storeHost.v6 ? IPV6_HOST_SIZE_BYTES : IPV4_HOST_SIZE_BYTES) +
    msg.body.byteLength +
    topicLength +
    propertiesLength;
  return { totalSize, topicLength, propertiesLength, sysFlag, bornHost, storeHost };
}

/** Writes a JS number as a big-endian int64 (two's complement) without BigInt. */
export function setInt64(view: DataView, pos: number, value: number): void {
  const hi = Math.floor(value / TWO_POW_32);
  view.setInt32(pos, hi);
  view.setUint32(pos + 4, value - hi * TWO_POW_32);
}

/** Reads a big-endian int64 as a JS number (exact below 2^53). */
export function getInt64(view: DataView, pos: number): number {
  return view.getInt32(pos) * TWO_POW_32 + view.getUint32(pos + 4);
}

function writeHost(target: Uint8Array, view: DataView, pos: number, host: HostBytes): number {
  const address = host.address;
  // A byte loop: TypedArray.set costs more than it copies for 4 or 16 bytes.
  for (let i = 0; i < address.length; i++) target[pos + i] = address[i]!;
  view.setInt32(pos + address.length, host.port);
  return pos + address.length + 4;
}

function writeString(target: Uint8Array, pos: number, text: string, byteLength: number): void {
  if (byteLength === text.length) {
    for (let i = 0; i < byteLength; i++) target[pos + i] = text.charCodeAt(i);
    return;
  }
  const { written } = textEncoder.encodeInto(text, target.subarray(pos, pos + byteLength));
  if (written !== byteLength) throw new CodecError(`wrote ${written} of ${byteLength} UTF-8 bytes`);
}

/**
 * Writes one record at `pos` of `target` (`view` must cover the same bytes) and returns its size.
 * `crc` is bodyCrc(msg.body), passed in so a caller can compute it outside its critical section.
 */
export function writeRecord(
  target: Uint8Array,
  view: DataView,
  pos: number,
  msg: MessageInner,
  layout: RecordLayout,
  queueOffset: number,
  physicalOffset: number,
  storeTimestamp: number,
  crc: number,
): number {
  const end = pos + layout.totalSize;
  if (end > target.byteLength) throw new CodecError(`record of ${layout.totalSize} bytes does not fit at ${pos}`);
  view.setInt32(pos, layout.totalSize);
  view.setUint32(pos + 4, MESSAGE_MAGIC_CODE);
  view.setInt32(pos + 8, crc);
  view.setInt32(pos + 12, msg.queueId);
  view.setInt32(pos + 16, msg.flag);
  setInt64(view, pos + 20, queueOffset);
  setInt64(view, pos + 28, physicalOffset);
  view.setInt32(pos + 36, layout.sysFlag);
  setInt64(view, pos + 40, msg.bornTimestamp);
  let p = writeHost(target, view, pos + 48, layout.bornHost);
  setInt64(view, p, storeTimestamp);
  p = writeHost(target, view, p + 8, layout.storeHost);
  view.setInt32(p, msg.reconsumeTimes);
  setInt64(view, p + 4, msg.preparedTransactionOffset);
  p += 12;
  view.setInt32(p, msg.body.byteLength);
  target.set(msg.body, p + 4);
  p += 4 + msg.body.byteLength;
  target[p] = layout.topicLength;
  writeString(target, p + 1, msg.topic, layout.topicLength);
  p += 1 + layout.topicLength;
  view.setInt16(p, layout.propertiesLength);
  writeString(target, p + 2, msg.propertiesString, layout.propertiesLength);
  p += 2 + layout.propertiesLength;
  if (p !== end) throw new CodecError(`record layout mismatch: wrote ${p - pos} of ${layout.totalSize} bytes`);
  return layout.totalSize;
}

/** One record in a fresh buffer (tests, tools; the store writes into its mapping instead). */
export function encodeRecord(msg: MessageInner, queueOffset: number, physicalOffset: number, storeTimestamp: number): Uint8Array {
  const layout = measureRecord(msg);
  const out = new Uint8Array(layout.totalSize);
  writeRecord(out, new DataView(out.buffer), 0, msg, layout, queueOffset, physicalOffset, storeTimestamp, bodyCrc(msg.body));
  return out;
}

/** Writes the end-of-segment blank record (storage doc §3.2): remaining size + blank magic. */
export function writeBlankRecord(view: DataView, pos: number, remainingBytes: number): void {
  view.setInt32(pos, remainingBytes);
  view.setUint32(pos + 4, BLANK_MAGIC_CODE);
}

/** Position of the body-length field, which depends on the two host sizes. */
export function bodyLengthPos(sysFlag: number): number {
  const born = sysFlag & SysFlag.BORNHOST_V6 ? IPV6_HOST_SIZE_BYTES : IPV4_HOST_SIZE_BYTES;
  const store = sysFlag & SysFlag.STOREHOSTADDRESS_V6 ? IPV6_HOST_SIZE_BYTES : IPV4_HOST_SIZE_BYTES;
  return RecordPos.BORNHOST + born + 8 + store + 4 + 8;
}

/** Position of STORETIMESTAMP, after the born host. */
export function storeTimestampPos(sysFlag: number): number {
  return RecordPos.BORNHOST + (sysFlag & SysFlag.BORNHOST_V6 ? IPV6_HOST_SIZE_BYTES : IPV4_HOST_SIZE_BYTES);
}

/** Result of checkRecord when the bytes at the position are a blank (end-of-segment) record. */
export const RECORD_BLANK = 0;
/** Result of checkRecord for anything that is not a whole, consistent record. */
export const RECORD_INVALID = -1;

/**
 * Validates the record at `pos` without decoding it (recovery scan, Java checkMessageAndReturnSize):
 * returns its size, RECORD_BLANK, or RECORD_INVALID (bad magic, size, field lengths, or CRC).
 * `limit` is the end of the readable bytes.
 */
export function checkRecord(bytes: Uint8Array, view: DataView, pos: number, limit: number, checkCrc: boolean): number {
  if (pos + 8 > limit) return RECORD_INVALID;
  const totalSize = view.getInt32(pos);
  const magic = view.getUint32(pos + 4);
  if (magic === BLANK_MAGIC_CODE) return totalSize === limit - pos ? RECORD_BLANK : RECORD_INVALID;
  if (magic !== MESSAGE_MAGIC_CODE) return RECORD_INVALID;
  if (totalSize < FIXED_PART_SIZE_BYTES + 2 * IPV4_HOST_SIZE_BYTES || pos + totalSize > limit) return RECORD_INVALID;
  const sysFlag = view.getInt32(pos + RecordPos.SYSFLAG);
  const bodyPos = pos + bodyLengthPos(sysFlag);
  if (bodyPos + 4 > pos + totalSize) return RECORD_INVALID;
  const bodyLength = view.getInt32(bodyPos);
  const topicPos = bodyPos + 4 + bodyLength;
  if (bodyLength < 0 || topicPos + 1 > pos + totalSize) return RECORD_INVALID;
  const propertiesPos = topicPos + 1 + bytes[topicPos]!;
  if (propertiesPos + 2 > pos + totalSize) return RECORD_INVALID;
  if (propertiesPos + 2 + view.getInt16(propertiesPos) !== pos + totalSize) return RECORD_INVALID;
  if (checkCrc && bodyCrc(bytes.subarray(bodyPos + 4, topicPos)) !== view.getInt32(pos + RecordPos.BODYCRC)) return RECORD_INVALID;
  return totalSize;
}

/**
 * The last host text a decoder produced and the address + port bytes it came from: records in a
 * row mostly share their hosts, and comparing 8 bytes beats formatting a string per record.
 */
class HostTextCache {
  private readonly key = new Uint8Array(IPV6_HOST_SIZE_BYTES);
  private keyLength = 0;
  private text = "";

  read(bytes: Uint8Array, view: DataView, pos: number, v6: boolean): string {
    const length = v6 ? IPV6_HOST_SIZE_BYTES : IPV4_HOST_SIZE_BYTES;
    const key = this.key;
    if (length === this.keyLength) {
      let i = 0;
      while (i < length && key[i] === bytes[pos + i]) i++;
      if (i === length) return this.text;
    }
    for (let i = 0; i < length; i++) key[i] = bytes[pos + i]!;
    this.keyLength = length;
    this.text = formatHost(bytes.subarray(pos, pos + length - 4), view.getInt32(pos + length - 4));
    return this.text;
  }
}

const bornHostTexts = new HostTextCache();
const storeHostTexts = new HostTextCache();

/** Longest topic kept by lastTopic (the int8 length field caps a topic anyway). */
const lastTopicBytes = new Uint8Array(MAX_TOPIC_SIZE_BYTES + 1);
let lastTopicLength = -1;
let lastTopic = "";

/** The topic at `pos` (length `length`), reusing the previous string when the bytes repeat. */
function readTopic(bytes: Uint8Array, pos: number, length: number): string {
  if (length === lastTopicLength) {
    let i = 0;
    while (i < length && lastTopicBytes[i] === bytes[pos + i]) i++;
    if (i === length) return lastTopic;
  }
  lastTopic = textDecoder.decode(bytes.subarray(pos, pos + length));
  lastTopicBytes.set(bytes.subarray(pos, pos + length));
  lastTopicLength = length;
  return lastTopic;
}

/**
 * Decodes one stored record (first bytes of `bytes`). Without `withBody` the body is empty
 * (dispatch, index). Throws CodecError on bad magic or lengths.
 */
export function decodeRecord(bytes: Uint8Array, withBody = true): MessageExt {
  return decodeRecordAt(bytes, new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0, bytes.byteLength, withBody);
}

/**
 * Decodes the record at `pos` of `bytes` (`view` covers the same bytes), which must end by `limit`:
 * a run of records (a pull body) is decoded with one view and no per-record subarray.
 */
export function decodeRecordAt(bytes: Uint8Array, view: DataView, pos: number, limit: number, withBody = true): MessageExt {
  if (pos + 8 > limit) throw new CodecError(`record needs at least 8 bytes, got ${limit - pos}`);
  const storeSize = view.getInt32(pos);
  const magic = view.getUint32(pos + 4);
  if (magic !== MESSAGE_MAGIC_CODE) throw new CodecError(`bad record magic 0x${magic.toString(16)}`);
  if (storeSize > limit - pos || checkRecord(bytes, view, pos, pos + storeSize, false) !== storeSize) {
    throw new CodecError(`inconsistent record of ${storeSize} bytes (${limit - pos} available)`);
  }
  const sysFlag = view.getInt32(pos + RecordPos.SYSFLAG);
  const bornV6 = (sysFlag & SysFlag.BORNHOST_V6) !== 0;
  const storeV6 = (sysFlag & SysFlag.STOREHOSTADDRESS_V6) !== 0;
  const storeTsPos = pos + storeTimestampPos(sysFlag);
  const storeHostPos = storeTsPos + 8;
  const reconsumePos = storeHostPos + (storeV6 ? IPV6_HOST_SIZE_BYTES : IPV4_HOST_SIZE_BYTES);
  const bodyPos = reconsumePos + 12;
  const bodyLength = view.getInt32(bodyPos);
  const topicPos = bodyPos + 4 + bodyLength;
  const topicLength = bytes[topicPos]!;
  const propertiesPos = topicPos + 1 + topicLength;
  const propertiesLength = view.getInt16(propertiesPos);
  const propertiesString = textDecoder.decode(bytes.subarray(propertiesPos + 2, propertiesPos + 2 + propertiesLength));
  const properties = stringToProperties(propertiesString);
  const storeHost = storeHostTexts.read(bytes, view, storeHostPos, storeV6);
  const commitLogOffset = getInt64(view, pos + RecordPos.PHYSICALOFFSET);
  return {
    topic: readTopic(bytes, topicPos + 1, topicLength),
    queueId: view.getInt32(pos + RecordPos.QUEUEID),
    flag: view.getInt32(pos + RecordPos.FLAG),
    body: withBody ? bytes.slice(bodyPos + 4, topicPos) : new Uint8Array(0),
    properties,
    propertiesString,
    tagsCode: tagsHashCode(properties.TAGS),
    sysFlag,
    bornTimestamp: getInt64(view, pos + RecordPos.BORNTIMESTAMP),
    bornHost: bornHostTexts.read(bytes, view, pos + RecordPos.BORNHOST, bornV6),
    storeHost,
    reconsumeTimes: view.getInt32(reconsumePos),
    preparedTransactionOffset: getInt64(view, reconsumePos + 4),
    storeSize,
    bodyCRC: view.getInt32(pos + RecordPos.BODYCRC),
    queueOffset: getInt64(view, pos + RecordPos.QUEUEOFFSET),
    commitLogOffset,
    storeTimestamp: getInt64(view, storeTsPos),
    msgId: createOffsetMsgId(storeHost, commitLogOffset),
  };
}

/**
 * A SEND_BATCH_MESSAGE on its way into the store (Java MessageExtBatch). The members stay in their
 * wire form (protocol doc §5.4) until they are written as records: no object per member.
 */
export interface MessageBatch {
  topic: string;
  queueId: number;
  /** Shared by every record (no transaction bits in a batch). */
  sysFlag: number;
  bornTimestamp: number;
  bornHost: string;
  storeHost: string;
  reconsumeTimes: number;
  /** The request body: per member TOTALSIZE, MAGICCODE, BODYCRC, FLAG, int32 + body, int16 + properties. */
  body: Uint8Array;
  /** The batch's own properties (request header + CLUSTER): appended to every member's (Java MessageExtBatchEncoder). */
  propertiesString: string;
  /** False when the batch properties say WAIT=false: answer before the flush (Java isWaitStoreMsgOK). */
  waitStoreMsgOK: boolean;
}

/** A batch measured and checked by measureBatch, ready for writeBatch. */
export interface BatchLayout {
  /** Members, and so records. */
  count: number;
  /** Sum of the record sizes. */
  totalSize: number;
  largestRecordSize: number;
  largestPropertiesLength: number;
  topicLength: number;
  /** Index of the first member whose properties (or the batch's) ask for a delay level > 0, else -1. */
  delayedMember: number;
  storeHost: HostBytes;
  /** A DataView over the batch body, for the members' fields. */
  members: DataView;
  /**
   * SYSFLAG … PREPARED TX OFFSET, the same in every record, as big-endian int32 words: a few int32
   * stores beat a native copy call for 48 bytes. writeBatch fills in STORETIMESTAMP.
   */
  hostWords: Int32Array;
  /** Index in hostWords of STORETIMESTAMP's high word. */
  storeTimestampWord: number;
  /** Topic length byte + topic, and the batch properties: short, written by byte loops. */
  topicBlock: Uint8Array;
  suffix: Uint8Array;
}

/**
 * A batch's msgIds are written as Latin-1 bytes, then decoded once into a flat string. Joining 32
 * ids with `+=` builds a rope, and flattening it in JSON.stringify of the response header cost
 * ~10 µs per batch of 32, against ~1–3 µs for the bytes (micro-benchmark). The scratch holds
 * ~1,900 IPv4 ids; a larger batch gets a buffer of its own.
 */
const MSG_ID_SCRATCH_SIZE_BYTES = 64 * 1024;
let msgIdScratch: Buffer | undefined;
const HEX_DIGITS = Uint8Array.from("0123456789ABCDEF", (c) => c.charCodeAt(0));
const COMMA = 0x2c;

/** Stores a JS number as the two words of a big-endian int64 at `i`; returns the next index. */
function putInt64Words(words: Int32Array, i: number, value: number): number {
  const high = Math.floor(value / TWO_POW_32);
  words[i] = high;
  words[i + 1] = value - high * TWO_POW_32; // wraps to the int32 with the same bits
  return i + 2;
}

/** Stores a host's address (1 or 4 words) and port at `i`; returns the next index. */
function putHostWords(words: Int32Array, i: number, host: HostBytes): number {
  const a = host.address;
  for (let k = 0; k < a.length; k += 4) words[i++] = (a[k]! << 24) | (a[k + 1]! << 16) | (a[k + 2]! << 8) | a[k + 3]!;
  words[i] = host.port;
  return i + 1;
}

/** Writes `value` (uint32) as 8 uppercase hex digits at `pos`. */
function writeHexWord(out: Uint8Array, pos: number, value: number): void {
  for (let k = 0; k < 8; k++) out[pos + k] = HEX_DIGITS[(value >>> (28 - 4 * k)) & 0xf]!;
}

/** TOTALSIZE, MAGICCODE, BODYCRC, FLAG, body length: five int32 before a member's body. */
export const BATCH_MEMBER_HEADER_SIZE_BYTES = 20;
const PROPERTY_SEPARATOR_BYTE = 0x02;
/** "DELAY" + NAME_VALUE_SEPARATOR, the property a batch member may not carry with a level > 0. */
const DELAY_NAME_BYTES = textEncoder.encode("DELAY\u0001");
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/**
 * Whether the properties in bytes [start, end) hold DELAY with a value parseInt reads as > 0.
 * Names are compared at pair starts only; the loop visits each byte at most twice.
 */
function hasPositiveDelay(bytes: Uint8Array, start: number, end: number): boolean {
  const nameLength = DELAY_NAME_BYTES.length;
  let pair = start;
  while (pair < end) {
    let i = 0;
    while (i < nameLength && pair + i < end && bytes[pair + i] === DELAY_NAME_BYTES[i]) i++;
    let p = pair + i;
    if (i === nameLength) {
      // Leading digits, as parseInt: "0"/"00" are no delay, "3" or "03x" are.
      while (p < end && bytes[p]! >= DIGIT_0 && bytes[p]! <= DIGIT_9) {
        if (bytes[p] !== DIGIT_0) return true;
        p++;
      }
    }
    while (p < end && bytes[p] !== PROPERTY_SEPARATOR_BYTE) p++;
    pair = p + 1;
  }
  return false;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Walks a batch's members once: checks their framing (CodecError naming the member), measures
 * the records they become (Java MessageExtBatchEncoder) and builds the bytes they share. Limits
 * are the caller's to judge from the returned sizes.
 */
export function measureBatch(batch: MessageBatch): BatchLayout {
  const bornHost = parseHost(batch.bornHost);
  const storeHost = parseHost(batch.storeHost);
  const topic = textEncoder.encode(batch.topic);
  const suffix = textEncoder.encode(batch.propertiesString);
  const bornLength = bornHost.v6 ? IPV6_HOST_SIZE_BYTES : IPV4_HOST_SIZE_BYTES;
  const storeLength = storeHost.v6 ? IPV6_HOST_SIZE_BYTES : IPV4_HOST_SIZE_BYTES;
  let sysFlag = batch.sysFlag & ~(SysFlag.BORNHOST_V6 | SysFlag.STOREHOSTADDRESS_V6);
  if (bornHost.v6) sysFlag |= SysFlag.BORNHOST_V6;
  if (storeHost.v6) sysFlag |= SysFlag.STOREHOSTADDRESS_V6;

  // SYSFLAG, BORNTIMESTAMP, BORNHOST, STORETIMESTAMP, STOREHOST, RECONSUMETIMES, PREPARED TX OFFSET:
  // 48 or 72 bytes, a multiple of 4. Built as words directly (a typed array's `.buffer` costs a copy).
  const hostWords = new Int32Array((4 + 8 + bornLength + 8 + storeLength + 4 + 8) / 4);
  hostWords[0] = sysFlag;
  let w = putInt64Words(hostWords, 1, batch.bornTimestamp);
  w = putHostWords(hostWords, w, bornHost);
  const storeTimestampWord = w; // stays 0: writeBatch's
  w = putHostWords(hostWords, w + 2, storeHost);
  hostWords[w] = batch.reconsumeTimes; // the PREPARED TX OFFSET after it stays 0
  if (w + 3 !== hostWords.length) throw new CodecError(`batch host block is ${(w + 3) * 4} bytes, not ${hostWords.length * 4}`);
  const topicBlock = new Uint8Array(1 + topic.length);
  topicBlock[0] = topic.length;
  topicBlock.set(topic, 1);

  // A record: fixed part, two hosts, body, topic, properties (member's [+ separator] + batch's).
  const recordBase = FIXED_PART_SIZE_BYTES + bornLength + storeLength + topic.length;
  const body = batch.body;
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let delayedMember = hasPositiveDelay(suffix, 0, suffix.length) ? 0 : -1;
  // One native search of the whole body: in the usual batch the name appears nowhere, and no
  // member's properties need a scan of their own.
  const source = asBuffer(body);
  const scanMembers = delayedMember < 0 && source.indexOf(DELAY_NAME_BYTES) >= 0;
  let count = 0;
  let totalSize = 0;
  let largestRecordSize = 0;
  let largestPropertiesLength = 0;
  let pos = 0;
  // Each iteration consumes one member of at least the 22-byte minimum, so the body length bounds it.
  while (pos < body.byteLength) {
    if (pos + BATCH_MEMBER_HEADER_SIZE_BYTES > body.byteLength) throw new CodecError(`batch body does not decode: member ${count}: truncated header`);
    const memberSize = view.getInt32(pos);
    const bodyLength = view.getInt32(pos + 16);
    const bodyStart = pos + BATCH_MEMBER_HEADER_SIZE_BYTES;
    if (bodyLength < 0 || bodyStart + bodyLength + 2 > body.byteLength) throw new CodecError(`batch body does not decode: member ${count}: body length ${bodyLength} out of range`);
    const ownLength = view.getInt16(bodyStart + bodyLength);
    const ownStart = bodyStart + bodyLength + 2;
    if (ownLength < 0 || ownStart + ownLength > body.byteLength) throw new CodecError(`batch body does not decode: member ${count}: properties length ${ownLength} out of range`);
    if (memberSize !== BATCH_MEMBER_HEADER_SIZE_BYTES + bodyLength + 2 + ownLength) {
      throw new CodecError(`batch body does not decode: member ${count}: total size ${memberSize} does not match its fields`);
    }
    if (scanMembers && delayedMember < 0 && hasPositiveDelay(body, ownStart, ownStart + ownLength)) delayedMember = count;
    const propertiesLength = recordPropertiesLength(body, ownStart, ownLength, suffix.length);
    const recordSize = recordBase + bodyLength + propertiesLength;
    if (propertiesLength > largestPropertiesLength) largestPropertiesLength = propertiesLength;
    if (recordSize > largestRecordSize) largestRecordSize = recordSize;
    totalSize += recordSize;
    count++;
    pos += memberSize;
  }
  return {
    count,
    totalSize,
    largestRecordSize,
    largestPropertiesLength,
    topicLength: topic.length,
    delayedMember,
    storeHost,
    members: view,
    hostWords,
    storeTimestampWord,
    topicBlock,
    suffix,
  };
}

/** A member's record properties: its own, a separator when both parts are non-empty and it lacks a trailing one, the batch's. */
function recordPropertiesLength(body: Uint8Array, ownStart: number, ownLength: number, suffixLength: number): number {
  const separator = ownLength > 0 && suffixLength > 0 && body[ownStart + ownLength - 1] !== PROPERTY_SEPARATOR_BYTE ? 1 : 0;
  return ownLength + separator + suffixLength;
}

/**
 * Writes a measured batch as consecutive records at `pos` of `target` (`view` covers the same
 * bytes), with consecutive queue offsets, and returns their offset msgIds joined by "," (the
 * SEND_BATCH response's msgId). Bodies and properties are copied from the request, not re-encoded.
 */
export function writeBatch(
  target: Uint8Array,
  view: DataView,
  pos: number,
  batch: MessageBatch,
  layout: BatchLayout,
  firstQueueOffset: number,
  firstPhysicalOffset: number,
  storeTimestamp: number,
): string {
  const end = pos + layout.totalSize;
  if (end > target.byteLength) throw new CodecError(`batch of ${layout.totalSize} bytes does not fit at ${pos}`);
  const { members, hostWords, topicBlock, suffix } = layout;
  const body = batch.body;
  putInt64Words(hostWords, layout.storeTimestampWord, storeTimestamp);
  const idPrefix = layout.storeHost.msgIdPrefixBytes;
  const idsLength = layout.count * (idPrefix.length + 17); // prefix + 16 hex digits + comma
  msgIdScratch ??= Buffer.allocUnsafe(MSG_ID_SCRATCH_SIZE_BYTES);
  const ids = idsLength <= msgIdScratch.length ? msgIdScratch : Buffer.allocUnsafe(idsLength);
  let idPos = 0;
  let at = 0;
  let p = pos;
  for (let i = 0; i < layout.count; i++) {
    const bodyLength = members.getInt32(at + 16);
    const bodyStart = at + BATCH_MEMBER_HEADER_SIZE_BYTES;
    const ownLength = members.getInt16(bodyStart + bodyLength);
    const ownStart = bodyStart + bodyLength + 2;
    const propertiesLength = recordPropertiesLength(body, ownStart, ownLength, suffix.length);
    const recordStart = p;
    const physicalOffset = firstPhysicalOffset + (recordStart - pos);
    view.setUint32(p + 4, MESSAGE_MAGIC_CODE);
    const memberBody = body.subarray(bodyStart, bodyStart + bodyLength);
    view.setInt32(p + 8, bodyCrc(memberBody));
    view.setInt32(p + 12, batch.queueId);
    view.setInt32(p + 16, members.getInt32(at + 12)); // FLAG
    setInt64(view, p + 20, firstQueueOffset + i);
    setInt64(view, p + 28, physicalOffset);
    p += RecordPos.SYSFLAG;
    for (let k = 0; k < hostWords.length; k++) view.setInt32(p + k * 4, hostWords[k]!);
    p += hostWords.length * 4;
    view.setInt32(p, bodyLength);
    target.set(memberBody, p + 4);
    p += 4 + bodyLength;
    for (let k = 0; k < topicBlock.length; k++) target[p + k] = topicBlock[k]!;
    p += topicBlock.length;
    view.setInt16(p, propertiesLength);
    p += 2;
    for (let k = 0; k < ownLength; k++) target[p + k] = body[ownStart + k]!;
    p += ownLength;
    if (ownLength + suffix.length < propertiesLength) target[p++] = PROPERTY_SEPARATOR_BYTE;
    for (let k = 0; k < suffix.length; k++) target[p + k] = suffix[k]!;
    p += suffix.length;
    view.setInt32(recordStart, p - recordStart);
    if (i > 0) ids[idPos++] = COMMA;
    for (let k = 0; k < idPrefix.length; k++) ids[idPos + k] = idPrefix[k]!;
    const high = Math.floor(physicalOffset / TWO_POW_32);
    writeHexWord(ids, idPos + idPrefix.length, high);
    writeHexWord(ids, idPos + idPrefix.length + 8, physicalOffset - high * TWO_POW_32);
    idPos += idPrefix.length + 16;
    at = ownStart + ownLength;
  }
  if (p !== end) throw new CodecError(`batch layout mismatch: wrote ${p - pos} of ${layout.totalSize} bytes`);
  return ids.toString("latin1", 0, idPos);
}

/** Offset msgId: uppercase hex of store address + int32 port + int64 commit-log offset (protocol doc §5.6). */
export function createOffsetMsgId(storeHost: string, physicalOffset: number): string {
  return offsetMsgIdOf(parseHost(storeHost), physicalOffset);
}

/** createOffsetMsgId for an already parsed host (the append path has it in the record layout). */
export function offsetMsgIdOf(storeHost: HostBytes, physicalOffset: number): string {
  const hi = Math.floor(physicalOffset / TWO_POW_32);
  // Host and high word change once per 4 GiB of log: their hex is reused, not rebuilt per id.
  if (storeHost !== lastIdHost || hi !== lastIdHigh) {
    lastIdHost = storeHost;
    lastIdHigh = hi;
    lastIdHead = storeHost.msgIdPrefix + uint32Hex(hi);
  }
  return lastIdHead + uint32Hex(physicalOffset - hi * TWO_POW_32);
}

let lastIdHost: HostBytes | undefined;
let lastIdHigh = -1;
let lastIdHead = "";

/** Inverse of createOffsetMsgId; 32 hex chars = IPv4, 56 = IPv6 (Java MessageDecoder.decodeMessageId). */
export function decodeOffsetMsgId(msgId: string): { address: string; offset: number } {
  if ((msgId.length !== 32 && msgId.length !== 56) || !/^[0-9a-fA-F]+$/.test(msgId)) {
    throw new CodecError(`msgId "${msgId}" is not 32 or 56 hex characters`);
  }
  const bytes = new Uint8Array(msgId.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(msgId.slice(i * 2, i * 2 + 2), 16);
  const view = new DataView(bytes.buffer);
  const addressLength = bytes.length - 12;
  const offset = getInt64(view, addressLength + 4);
  if (!Number.isSafeInteger(offset) || offset < 0) throw new CodecError(`msgId "${msgId}" has offset out of range`);
  return { address: formatHost(bytes.subarray(0, addressLength), view.getInt32(addressLength)), offset };
}
