// RemotingCommand: the header + body of one frame, with both header serializations
// (protocol doc 1.2-1.5). Nothing here knows about topics or messages.

import { CURRENT_VERSION } from "./codes.ts";

export const SerializeType = { JSON: 0, ROCKETMQ: 1 } as const;
export type SerializeType = (typeof SerializeType)[keyof typeof SerializeType];

/** flag bit 0: this command is a response. */
export const FLAG_RESPONSE = 1;
/** flag bit 1: oneway request, no response expected. */
export const FLAG_ONEWAY = 2;

/** LanguageCode enum in ordinal order (protocol doc 1.3/1.4). */
export const LANGUAGES = [
  "JAVA", "CPP", "DOTNET", "PYTHON", "DELPHI", "ERLANG", "RUBY", "OTHER", "HTTP", "GO", "PHP", "OMS", "RUST",
] as const;

export type ExtFields = Record<string, string>;

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

let nextOpaque = 0;
/** Process-wide request id counter, like Java's RemotingCommand.requestId. */
export function newOpaque(): number {
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

  /** Encodes the whole frame, length prefix included. */
  encode(): Uint8Array {
    const header = this.serializeType === SerializeType.ROCKETMQ ? encodeBinaryHeader(this) : encodeJsonHeader(this);
    const bodyLength = this.body?.length ?? 0;
    const frame = new Uint8Array(8 + header.length + bodyLength);
    const view = new DataView(frame.buffer);
    view.setUint32(0, 4 + header.length + bodyLength);
    view.setUint32(4, ((this.serializeType & 0xff) << 24) | header.length);
    frame.set(header, 8);
    if (this.body && bodyLength > 0) frame.set(this.body, 8 + header.length);
    return frame;
  }

  /**
   * Decodes one frame without its 4-byte length prefix (what the frame decoder yields).
   * Throws RemotingDecodeError on a malformed header.
   */
  static decode(frame: Uint8Array): RemotingCommand {
    if (frame.length < 4) throw new RemotingDecodeError(`frame of ${frame.length} bytes has no header length`);
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    const lengthAndType = view.getUint32(0);
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

function encodeJsonHeader(cmd: RemotingCommand): Uint8Array {
  // Keys alphabetically, like fastjson; remark and extFields omitted when empty.
  const header: Record<string, unknown> = { code: cmd.code };
  if (Object.keys(cmd.extFields).length > 0) header.extFields = cmd.extFields;
  header.flag = cmd.flag;
  header.language = cmd.language;
  header.opaque = cmd.opaque;
  if (cmd.remark !== undefined) header.remark = cmd.remark;
  header.serializeTypeCurrentRPC = "JSON";
  header.version = cmd.version;
  return textEncoder.encode(JSON.stringify(header));
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
  cmd.extFields = {};
  if (typeof h.extFields === "object" && h.extFields !== null) {
    // fastjson coerces numbers and booleans to strings; ali-ons sends raw JS values.
    for (const [k, v] of Object.entries(h.extFields as Record<string, unknown>)) {
      if (v !== null && v !== undefined) cmd.extFields[k] = typeof v === "string" ? v : String(v);
    }
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

function encodeBinaryHeader(cmd: RemotingCommand): Uint8Array {
  const remark = cmd.remark ? textEncoder.encode(cmd.remark) : undefined;
  const entries: Array<[Uint8Array, Uint8Array]> = [];
  let extLength = 0;
  for (const [k, v] of Object.entries(cmd.extFields)) {
    // A zero-length key or value decodes as null on a Java peer: leave such entries out.
    if (k.length === 0 || v.length === 0) continue;
    const key = textEncoder.encode(k);
    const value = textEncoder.encode(v);
    entries.push([key, value]);
    extLength += 2 + key.length + 4 + value.length;
  }
  const remarkLength = remark?.length ?? 0;
  const out = new Uint8Array(21 + remarkLength + extLength);
  const view = new DataView(out.buffer);
  view.setInt16(0, cmd.code);
  const languageOrdinal = LANGUAGES.indexOf(cmd.language as (typeof LANGUAGES)[number]);
  view.setUint8(2, languageOrdinal < 0 ? 7 : languageOrdinal);
  view.setInt16(3, cmd.version);
  view.setInt32(5, cmd.opaque);
  view.setInt32(9, cmd.flag);
  view.setInt32(13, remarkLength);
  if (remark) out.set(remark, 17);
  let pos = 17 + remarkLength;
  view.setInt32(pos, extLength);
  pos += 4;
  for (const [key, value] of entries) {
    view.setInt16(pos, key.length);
    out.set(key, pos + 2);
    pos += 2 + key.length;
    view.setInt32(pos, value.length);
    out.set(value, pos + 4);
    pos += 4 + value.length;
  }
  return out;
}

function decodeBinaryHeader(bytes: Uint8Array): RemotingCommand {
  if (bytes.length < 21) throw new RemotingDecodeError(`binary header of ${bytes.length} bytes is shorter than 21`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const cmd = new RemotingCommand();
  cmd.code = view.getInt16(0);
  cmd.language = LANGUAGES[view.getUint8(2)] ?? "OTHER";
  cmd.version = view.getInt16(3);
  cmd.opaque = view.getInt32(5);
  cmd.flag = view.getInt32(9);
  const remarkLength = view.getInt32(13);
  if (remarkLength < 0 || 17 + remarkLength + 4 > bytes.length) {
    throw new RemotingDecodeError(`binary header remark length ${remarkLength} out of range`);
  }
  if (remarkLength > 0) cmd.remark = textDecoder.decode(bytes.subarray(17, 17 + remarkLength));
  let pos = 17 + remarkLength;
  const extLength = view.getInt32(pos);
  pos += 4;
  const extEnd = pos + extLength;
  if (extLength < 0 || extEnd > bytes.length) {
    throw new RemotingDecodeError(`binary header extFields length ${extLength} out of range`);
  }
  while (pos < extEnd) {
    if (pos + 2 > extEnd) throw new RemotingDecodeError("binary header extFields entry cut in its key length");
    const keyLength = view.getInt16(pos);
    pos += 2;
    if (keyLength < 0 || pos + keyLength + 4 > extEnd) throw new RemotingDecodeError("binary header extFields key out of range");
    const key = textDecoder.decode(bytes.subarray(pos, pos + keyLength));
    pos += keyLength;
    const valueLength = view.getInt32(pos);
    pos += 4;
    if (valueLength < 0 || pos + valueLength > extEnd) throw new RemotingDecodeError("binary header extFields value out of range");
    cmd.extFields[key] = textDecoder.decode(bytes.subarray(pos, pos + valueLength));
    pos += valueLength;
  }
  cmd.serializeType = SerializeType.ROCKETMQ;
  return cmd;
}
