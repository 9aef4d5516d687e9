// JSON the way Apache RocketMQ's fastjson 1.2.69 writes and reads it (protocol doc §4, §4.8).
//
// Writing: `toFastjson(value, mode)`.
//  - Plain objects are Java beans: keys sorted alphabetically, null/undefined values omitted.
//  - A JS `Map` is a Java Map: keys kept in insertion order. Number keys are written bare
//    (`{0:"a"}`) in "default" mode and quoted (`{"0":"a"}`) in "standard" mode; object keys (a
//    MessageQueue) are written as an object literal in "default" mode and as a JSON string holding
//    that object in "standard" mode (Java fastjson reads both back, protocol doc §4.7).
//  - Sets and arrays are arrays; bigint is a bare number.
//  - "standard" mode also escapes non-ASCII as \uXXXX (fastjson BrowserCompatible).
//
// Reading: `parseFastjson(text)` accepts standard JSON plus fastjson's forms: bare numeric keys,
// unquoted identifier keys, and object/array literals as keys. Every object comes back as a plain
// object with string keys; a bare numeric key becomes its decimal text and a literal key becomes
// its standard JSON text with keys sorted (so `{{"queueId":0,...}:1}` and
// `{"{\"brokerName\"...}":1}` give the same key when both were written sorted, as fastjson does).

export type FastjsonMode = "default" | "standard";

/** Deepest nesting written or parsed: bounds recursion on hostile input; real bodies nest < 10. */
const MAX_NESTING_DEPTH = 256;

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

export function toFastjson(value: unknown, mode: FastjsonMode = "default"): string {
  const out: string[] = [];
  writeValue(value, mode, out, 0);
  return out.join("");
}

/** toFastjson as UTF-8 bytes, ready for a RemotingCommand body. */
export function encodeFastjson(value: unknown, mode: FastjsonMode = "default"): Uint8Array {
  return textEncoder.encode(toFastjson(value, mode));
}

function writeValue(value: unknown, mode: FastjsonMode, out: string[], depth: number): void {
  if (depth > MAX_NESTING_DEPTH) throw new Error(`fastjson: value nested deeper than ${MAX_NESTING_DEPTH}`);
  if (value === null || value === undefined) {
    out.push("null");
  } else if (typeof value === "string") {
    out.push(quote(value, mode));
  } else if (typeof value === "number") {
    // Java has no NaN/Infinity in these bodies; fastjson would write null.
    out.push(Number.isFinite(value) ? String(value) : "null");
  } else if (typeof value === "bigint") {
    out.push(value.toString());
  } else if (typeof value === "boolean") {
    out.push(value ? "true" : "false");
  } else if (Array.isArray(value) || value instanceof Set) {
    out.push("[");
    let first = true;
    for (const item of value) {
      if (!first) out.push(",");
      first = false;
      writeValue(item, mode, out, depth + 1);
    }
    out.push("]");
  } else if (value instanceof Map) {
    out.push("{");
    let first = true;
    for (const [k, v] of value) {
      if (v === undefined || v === null) continue;
      if (!first) out.push(",");
      first = false;
      writeKey(k, mode, out, depth);
      out.push(":");
      writeValue(v, mode, out, depth + 1);
    }
    out.push("}");
  } else if (typeof value === "object") {
    const obj = value as Record<string, unknown>;
    out.push("{");
    let first = true;
    for (const k of Object.keys(obj).sort()) {
      const v = obj[k];
      if (v === undefined || v === null || typeof v === "function") continue;
      if (!first) out.push(",");
      first = false;
      out.push(quote(k, mode), ":");
      writeValue(v, mode, out, depth + 1);
    }
    out.push("}");
  } else {
    throw new Error(`fastjson: cannot serialize a ${typeof value}`);
  }
}

function writeKey(key: unknown, mode: FastjsonMode, out: string[], depth: number): void {
  if (typeof key === "string") out.push(quote(key, mode));
  else if (typeof key === "number" || typeof key === "bigint") out.push(mode === "default" ? String(key) : `"${String(key)}"`);
  else if (typeof key === "object" && key !== null) {
    if (mode === "default") writeValue(key, mode, out, depth + 1);
    else out.push(quote(toFastjson(key, "default"), mode));
  } else out.push(quote(String(key), mode));
}

