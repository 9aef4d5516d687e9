// RemotingCommand: the header + body of one frame, with both header serializations
// (protocol doc 1.2-1.5). Nothing here knows about topics or messages.

import assert from "node:assert";
import { CURRENT_VERSION } from "./codes.ts";
import { readInt32 } from "./frame.ts";

export const SerializeType = { JSON: 0, ROCKETMQ: 1 } as const;
export type SerializeType = (typeof SerializeType)[keyof typeof SerializeType];

/** flag bit 0: this command is a response. */
export const FLAG_RESPONSE = 1;
/** flag bit 1: oneway request, no response expected. */
export const FLAG_ONEWAY = 2;

/** LanguageCode enum in ordinal order (protocol doc 1.3/1.4). */
const LANGUAGES = [
  "JAVA", "CPP", "DOTNET", "PYTHON", "DELPHI", "ERLANG", "RUBY", "OTHER", "HTTP", "GO", "PHP", "OMS", "RUST",
] as const;

/** Ordinal of "OTHER", sent in the binary header for a language name outside LANGUAGES. */
const LANGUAGE_OTHER = 7;

export type ExtFields = Record<string, string>;

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

let nextOpaque = 0;
/** Process-wide request id counter, like Java's RemotingCommand.requestId. */
function newOpaque(): number {
  nextOpaque = (nextOpaque + 1) & 0x7fffffff;
  return nextOpaque;
}

export class RemotingCommand {
  code = 0;
  language = "JAVA";
  version = CURRENT_VERSION;
  opaque = 0;
  flag = 0;
  remark: string | undefined = undefined;
  extFields: ExtFields = {};
  body: Uint8Array | undefined = undefined;
  serializeType: SerializeType = SerializeType.JSON;

  static request(code: number, extFields: ExtFields = {}, body?: Uint8Array): RemotingCommand {
    const cmd = new RemotingCommand();
    cmd.code = code;
    cmd.opaque = newOpaque();
    cmd.extFields = extFields;
    cmd.body = body;
    return cmd;
  }

  /** A response to `request`: same opaque and serialization, response flag set. */
  static responseTo(request: RemotingCommand, code: number, remark?: string, extFields: ExtFields = {}): RemotingCommand {
    const cmd = new RemotingCommand();
    cmd.code = code;
    cmd.opaque = request.opaque;
    cmd.flag = FLAG_RESPONSE;
    cmd.remark = remark;
    cmd.extFields = extFields;
    cmd.serializeType = request.serializeType;
    return cmd;
  }

  get isResponse(): boolean {
    return (this.flag & FLAG_RESPONSE) !== 0;
  }

  get isOneway(): boolean {
    return (this.flag & FLAG_ONEWAY) !== 0;
  }

  markOneway(): this {
    this.flag |= FLAG_ONEWAY;
    return this;
  }

  /**
   * The body as parts written one after another (a pull response's records, views of the store):
   * the frame copies each once instead of a concatenation being copied again. Takes precedence
   * over `body` when encoding; decoded commands have `body` only.
   */
  bodyParts: readonly Uint8Array[] | undefined = undefined;

  /** The header measured by measureFrame(), written by writeFrame(). */
  private plan: JsonHeaderPlan | BinaryHeaderPlan | undefined = undefined;

  /** Encodes the whole frame, length prefix included, in one allocation. */
  encode(): Uint8Array {
    const frame: Uint8Array = Buffer.allocUnsafe(this.measureFrame());
    this.writeFrame(frame, 0);
    return frame;
  }

  /**
   * Size of the whole frame in bytes (length prefix included). Measures the header once, for the
   * writeFrame() call that follows; throws RangeError for a header that cannot be encoded.
   */
  measureFrame(): number {
    const plan = this.serializeType === SerializeType.ROCKETMQ ? planBinaryHeader(this) : planJsonHeader(this);
    if (plan.headerLength > HEADER_MAX_SIZE_BYTES) {
      throw new RangeError(`header of ${plan.headerLength} bytes does not fit the 24-bit header length`);
    }
    this.plan = plan;
    return FRAME_HEADER_START + plan.headerLength + this.bodyLength();
  }

  /** Writes the frame measured by the last measureFrame() at `pos` of `out`; returns the position after it. */
  writeFrame(out: Uint8Array, pos: number): number {
    const plan = this.plan;
    assert(plan !== undefined, "writeFrame without measureFrame");
    this.plan = undefined;
    const bodyLength = this.bodyLength();
    putInt32(out, pos, 4 + plan.headerLength + bodyLength);
    putInt32(out, pos + 4, ((this.serializeType & 0xff) << 24) | plan.headerLength);
    let at = pos + FRAME_HEADER_START;
    if (plan.kind === "json") utf8Write.call(out, plan.json, at, plan.headerLength);
    else writeBinaryHeader(this, plan, out, at);
    at += plan.headerLength;
    if (this.bodyParts !== undefined) {
      for (const part of this.bodyParts) {
        out.set(part, at);
        at += part.length;
      }
    } else if (this.body !== undefined) {
      out.set(this.body, at);
      at += this.body.length;
    }
    assert(at === pos + FRAME_HEADER_START + plan.headerLength + bodyLength, "frame size mismatch");
    return at;
  }

