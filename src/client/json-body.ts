// JSON bodies from brokers and NameServers. tsmq peers send standard JSON; Java peers may send
// fastjson quirks (protocol doc 4.8), which common/fastjson.ts reads.

import { decodeFastjson } from "../common/fastjson.ts";
import { MQClientError, errorText } from "./errors.ts";
import type { MessageQueue } from "./message-queue.ts";

const textEncoder = new TextEncoder();

export function decodeJsonBody(body: Uint8Array | undefined, what: string): unknown {
  if (!body || body.length === 0) throw new MQClientError(`${what}: response has no body`);
  try {
    return decodeFastjson(body);
  } catch (err) {
    throw new MQClientError(`${what}: body is not JSON: ${errorText(err)}`, { cause: err });
  }
}

/** Standard JSON: accepted by Java fastjson and ali-ons alike. */
export function encodeJsonBody(value: unknown): Uint8Array {
  return textEncoder.encode(JSON.stringify(value));
}

/** A map key that is a serialized MessageQueue (protocol doc 4.7); undefined for other keys. */
export function parseMqKey(key: string): MessageQueue | undefined {
  try {
    const v = JSON.parse(key) as Record<string, unknown>;
    if (typeof v.topic !== "string" || typeof v.brokerName !== "string") return undefined;
    return { topic: v.topic, brokerName: v.brokerName, queueId: Number(v.queueId) };
  } catch {
    return undefined;
  }
}
