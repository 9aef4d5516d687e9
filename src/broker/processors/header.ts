// Typed reads of request extFields (protocol doc 1.5). A missing required field throws, which the
// remoting server turns into SYSTEM_ERROR with this message, like Java's "the custom field <x> is null".
// Topics, groups and client ids are validated here, where they enter (common/topic.ts rules): a bad
// one is refused with SYSTEM_ERROR (Java TopicValidator's code) and a remark naming the field.

import { clientIdProblem, groupNameProblem, topicNameProblem } from "../../common/topic.ts";
import { ResponseCode } from "../../remoting/codes.ts";
import type { ExtFields } from "../../remoting/command.ts";
import { RequestRefusedError } from "../../remoting/errors.ts";

/** Throws the refusal of a bad name: `problem` from common/topic.ts, prefixed with where it came from. */
export function refuseBadName(where: string, problem: string | null): void {
  if (problem !== null) throw new RequestRefusedError(ResponseCode.SYSTEM_ERROR, `${where}: ${problem}`);
}

export class HeaderReader {
  constructor(private readonly ext: ExtFields) {}

  str(name: string): string {
    const v = this.ext[name];
    if (v === undefined) throw new RequestRefusedError(ResponseCode.SYSTEM_ERROR, `the custom field <${name}> is null`);
    return v;
  }

  optStr(name: string): string | undefined {
    return this.ext[name];
  }

  int(name: string): number {
    return parseInteger(name, this.str(name));
  }

  optInt(name: string): number | undefined {
    const v = this.ext[name];
    return v === undefined ? undefined : parseInteger(name, v);
  }

  /**
   * A Java long that is only compared, never stored or echoed: the ends of a time range. Clients
   * send Long.MAX_VALUE for "no end" (viewMessage by uniq key, mqadmin queryMsgByKey), which a
   * double cannot hold exactly; any long beyond 2^53 is clamped to ±MAX_SAFE_INTEGER, which
   * compares the same against every real timestamp. Values outside Java's long range still fail.
   */
  longBound(name: string): number {
    return parseInteger(name, this.str(name), true);
  }

  topic(name: string): string {
    const v = this.str(name);
    refuseBadName(`the custom field <${name}>`, topicNameProblem(v));
    return v;
  }

  group(name: string): string {
    const v = this.str(name);
    refuseBadName(`the custom field <${name}>`, groupNameProblem(v));
    return v;
  }

  /** An optional group: absent or empty means none. */
  optGroup(name: string): string | undefined {
    const v = this.ext[name];
    if (v === undefined || v.length === 0) return undefined;
    refuseBadName(`the custom field <${name}>`, groupNameProblem(v));
    return v;
  }

  clientId(name: string): string {
    const v = this.str(name);
    refuseBadName(`the custom field <${name}>`, clientIdProblem(v));
    return v;
  }

  /** Java Boolean.parseBoolean: only "true" (any case) is true. */
  bool(name: string, fallback = false): boolean {
    const v = this.ext[name];
    return v === undefined ? fallback : v.toLowerCase() === "true";
  }
}

/** Java's long range: a header value outside it fails Long.parseLong in Java too. */
const JAVA_LONG_MIN = -(2n ** 63n);
const JAVA_LONG_MAX = 2n ** 63n - 1n;

/** Digits a safe integer can have without a range check (2^53 has 16). */
const FAST_PATH_MAX_DIGITS = 15;

/**
 * A decimal integer like Java's Long.parseLong after a trim. Plain digits (every header a client
 * sends) take a digit loop; anything else goes through the regex, which also names the problem.
 */
function parseInteger(name: string, text: string, clampToSafe = false): number {
  const negative = text.charCodeAt(0) === 45; // '-'
  const start = negative ? 1 : 0;
  const length = text.length - start;
  if (length > 0 && length <= FAST_PATH_MAX_DIGITS) {
    let n = 0;
    let i = start;
    for (; i < text.length; i++) {
      const digit = text.charCodeAt(i) - 48;
      if (digit < 0 || digit > 9) break;
      n = n * 10 + digit;
    }
    if (i === text.length) return negative ? -n : n;
  }
  const t = text.trim();
  if (!/^-?\d+$/.test(t)) throw new RequestRefusedError(ResponseCode.SYSTEM_ERROR, `the custom field <${name}> is not an integer: ${text}`);
  const n = Number(t);
  if (Number.isSafeInteger(n)) return n;
  const big = BigInt(t);
  if (!clampToSafe || big < JAVA_LONG_MIN || big > JAVA_LONG_MAX) throw new RequestRefusedError(ResponseCode.SYSTEM_ERROR, `the custom field <${name}> is out of range: ${text}`);
  return big < 0n ? -Number.MAX_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
}