  private bodyLength(): number {
    if (this.bodyParts === undefined) return this.body?.length ?? 0;
    let n = 0;
    for (const part of this.bodyParts) n += part.length;
    return n;
  }

  /**
   * Decodes one frame without its 4-byte length prefix (what the frame decoder yields).
   * Throws RemotingDecodeError on a malformed header.
   */
  static decode(frame: Uint8Array): RemotingCommand {
    if (frame.length < 4) throw new RemotingDecodeError(`frame of ${frame.length} bytes has no header length`);
    const lengthAndType = readInt32(frame, 0) >>> 0;
    const type = (lengthAndType >>> 24) & 0xff;
    const headerLength = lengthAndType & 0xffffff;
    if (4 + headerLength > frame.length) {
      throw new RemotingDecodeError(`header length ${headerLength} exceeds frame of ${frame.length} bytes`);
    }
    const header = frame.subarray(4, 4 + headerLength);
    let cmd: RemotingCommand;
    if (type === SerializeType.JSON) cmd = decodeJsonHeader(header);
    else if (type === SerializeType.ROCKETMQ) cmd = decodeBinaryHeader(header);
    else throw new RemotingDecodeError(`unknown serialize type ${type}`);
    const body = frame.subarray(4 + headerLength);
    if (body.length > 0) cmd.body = body;
    return cmd;
  }
}

export class RemotingDecodeError extends Error {
  override name = "RemotingDecodeError";
}

interface JsonHeaderPlan {
  kind: "json";
  json: string;
  headerLength: number;
}

function planJsonHeader(cmd: RemotingCommand): JsonHeaderPlan {
  // Keys alphabetically, like fastjson; remark and extFields omitted when empty.
  const header: Record<string, unknown> = { code: cmd.code };
  if (hasAnyKey(cmd.extFields)) header.extFields = cmd.extFields;
  header.flag = cmd.flag;
  header.language = cmd.language;
  header.opaque = cmd.opaque;
  if (cmd.remark !== undefined) header.remark = cmd.remark;
  header.serializeTypeCurrentRPC = "JSON";
  header.version = cmd.version;
  const json = JSON.stringify(header);
  // Written straight into the frame later: no intermediate encoded copy.
  return { kind: "json", json, headerLength: Buffer.byteLength(json, "utf8") };
}

/** Whether `o` has an own enumerable key, without building the key array. */
function hasAnyKey(o: ExtFields): boolean {
  for (const _ in o) return true;
  return false;
}

