// RegisterBrokerBody (REGISTER_BROKER body, protocol doc §3.3.1 and §4.4): the broker's topic
// configs with their DataVersion, as fastjson JSON, or (header `compressed=true`) as Java's
// zlib stream of length-prefixed parts. The broker encodes with these functions too.

import zlib from "node:zlib";
import { decodeFastjson, encodeFastjson, parseFastjson } from "../common/fastjson.ts";

export interface DataVersion {
  counter: number;
  timestamp: number;
}

/** The TopicConfig fields a namesrv keeps (a broker's TopicConfig is a superset). */
export interface RegisteredTopicConfig {
  topicName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  topicFilterType: string;
  topicSysFlag: number;
  order: boolean;
}

export interface RegisterBrokerBody {
  dataVersion: DataVersion;
  topicConfigs: RegisteredTopicConfig[];
  filterServerList: string[];
}

/** Largest inflated compressed body: bounds memory on a zip bomb; a topic entry is ~40 bytes, so this is far beyond any real broker. */
const MAX_INFLATED_BODY_SIZE_BYTES = 64 * 1024 * 1024;
/** Most topics one registration may carry (bounds the decode loop). */
const MAX_TOPICS_PER_REGISTRATION = 1_000_000;

export class RegisterBodyError extends Error {
  override name = "RegisterBodyError";
}

export function decodeRegisterBrokerBody(body: Uint8Array | undefined, compressed: boolean): RegisterBrokerBody {
  // Java: a missing body registers with DataVersion {0, 0} and no topics.
  if (body === undefined || body.length === 0) return { dataVersion: { counter: 0, timestamp: 0 }, topicConfigs: [], filterServerList: [] };
  return compressed ? decodeCompressed(body) : decodeJson(body);
}

export function encodeRegisterBrokerBody(value: RegisterBrokerBody, compressed: boolean): Uint8Array {
  if (!compressed) {
    const table = new Map<string, unknown>();
    for (const tc of value.topicConfigs) table.set(tc.topicName, { ...tc });
    return encodeFastjson({
      filterServerList: value.filterServerList,
      topicConfigSerializeWrapper: { dataVersion: value.dataVersion, topicConfigTable: table },
    });
  }
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  const pushLengthPrefixed = (bytes: Uint8Array) => {
    const len = new Uint8Array(4);
    new DataView(len.buffer).setInt32(0, bytes.length);
    parts.push(len, bytes);
  };
  pushLengthPrefixed(encodeFastjson(value.dataVersion));
  const count = new Uint8Array(4);
  new DataView(count.buffer).setInt32(0, value.topicConfigs.length);
  parts.push(count);
  for (const tc of value.topicConfigs) {
    pushLengthPrefixed(encoder.encode(`${tc.topicName} ${tc.readQueueNums} ${tc.writeQueueNums} ${tc.perm} ${tc.topicFilterType}`));
  }
  pushLengthPrefixed(encodeFastjson(value.filterServerList));
  return zlib.deflateSync(Buffer.concat(parts), { level: zlib.constants.Z_BEST_COMPRESSION });
}

function decodeJson(body: Uint8Array): RegisterBrokerBody {
  let parsed: unknown;
  try {
    parsed = decodeFastjson(body);
  } catch (err) {
    throw new RegisterBodyError(`RegisterBrokerBody is not JSON: ${(err as Error).message}`);
  }
  const root = asObject(parsed, "RegisterBrokerBody");
  // Brokers older than 3.0.11 send the TopicConfigSerializeWrapper itself as the body.
  const legacy = root.topicConfigSerializeWrapper === undefined && (root.topicConfigTable !== undefined || root.dataVersion !== undefined);
  const wrapper = legacy ? root : root.topicConfigSerializeWrapper === undefined ? {} : asObject(root.topicConfigSerializeWrapper, "topicConfigSerializeWrapper");
  const dataVersion = wrapper.dataVersion === undefined ? { counter: 0, timestamp: 0 } : toDataVersion(wrapper.dataVersion);
  const topicConfigs: RegisteredTopicConfig[] = [];
  if (wrapper.topicConfigTable !== undefined) {
    const table = asObject(wrapper.topicConfigTable, "topicConfigTable");
    for (const [name, raw] of Object.entries(table)) topicConfigs.push(toTopicConfig(name, raw));
  }
  const filterServerList = Array.isArray(root.filterServerList) ? root.filterServerList.map(String) : [];
  return { dataVersion, topicConfigs, filterServerList };
}

