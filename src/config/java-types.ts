// zod field types for RocketMQ config keys, parsed from properties text the way the Java setters
// would (int / long / double / boolean / String / enum name), but strict: a value that does not
// parse is an error naming the key and the expected type (Java silently ignores it).
// Also the shared loader: properties + overrides -> typed config, unknown keys -> warnings.

import { z } from "zod";
import { parseProperties, type Properties } from "./properties.ts";

const INT_MIN = -2_147_483_648;
const INT_MAX = 2_147_483_647;
const DECIMAL_INTEGER = /^[+-]?\d+$/;

/** Turns a decimal string into a number; anything else passes through for zod to reject. */
function integerFromText(value: unknown): unknown {
  return typeof value === "string" && DECIMAL_INTEGER.test(value.trim()) ? Number(value.trim()) : value;
}

/** Java `int`: 32-bit signed. */
export function javaInt(defaultValue: number) {
  const message = "expected an int (32-bit integer)";
  return z
    .preprocess(integerFromText, z.number({ invalid_type_error: message }).int(message).min(INT_MIN, message).max(INT_MAX, message))
    .default(defaultValue);
}

/** Java `long`; tsmq keeps longs in JS numbers, so values beyond 2^53 are refused rather than rounded. */
export function javaLong(defaultValue: number) {
  const message = "expected a long (integer within ±2^53)";
  return z
    .preprocess(integerFromText, z.number({ invalid_type_error: message }).int(message).refine(Number.isSafeInteger, message))
    .default(defaultValue);
}

/** Java `boolean`; only `true` / `false` (any case) are accepted. */
export function javaBoolean(defaultValue: boolean) {
  const message = "expected a boolean (true or false)";
  return z
    .preprocess((v) => {
      if (typeof v !== "string") return v;
      const lower = v.trim().toLowerCase();
      return lower === "true" ? true : lower === "false" ? false : v;
    }, z.boolean({ invalid_type_error: message }))
    .default(defaultValue);
}

export function javaString(defaultValue: string) {
  return z.string({ invalid_type_error: "expected a string" }).default(defaultValue);
}

/** A String setter that takes an enum name (`brokerRole`, `flushDiskType`). */
export function javaEnum<const T extends readonly [string, ...string[]]>(values: T, defaultValue: T[number]) {
  return z
    .enum(values, { errorMap: () => ({ message: `expected one of ${values.join(", ")}` }) })
    .default(defaultValue as never);
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

export type ConfigInput = Record<string, string | number | boolean | undefined>;

export interface ConfigLoadResult<T> {
  config: T;
  /** One line per key the schema does not know (named), for the caller to log. */
  warnings: string[];
}

/**
 * Builds a typed config from properties and overrides (overrides win; undefined overrides are
 * ignored). Throws ConfigError naming every bad key and its expected type.
 */
export function buildConfig<S extends z.AnyZodObject>(
  schema: S,
  what: string,
  props: Properties,
  overrides: ConfigInput = {},
): ConfigLoadResult<z.infer<S>> {
  const known = schema.shape as Record<string, unknown>;
  const input: Record<string, unknown> = {};
  const warnings: string[] = [];
  for (const [key, value] of props) {
    if (Object.hasOwn(known, key)) input[key] = value;
    else warnings.push(`unknown ${what} config key "${key}" ignored`);
  }
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    if (!Object.hasOwn(known, key)) throw new ConfigError(`unknown ${what} config key "${key}"`);
    input[key] = value;
  }
  const result = schema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = issue.path.join(".");
      return `${what} config key "${key}" = ${JSON.stringify(input[key])}: ${issue.message}`;
    });
    throw new ConfigError(problems.join("; "));
  }
  return { config: result.data, warnings };
}

/** Reads and parses a properties file; a missing file is a ConfigError naming the path. */
export async function readPropertiesFile(path: string): Promise<Properties> {
  const file = Bun.file(path);
  if (!(await file.exists())) throw new ConfigError(`config file ${path} does not exist`);
  try {
    return parseProperties(await file.text());
  } catch (err) {
    throw new ConfigError(`config file ${path}: ${(err as Error).message}`);
  }
}
