// A consumer's subscription to one topic (Java SubscriptionData / FilterAPI.buildSubscriptionData),
// as carried by HEART_BEAT bodies and PULL_MESSAGE headers, and the tag-hash filter built from it.

import { tagsHashCode } from "../common/message.ts";
import type { MessageFilter } from "../store/store-types.ts";

export const SUB_ALL = "*";

export interface SubscriptionData {
  topic: string;
  subString: string;
  tagsSet: string[];
  codeSet: number[];
  subVersion: number;
  expressionType: string;
  classFilterMode: boolean;
}

/** Subscription strings longer than this are refused: they are parsed on every pull with the flag set. */
export const MAX_SUBSCRIPTION_LENGTH_CHARS = 65_536;

/** Java FilterAPI.buildSubscriptionData for TAG expressions: `*`/empty = all, else `a || b`. */
export function buildSubscriptionData(topic: string, subString: string | undefined, subVersion: number, expressionType = "TAG"): SubscriptionData {
  const sub: SubscriptionData = {
    topic,
    subString: SUB_ALL,
    tagsSet: [],
    codeSet: [],
    subVersion,
    expressionType,
    classFilterMode: false,
  };
  if (subString === undefined || subString.trim().length === 0 || subString.trim() === SUB_ALL) return sub;
  if (subString.length > MAX_SUBSCRIPTION_LENGTH_CHARS) throw new Error(`subscription longer than ${MAX_SUBSCRIPTION_LENGTH_CHARS} chars`);
  sub.subString = subString;
  if (expressionType !== "TAG") return sub;
  for (const part of subString.split("||")) {
    const tag = part.trim();
    if (tag.length === 0 || sub.tagsSet.includes(tag)) continue;
    sub.tagsSet.push(tag);
    sub.codeSet.push(tagsHashCode(tag));
  }
  if (sub.tagsSet.length === 0) throw new Error(`subscription "${subString}" has no tag`);
  return sub;
}

/** SubscriptionData from a HEART_BEAT JSON element; undefined when the shape is wrong. */
export function subscriptionFromJson(raw: unknown): SubscriptionData | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  if (typeof r.topic !== "string") return undefined;
  const subVersion = Number(r.subVersion ?? 0);
  const expressionType = typeof r.expressionType === "string" ? r.expressionType : "TAG";
  const subString = typeof r.subString === "string" ? r.subString : SUB_ALL;
  const tagsSet = Array.isArray(r.tagsSet) ? r.tagsSet.filter((t): t is string => typeof t === "string") : [];
  // Recompute the codes from the tags: a client could send anything in codeSet.
  const codeSet = tagsSet.map(tagsHashCode);
  return {
    topic: r.topic,
    subString,
    tagsSet,
    codeSet,
    subVersion: Number.isFinite(subVersion) ? subVersion : 0,
    expressionType,
    classFilterMode: r.classFilterMode === true,
  };
}

/** Alphabetical keys like fastjson. */
export function subscriptionToJson(s: SubscriptionData): Record<string, unknown> {
  return {
    classFilterMode: s.classFilterMode,
    codeSet: s.codeSet,
    expressionType: s.expressionType,
    subString: s.subString,
    subVersion: s.subVersion,
    tagsSet: s.tagsSet,
    topic: s.topic,
  };
}

/** Java ExpressionMessageFilter.isMatchedByConsumeQueue for TAG subscriptions. */
export function tagFilter(sub: SubscriptionData | undefined): MessageFilter | undefined {
  if (!sub || sub.classFilterMode || sub.subString === SUB_ALL || sub.codeSet.length === 0) return undefined;
  const codes = new Set(sub.codeSet);
  return (tagsCode: number) => codes.has(tagsCode | 0);
}
