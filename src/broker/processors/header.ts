// Typed reads of request extFields (protocol doc 1.5). A missing required field throws, which the
// remoting server turns into SYSTEM_ERROR with this message, like Java's "the custom field <x> is null".

import type { ExtFields } from "../../remoting/command.ts";

export class HeaderReader {
  constructor(private readonly ext: ExtFields) {}

  str(name: string): string {
    const v = this.ext[name];
    if (v === undefined) throw new Error(`the custom field <${name}> is null`);
    return v;
  }

  optStr(name: string): string | undefined {
    return this.ext[name];
  }

  int(name: string): number {
    return parseInteger(name, this.str(name));
  }

  /**
   * A Java long that only bounds a range (QUERY_MESSAGE's begin/end timestamps). mqadmin's
   * queryMsgByKey sends endTimestamp Long.MAX_VALUE for "no upper bound", past a double's exact
   * range, so the value saturates at ±MAX_SAFE_INTEGER instead of failing: order is all callers use.
   */
  bound(name: string): number {
    const text = this.str(name).trim();
    if (!/^-?\d+$/.test(text)) throw new Error(`the custom field <${name}> is not an integer: ${text}`);
    return Math.max(-Number.MAX_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, Number(text)));
  }

  optInt(name: string): number | undefined {
    const v = this.ext[name];
    return v === undefined ? undefined : parseInteger(name, v);
  }

  /** Java Boolean.parseBoolean: only "true" (any case) is true. */
  bool(name: string, fallback = false): boolean {
    const v = this.ext[name];
    return v === undefined ? fallback : v.toLowerCase() === "true";
  }
}

/** Digits a safe integer can have without a range check (2^53 has 16). */
const FAST_PATH_MAX_DIGITS = 15;

/**
 * A decimal integer like Java's Long.parseLong after a trim. Plain digits (every header a client
 * sends) take a digit loop; anything else goes through the regex, which also names the problem.
 */
function parseInteger(name: string, text: string): number {
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
  if (!/^-?\d+$/.test(t)) throw new Error(`the custom field <${name}> is not an integer: ${text}`);
  const n = Number(t);
  if (!Number.isSafeInteger(n)) throw new Error(`the custom field <${name}> is out of range: ${text}`);
  return n;
}
