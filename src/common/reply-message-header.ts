// The header of PUSH_REPLY_MESSAGE_TO_CLIENT (326), Java ReplyMessageRequestHeader: the broker
// writes it when it pushes a reply to the requesting client, the client reads it. The send fields
// keep SendMessageRequestHeader's V1 names; the three host / time fields are the broker's.

import type { ExtFields } from "../remoting/command.ts";
import type { SendMessageFields } from "./send-message-fields.ts";

export interface ReplyMessageHeader extends SendMessageFields {
  /** The replier's address, "ip:port" (Java requires it and parses it as a socket address). */
  bornHost: string;
  /** The broker's address, "ip:port". */
  storeHost: string;
  storeTimestamp: number;
}

/** Every field is written: Java marks all but properties / reconsumeTimes / unitMode @CFNotNull. */
export function encodeReplyMessageHeader(h: ReplyMessageHeader): Record<string, string> {
  return {
    producerGroup: h.producerGroup,
    topic: h.topic,
    defaultTopic: h.defaultTopic,
    defaultTopicQueueNums: String(h.defaultTopicQueueNums),
    queueId: String(h.queueId),
    sysFlag: String(h.sysFlag),
    bornTimestamp: String(h.bornTimestamp),
    flag: String(h.flag),
    properties: h.properties,
    reconsumeTimes: String(h.reconsumeTimes),
    unitMode: String(h.unitMode),
    bornHost: h.bornHost,
    storeHost: h.storeHost,
    storeTimestamp: String(h.storeTimestamp),
  };
}

/** Reads a pushed reply's header; throws naming the first missing or non-numeric required field. */
export function decodeReplyMessageHeader(ext: ExtFields): ReplyMessageHeader {
  const str = (name: string): string => {
    const v = ext[name];
    if (v === undefined) throw new Error(`the custom field <${name}> is null`);
    return v;
  };
  const int = (name: string, fallback?: number): number => {
    const v = ext[name];
    if (v === undefined && fallback !== undefined) return fallback;
    const text = str(name);
    const n = Number(text);
    if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(n)) throw new Error(`the custom field <${name}> is not an integer: ${v}`);
    return n;
  };
  return {
    producerGroup: str("producerGroup"),
    topic: str("topic"),
    defaultTopic: str("defaultTopic"),
    defaultTopicQueueNums: int("defaultTopicQueueNums"),
    queueId: int("queueId"),
    sysFlag: int("sysFlag"),
    bornTimestamp: int("bornTimestamp"),
    flag: int("flag"),
    properties: ext.properties ?? "",
    reconsumeTimes: int("reconsumeTimes", 0),
    unitMode: (ext.unitMode ?? "false").toLowerCase() === "true",
    bornHost: str("bornHost"),
    storeHost: str("storeHost"),
    storeTimestamp: int("storeTimestamp"),
  };
}