function decodeJsonHeader(bytes: Uint8Array): RemotingCommand {
  let parsed: unknown;
  try {
    parsed = JSON.parse(textDecoder.decode(bytes));
  } catch (err) {
    throw new RemotingDecodeError(`JSON header does not parse: ${(err as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new RemotingDecodeError("JSON header is not an object");
  }
  const h = parsed as Record<string, unknown>;
  const cmd = new RemotingCommand();
  cmd.code = intField(h.code, "code", 0);
  cmd.flag = intField(h.flag, "flag", 0);
  cmd.opaque = intField(h.opaque, "opaque", 0);
  cmd.version = intField(h.version, "version", 0);
  if (typeof h.language === "string") cmd.language = h.language;
  else if (typeof h.language === "number") cmd.language = LANGUAGES[h.language] ?? "OTHER";
  if (typeof h.remark === "string") cmd.remark = h.remark;
  if (typeof h.extFields === "object" && h.extFields !== null && !Array.isArray(h.extFields)) {
    // The parsed object is ours: adopt it, fixing up in place what is not a string. fastjson coerces
    // numbers and booleans to strings (ali-ons sends raw JS values) and drops nulls.
    const ext = h.extFields as Record<string, unknown>;
    for (const k in ext) {
      const v = ext[k];
      if (typeof v === "string") continue;
      if (v === null || v === undefined) delete ext[k];
      else ext[k] = typeof v === "object" ? JSON.stringify(v) : String(v);
    }
    cmd.extFields = ext as ExtFields;
  }
  cmd.serializeType = SerializeType.JSON;
  return cmd;
}

function intField(value: unknown, name: string, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (typeof value === "string" && /^-?\d+$/.test(value)) return Number(value);
  throw new RemotingDecodeError(`header field ${name} is not an integer`);
}

/** Bytes before the header: frameLength and headerLengthAndType. */
const FRAME_HEADER_START = 8;

/** headerLength has 24 bits on the wire. */
const HEADER_MAX_SIZE_BYTES = 0xffffff;

/** Binary header keys carry an int16 length. */
const BINARY_KEY_MAX_BYTES = 0x7fff;

/** Fixed part of the binary header: code, language, version, opaque, flag, remark and extFields lengths. */
const BINARY_HEADER_FIXED_BYTES = 21;

/** Big-endian int32 / int16 stores: cheaper than building a DataView per frame (measured ~5x). */
function putInt32(out: Uint8Array, pos: number, value: number): void {
  out[pos] = value >>> 24;
  out[pos + 1] = value >>> 16;
  out[pos + 2] = value >>> 8;
  out[pos + 3] = value;
}

function putInt16(out: Uint8Array, pos: number, value: number): void {
  out[pos] = value >>> 8;
  out[pos + 1] = value;
}

/** Big-endian signed int16, the counterpart of putInt16 (no DataView per frame). */
function getInt16(bytes: Uint8Array, pos: number): number {
  return (((bytes[pos]! << 8) | bytes[pos + 1]!) << 16) >> 16;
}

interface BinaryHeaderPlan {
  kind: "binary";
  headerLength: number;
  remarkLength: number;
  extLength: number;
  keys: string[];
  values: string[];
  /** UTF-8 lengths of key i and value i at 2i and 2i+1; 0 and 0 for an entry left out. */
  lengths: number[];
}

function planBinaryHeader(cmd: RemotingCommand): BinaryHeaderPlan {
  const remarkLength = cmd.remark ? utf8Length(cmd.remark) : 0;
  // Keys and values as two native arrays (same order): a keyed lookup per field on these
  // differently shaped objects is a megamorphic access, the most expensive part of the encode.
  const keys = Object.keys(cmd.extFields);
  const values = Object.values(cmd.extFields);
  const lengths = new Array<number>(keys.length * 2);
  let extLength = 0;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const value = values[i]!;
    // A zero-length key or value decodes as null on a Java peer: leave such entries out.
    if (key.length === 0 || value.length === 0) {
      lengths[2 * i] = 0;
      lengths[2 * i + 1] = 0;
      continue;
    }
    const keyLength = utf8Length(key);
    const valueLength = utf8Length(value);
    if (keyLength > BINARY_KEY_MAX_BYTES) throw new RangeError(`extFields key of ${keyLength} bytes does not fit the binary header`);
    lengths[2 * i] = keyLength;
    lengths[2 * i + 1] = valueLength;
    extLength += 2 + keyLength + 4 + valueLength;
  }
  const headerLength = BINARY_HEADER_FIXED_BYTES + remarkLength + extLength;
  return { kind: "binary", headerLength, remarkLength, extLength, keys, values, lengths };
}

function writeBinaryHeader(cmd: RemotingCommand, plan: BinaryHeaderPlan, out: Uint8Array, start: number): void {
  let pos = start;
  putInt16(out, pos, cmd.code);
  const languageOrdinal = LANGUAGES.indexOf(cmd.language as (typeof LANGUAGES)[number]);
  out[pos + 2] = languageOrdinal < 0 ? LANGUAGE_OTHER : languageOrdinal;
  putInt16(out, pos + 3, cmd.version);
  putInt32(out, pos + 5, cmd.opaque);
  putInt32(out, pos + 9, cmd.flag);
  putInt32(out, pos + 13, plan.remarkLength);
  pos += 17;
  if (cmd.remark) pos = writeUtf8(out, pos, cmd.remark, plan.remarkLength);
  putInt32(out, pos, plan.extLength);
  pos += 4;
  const { keys, values, lengths } = plan;
  for (let i = 0; i < keys.length; i++) {
    const keyLength = lengths[2 * i]!;
    if (keyLength === 0) continue;
    const valueLength = lengths[2 * i + 1]!;
    putInt16(out, pos, keyLength);
    pos = writeUtf8(out, pos + 2, keys[i]!, keyLength);
    putInt32(out, pos, valueLength);
    pos = writeUtf8(out, pos + 4, values[i]!, valueLength);
  }
  assert(pos === start + plan.headerLength, "binary header size mismatch");
}

/** UTF-8 byte length of `s`, as TextEncoder would encode it (lone surrogates become 3-byte U+FFFD). */
function utf8Length(s: string): number {
  // A JS loop: for the short strings of a header it beats a native call (measured ~2x).
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if ((c & 0xfc00) === 0xd800 && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** ASCII strings longer than this are copied by a native writer; shorter ones by a byte loop (cheaper than the call). */
const NATIVE_WRITE_MIN_CHARS = 32;
/** Buffer's native writers work on any Uint8Array. */
const latin1Write = (Buffer.prototype as unknown as { latin1Write(this: Uint8Array, s: string, offset: number): number }).latin1Write;
const utf8Write = (Buffer.prototype as unknown as { utf8Write(this: Uint8Array, s: string, offset: number, length: number): number }).utf8Write;

/** Writes `s` (whose UTF-8 length is `byteLength`) at `pos`; returns the position after it. */
function writeUtf8(out: Uint8Array, pos: number, s: string, byteLength: number): number {
  if (byteLength !== s.length) {
    textEncoder.encodeInto(s, out.subarray(pos, pos + byteLength));
  } else if (byteLength > NATIVE_WRITE_MIN_CHARS) {
    // ASCII: Latin-1 and UTF-8 bytes agree.
    latin1Write.call(out, s, pos);
  } else {
    for (let i = 0; i < byteLength; i++) out[pos + i] = s.charCodeAt(i);
  }
  return pos + byteLength;
}

/** Buffer's native slicers work on any Uint8Array and make flat strings without TextDecoder's per-call setup. */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Uint8Array, start: number, end: number): string }).latin1Slice;
const utf8Slice = (Buffer.prototype as unknown as { utf8Slice(this: Uint8Array, start: number, end: number): string }).utf8Slice;

/** One-byte strings by byte value: binary header keys are mostly single letters (SEND_MESSAGE_V2's a..n). */
const SINGLE_BYTE_STRINGS = Array.from({ length: 128 }, (_, b) => String.fromCharCode(b));

function isAscii(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i]! >= 0x80) return false;
  return true;
}

/** ASCII strings up to this many bytes are built in JS; a native slicer call costs more than that. */
const JS_DECODE_MAX_BYTES = 24;

function readUtf8(bytes: Uint8Array, start: number, end: number): string {
  const length = end - start;
  if (length === 1 && bytes[start]! < 0x80) return SINGLE_BYTE_STRINGS[bytes[start]!]!;
  if (length <= JS_DECODE_MAX_BYTES) {
    let s = "";
    for (let i = start; i < end; i++) {
      const b = bytes[i]!;
      if (b >= 0x80) return utf8Slice.call(bytes, start, end);
      s += SINGLE_BYTE_STRINGS[b]!;
    }
    return s;
  }
  for (let i = start; i < end; i++) {
    if (bytes[i]! >= 0x80) return utf8Slice.call(bytes, start, end);
  }
  return latin1Slice.call(bytes, start, end);
}

function decodeBinaryHeader(bytes: Uint8Array): RemotingCommand {
  if (bytes.length < 21) throw new RemotingDecodeError(`binary header of ${bytes.length} bytes is shorter than 21`);
  const cmd = new RemotingCommand();
  cmd.code = getInt16(bytes, 0);
  cmd.language = LANGUAGES[bytes[2]!] ?? "OTHER";
  cmd.version = getInt16(bytes, 3);
  cmd.opaque = readInt32(bytes, 5);
  cmd.flag = readInt32(bytes, 9);
  const remarkLength = readInt32(bytes, 13);
  if (remarkLength < 0 || 17 + remarkLength + 4 > bytes.length) {
    throw new RemotingDecodeError(`binary header remark length ${remarkLength} out of range`);
  }
  if (remarkLength > 0) cmd.remark = readUtf8(bytes, 17, 17 + remarkLength);
  let pos = 17 + remarkLength;
  const extLength = readInt32(bytes, pos);
  pos += 4;
  const extEnd = pos + extLength;
  if (extLength < 0 || extEnd > bytes.length) {
    throw new RemotingDecodeError(`binary header extFields length ${extLength} out of range`);
  }
  // The whole region as one Latin-1 string (one byte per char, so byte offsets are string
  // offsets): ASCII keys and values are substrings of it, one native call instead of one per field.
  const extStart = pos;
  const region = extLength > 0 ? latin1Slice.call(bytes, extStart, extEnd) : "";
  const field = (start: number, end: number): string =>
    isAscii(bytes, start, end) ? region.substring(start - extStart, end - extStart) : utf8Slice.call(bytes, start, end);
  while (pos < extEnd) {
    if (pos + 2 > extEnd) throw new RemotingDecodeError("binary header extFields entry cut in its key length");
    const keyLength = getInt16(bytes, pos);
    pos += 2;
    if (keyLength < 0 || pos + keyLength + 4 > extEnd) throw new RemotingDecodeError("binary header extFields key out of range");
    const key = field(pos, pos + keyLength);
    pos += keyLength;
    const valueLength = readInt32(bytes, pos);
    pos += 4;
    if (valueLength < 0 || pos + valueLength > extEnd) throw new RemotingDecodeError("binary header extFields value out of range");
    cmd.extFields[key] = field(pos, pos + valueLength);
    pos += valueLength;
  }
  cmd.serializeType = SerializeType.ROCKETMQ;
  return cmd;
}
