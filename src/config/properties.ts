// java.util.Properties text format: what broker.conf / namesrv.conf files use.
// Supported: `#` and `!` comment lines, blank lines, `key=value`, `key: value`, `key value`,
// leading whitespace of keys and values dropped, backslash line continuation, and the escapes
// \t \n \r \f \uXXXX and `\<char>` (e.g. `\=` in a key). Unlike Java, trailing whitespace of a value
// is trimmed too: Java keeps it and then silently fails to parse `10911 ` as a number, which is
// never what the operator meant.

export type Properties = Map<string, string>;

/** Lines longer than this are refused: a config file is small, a huge line is a wrong file. */
const MAX_LOGICAL_LINE_LENGTH_CHARS = 1_048_576;

export class PropertiesSyntaxError extends Error {
  override name = "PropertiesSyntaxError";
}

export function parseProperties(text: string): Properties {
  const props: Properties = new Map();
  const physical = text.split(/\r\n|\r|\n/);
  let lineNo = 0;
  while (lineNo < physical.length) {
    const startLine = lineNo + 1;
    let line = stripLeadingWhitespace(physical[lineNo++]!);
    if (line.length === 0 || line[0] === "#" || line[0] === "!") continue;
    // Join continuation lines: an odd number of trailing backslashes continues the line.
    while (endsWithContinuation(line) && lineNo < physical.length) {
      line = line.slice(0, -1) + stripLeadingWhitespace(physical[lineNo++]!);
      if (line.length > MAX_LOGICAL_LINE_LENGTH_CHARS) {
        throw new PropertiesSyntaxError(`line ${startLine}: longer than ${MAX_LOGICAL_LINE_LENGTH_CHARS} characters`);
      }
    }
    if (endsWithContinuation(line)) line = line.slice(0, -1);
    const [rawKey, rawValue] = splitKeyValue(line);
    const key = unescape(rawKey, startLine);
    props.set(key, unescape(rawValue, startLine).trim());
  }
  return props;
}

/**
 * Writes properties as `key=value` lines (config files, GET_NAMESRV_CONFIG / GET_BROKER_CONFIG
 * bodies), escaped so that parseProperties reads back exactly what was written: a backslash, a line
 * break or a separator inside a key can never start another line or key.
 */
export function formatProperties(entries: Iterable<[string, string | number | boolean]>): string {
  let out = "";
  for (const [key, value] of entries) out += `${escapeText(key, true)}=${escapeText(String(value), false)}\n`;
  return out;
}

function escapeText(s: string, isKey: boolean): string {
  if (!/[\\\r\n\f\t=:# !]/.test(s)) return s;
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "\\") out += "\\\\";
    else if (c === "\n") out += "\\n";
    else if (c === "\r") out += "\\r";
    else if (c === "\f") out += "\\f";
    else if (c === "\t") out += "\\t";
    else if (isKey && (c === "=" || c === ":" || c === " " || c === "#" || c === "!")) out += "\\" + c;
    else if (!isKey && i === 0 && c === " ") out += "\\ ";
    else out += c;
  }
  return out;
}

function stripLeadingWhitespace(s: string): string {
  return s.replace(/^[ \t\f]+/, "");
}

function endsWithContinuation(line: string): boolean {
  let backslashes = 0;
  for (let i = line.length - 1; i >= 0 && line[i] === "\\"; i--) backslashes++;
  return backslashes % 2 === 1;
}

/** Splits at the first unescaped `=`, `:` or whitespace; one `=`/`:` may follow whitespace. */
function splitKeyValue(line: string): [string, string] {
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === "\\") {
      i += 2;
      continue;
    }
    if (c === "=" || c === ":" || c === " " || c === "\t" || c === "\f") break;
    i++;
  }
  const key = line.slice(0, Math.min(i, line.length));
  let j = i;
  while (j < line.length && (line[j] === " " || line[j] === "\t" || line[j] === "\f")) j++;
  if (j < line.length && (line[j] === "=" || line[j] === ":")) j++;
  while (j < line.length && (line[j] === " " || line[j] === "\t" || line[j] === "\f")) j++;
  return [key, line.slice(j)];
}

function unescape(s: string, lineNo: number): string {
  if (!s.includes("\\")) return s;
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== "\\") {
      out += c;
      continue;
    }
    const next = s[++i];
    if (next === undefined) break;
    if (next === "t") out += "\t";
    else if (next === "n") out += "\n";
    else if (next === "r") out += "\r";
    else if (next === "f") out += "\f";
    else if (next === "u") {
      const hex = s.slice(i + 1, i + 5);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new PropertiesSyntaxError(`line ${lineNo}: malformed \\uXXXX escape`);
      out += String.fromCharCode(parseInt(hex, 16));
      i += 4;
    } else out += next;
  }
  return out;
}
