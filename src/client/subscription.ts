// Tag subscriptions (Java FilterAPI.buildSubscriptionData; protocol doc 5.7, 6.17).

import { tagsHashCode } from "../common/message.ts";

export const SUB_ALL = "*";

/** SubscriptionData as sent in HEART_BEAT bodies, keys in fastjson order. */
export interface SubscriptionData {
  classFilterMode: boolean;
  codeSet: number[];
  expressionType: "TAG";
  subString: string;
  subVersion: number;
  tagsSet: string[];
  topic: string;
}

/** `*`, empty → all; otherwise tags split on `||`, trimmed, empty parts dropped. */
export function buildSubscription(topic: string, expression: string | undefined, subVersion = Date.now()): SubscriptionData {
  const text = (expression ?? "").trim();
  const tagsSet: string[] = [];
  if (text !== "" && text !== SUB_ALL) {
    for (const part of text.split("||")) {
      const tag = part.trim();
      if (tag.length > 0 && !tagsSet.includes(tag)) tagsSet.push(tag);
    }
  }
  const subString = tagsSet.length === 0 ? SUB_ALL : text;
  return {
    classFilterMode: false,
    codeSet: tagsSet.map((t) => tagsHashCode(t)),
    expressionType: "TAG",
    subString,
    subVersion,
    tagsSet,
    topic,
  };
}

/** Client-side re-filter: the broker only compared hash codes, which can collide. */
export function subscriptionMatches(sub: SubscriptionData, tag: string | undefined): boolean {
  if (sub.tagsSet.length === 0) return true;
  return tag !== undefined && sub.tagsSet.includes(tag);
}
