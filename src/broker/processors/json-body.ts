// Request bodies in JSON (protocol doc 4): parsed with a named problem instead of a throw.

import { parseFastjson } from "../../common/fastjson.ts";

const decoder = new TextDecoder();

export type JsonBody = { ok: true; value: unknown } | { ok: false; problem: string };

/** Parses a JSON object body (fastjson's unquoted numeric keys tolerated). */
export function parseJsonBody(body: Uint8Array | undefined): JsonBody {
  if (!body || body.length === 0) return { ok: false, problem: "is missing" };
  const text = decoder.decode(body);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    try {
      value = parseFastjson(text);
    } catch {
      return { ok: false, problem: `is not JSON: ${(err as Error).message}` };
    }
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { ok: false, problem: "is not a JSON object" };
  return { ok: true, value };
}

const encoder = new TextEncoder();

export function jsonBody(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}
