// Broker config files under <storePathRootDir>/config (storage doc §11): written like Java
// MixAll.string2File (tmp, .bak, rename) and read back leniently (fastjson's unquoted numeric keys).

import fs from "node:fs";
import path from "node:path";
import { parseFastjson } from "../common/fastjson.ts";

/** Writes `content` to `file` through `<file>.tmp`, keeping the previous content as `<file>.bak`. */
export function writeConfigFile(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = file + ".tmp";
  fs.writeFileSync(tmp, content);
  if (fs.existsSync(file)) fs.copyFileSync(file, file + ".bak");
  fs.renameSync(tmp, file);
}

/** Parsed content of `file`, or of `<file>.bak` when the file is missing, empty or unparsable. */
export function readConfigFile(file: string): unknown | undefined {
  for (const candidate of [file, file + ".bak"]) {
    let text: string;
    try {
      text = fs.readFileSync(candidate, "utf8");
    } catch {
      continue;
    }
    if (text.trim().length === 0) continue;
    try {
      return parseFastjson(text);
    } catch {
      continue;
    }
  }
  return undefined;
}

/** Standard JSON with tab indentation, the shape fastjson's pretty printer gives (Java reads both). */
export function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, "\t");
}