/** DataVersion JSON (also the QUERY_DATA_VERSION body). */
export function toDataVersion(raw: unknown): DataVersion {
  const o = asObject(raw, "dataVersion");
  return { counter: intOf(o.counter, "dataVersion.counter", 0), timestamp: intOf(o.timestamp, "dataVersion.timestamp", 0) };
}

function toTopicConfig(name: string, raw: unknown): RegisteredTopicConfig {
  const o = asObject(raw, `topicConfigTable.${name}`);
  // Defaults are TopicConfig's field initialisers.
  return {
    topicName: typeof o.topicName === "string" ? o.topicName : name,
    readQueueNums: intOf(o.readQueueNums, `${name}.readQueueNums`, 16),
    writeQueueNums: intOf(o.writeQueueNums, `${name}.writeQueueNums`, 16),
    perm: intOf(o.perm, `${name}.perm`, 6),
    topicFilterType: typeof o.topicFilterType === "string" ? o.topicFilterType : "SINGLE_TAG",
    topicSysFlag: intOf(o.topicSysFlag, `${name}.topicSysFlag`, 0),
    order: o.order === true || o.order === "true",
  };
}

function decodeCompressed(body: Uint8Array): RegisterBrokerBody {
  let data: Buffer;
  try {
    data = zlib.inflateSync(body, { maxOutputLength: MAX_INFLATED_BODY_SIZE_BYTES });
  } catch (err) {
    throw new RegisterBodyError(`compressed RegisterBrokerBody does not inflate: ${(err as Error).message}`);
  }
  const decoder = new TextDecoder();
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let pos = 0;
  const readInt = (what: string): number => {
    if (pos + 4 > data.length) throw new RegisterBodyError(`compressed RegisterBrokerBody ends inside ${what}`);
    const v = view.getInt32(pos);
    pos += 4;
    return v;
  };
  const readText = (what: string): string => {
    const len = readInt(`${what} length`);
    if (len < 0 || pos + len > data.length) throw new RegisterBodyError(`compressed RegisterBrokerBody: ${what} length ${len} out of range`);
    const s = decoder.decode(data.subarray(pos, pos + len));
    pos += len;
    return s;
  };
  let dataVersion: DataVersion;
  try {
    dataVersion = toDataVersion(parseFastjson(readText("dataVersion")));
  } catch (err) {
    if (err instanceof RegisterBodyError) throw err;
    throw new RegisterBodyError(`compressed RegisterBrokerBody: bad dataVersion: ${(err as Error).message}`);
  }
  const count = readInt("topic count");
  if (count < 0 || count > MAX_TOPICS_PER_REGISTRATION) throw new RegisterBodyError(`compressed RegisterBrokerBody: topic count ${count} out of range`);
  const topicConfigs: RegisteredTopicConfig[] = [];
  for (let i = 0; i < count; i++) {
    const fields = readText(`topic config ${i}`).split(" ");
    // Java TopicConfig.decode: exactly 5 fields or the entry keeps its defaults (and no name).
    if (fields.length !== 5 || !fields.slice(1, 4).every((f) => /^-?\d+$/.test(f))) {
      throw new RegisterBodyError(`compressed RegisterBrokerBody: topic config ${i} is not "name read write perm filterType"`);
    }
    topicConfigs.push({
      topicName: fields[0]!,
      readQueueNums: Number(fields[1]),
      writeQueueNums: Number(fields[2]),
      perm: Number(fields[3]),
      topicFilterType: fields[4]!,
      topicSysFlag: 0,
      order: false,
    });
  }
  let filterServerList: string[] = [];
  if (pos < data.length) {
    try {
      const parsed = JSON.parse(readText("filterServerList"));
      if (Array.isArray(parsed)) filterServerList = parsed.map(String);
    } catch {
      // Java logs and continues with an empty list.
    }
  }
  return { dataVersion, topicConfigs, filterServerList };
}

function asObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new RegisterBodyError(`${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

function intOf(value: unknown, what: string, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  const n = typeof value === "string" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isSafeInteger(n)) throw new RegisterBodyError(`${what} is not an integer`);
  return n;
}
