// The body of UPDATE_BROKER_CONFIG / UPDATE_NAMESRV_CONFIG: `key=value` lines read with the
// config file's own parser (properties.ts), refused whole when a key is not on the caller's
// allow-list of keys that may change at run time, or when a key or value holds a line break or
// another control character (an escaped `\n` would otherwise become a new line, hence a new key,
// once the value is written back to the properties file). Values are then checked by the caller
// with the config's zod schema, like the file's.

import { parseProperties, PropertiesSyntaxError, type Properties } from "./properties.ts";

/** Line breaks and other control characters (tab excepted), DEL and the Unicode line separators. */
const UNSAFE_CHARACTER = /[\u0000-\u0008\u000a-\u001f\u007f\u2028\u2029]/;
/** An update body larger than this is not an operator's change. */
export const CONFIG_UPDATE_MAX_SIZE_BYTES = 65_536;

export type ConfigUpdateResult = { ok: true; updates: Properties } | { ok: false; refusal: "malformed" | "not-allowed"; remark: string };

export function readConfigUpdate(body: Uint8Array, allowedKeys: ReadonlySet<string>): ConfigUpdateResult {
  if (body.length > CONFIG_UPDATE_MAX_SIZE_BYTES) {
    return { ok: false, refusal: "malformed", remark: `config update body has ${body.length} bytes, more than ${CONFIG_UPDATE_MAX_SIZE_BYTES}` };
  }
  let updates: Properties;
  try {
    updates = parseProperties(new TextDecoder().decode(body));
  } catch (err) {
    if (!(err instanceof PropertiesSyntaxError)) throw err;
    return { ok: false, refusal: "malformed", remark: `string2Properties error: ${err.message}` };
  }
  for (const [key, value] of updates) {
    if (UNSAFE_CHARACTER.test(key) || UNSAFE_CHARACTER.test(value)) {
      return { ok: false, refusal: "malformed", remark: `config key ${JSON.stringify(key.slice(0, 100))}: keys and values may not contain line breaks or control characters` };
    }
    if (!allowedKeys.has(key)) {
      return { ok: false, refusal: "not-allowed", remark: `Can not update config ${key.slice(0, 100)}: not among the keys that may change at run time (${[...allowedKeys].join(", ")})` };
    }
  }
  return { ok: true, updates };
}