function quote(s: string, mode: FastjsonMode): string {
  const json = JSON.stringify(s);
  if (mode === "default") return json;
  // BrowserCompatible: everything outside printable ASCII as \uXXXX.
  return json.replace(/[\u007f-\uffff]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}

export class FastjsonSyntaxError extends Error {
  override name = "FastjsonSyntaxError";
}

/** Parses standard JSON and fastjson's non-standard key forms (see the file comment). */
export function parseFastjson(text: string): unknown {
  const parser = new Parser(text);
  parser.skipWhitespace();
  const value = parser.parseValue(0);
  parser.skipWhitespace();
  if (parser.pos !== text.length) parser.fail("unexpected trailing characters");
  return value;
}

/** parseFastjson over UTF-8 bytes (a RemotingCommand body). */
export function decodeFastjson(bytes: Uint8Array): unknown {
  return parseFastjson(textDecoder.decode(bytes));
}

/** Standard JSON text of a value with object keys sorted: the canonical form of a literal key. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

const NUMBER_PATTERN = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const IDENTIFIER_PATTERN = /[A-Za-z_$][A-Za-z0-9_$]*/y;

class Parser {
  pos = 0;
  constructor(private readonly text: string) {}

  fail(message: string): never {
    throw new FastjsonSyntaxError(`${message} at offset ${this.pos}`);
  }

  skipWhitespace(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.pos++;
      else break;
    }
  }

  parseValue(depth: number): unknown {
    if (depth > MAX_NESTING_DEPTH) this.fail(`nested deeper than ${MAX_NESTING_DEPTH}`);
    const c = this.text[this.pos];
    if (c === "{") return this.parseObject(depth);
    if (c === "[") return this.parseArray(depth);
    if (c === '"') return this.parseString();
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return this.parseNumber();
    if (this.text.startsWith("true", this.pos)) return (this.pos += 4), true;
    if (this.text.startsWith("false", this.pos)) return (this.pos += 5), false;
    if (this.text.startsWith("null", this.pos)) return (this.pos += 4), null;
    return this.fail(c === undefined ? "unexpected end of input" : `unexpected character ${JSON.stringify(c)}`);
  }

  private parseNumber(): number {
    NUMBER_PATTERN.lastIndex = this.pos;
    const m = NUMBER_PATTERN.exec(this.text);
    if (!m) this.fail("malformed number");
    this.pos += m[0].length;
    return Number(m[0]);
  }

  private parseString(): string {
    // Find the closing quote, then let JSON.parse handle escapes.
    const start = this.pos;
    let i = start + 1;
    const t = this.text;
    while (i < t.length) {
      const c = t[i];
      if (c === "\\") i += 2;
      else if (c === '"') break;
      else i++;
    }
    if (i >= t.length) this.fail("unterminated string");
    this.pos = i + 1;
    try {
      return JSON.parse(t.slice(start, i + 1)) as string;
    } catch {
      this.pos = start;
      return this.fail("malformed string");
    }
  }

  private parseKey(depth: number): string {
    const c = this.text[this.pos];
    if (c === '"') return this.parseString();
    if (c === "{" || c === "[") return canonicalJson(this.parseValue(depth + 1));
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) {
      NUMBER_PATTERN.lastIndex = this.pos;
      const m = NUMBER_PATTERN.exec(this.text);
      if (!m) this.fail("malformed numeric key");
      this.pos += m[0].length;
      return m[0];
    }
    IDENTIFIER_PATTERN.lastIndex = this.pos;
    const m = IDENTIFIER_PATTERN.exec(this.text);
    if (!m) this.fail("expected an object key");
    this.pos += m[0].length;
    return m[0];
  }

  private parseObject(depth: number): Record<string, unknown> {
    this.pos++; // {
    const obj: Record<string, unknown> = {};
    this.skipWhitespace();
    if (this.text[this.pos] === "}") return this.pos++, obj;
    for (;;) {
      this.skipWhitespace();
      const key = this.parseKey(depth);
      this.skipWhitespace();
      if (this.text[this.pos] !== ":") this.fail("expected ':' after an object key");
      this.pos++;
      this.skipWhitespace();
      // defineProperty: a "__proto__" key must stay data, not change the prototype.
      Object.defineProperty(obj, key, { value: this.parseValue(depth + 1), enumerable: true, writable: true, configurable: true });
      this.skipWhitespace();
      const c = this.text[this.pos++];
      if (c === "}") return obj;
      if (c !== ",") {
        this.pos--;
        this.fail("expected ',' or '}' in an object");
      }
    }
  }

  private parseArray(depth: number): unknown[] {
    this.pos++; // [
    const arr: unknown[] = [];
    this.skipWhitespace();
    if (this.text[this.pos] === "]") return this.pos++, arr;
    for (;;) {
      this.skipWhitespace();
      arr.push(this.parseValue(depth + 1));
      this.skipWhitespace();
      const c = this.text[this.pos++];
      if (c === "]") return arr;
      if (c !== ",") {
        this.pos--;
        this.fail("expected ',' or ']' in an array");
      }
    }
  }
}
