// Pieces shared by the client subcommands of the CLI (produce, consume, admin).

import { MQBrokerError, errorText } from "./errors.ts";
import { parseNamesrvAddr } from "./client-config.ts";

/** Common `-n` argument, falling back to NAMESRV_ADDR like the Java tools. */
export const namesrvArg = {
  namesrvAddr: { type: "string", alias: "n", description: "NameServer address(es), host:port[;host:port] (default: env NAMESRV_ADDR)" },
} as const;

/** The NameServer list, or exit 1 with a message naming the fix. */
export function namesrvOrExit(command: string, value: string | undefined): string[] {
  const addrs = parseNamesrvAddr(value ?? process.env.NAMESRV_ADDR);
  if (addrs.length === 0) fail(command, "no NameServer address: pass -n host:port or set NAMESRV_ADDR");
  return addrs;
}

export function fail(command: string, message: string): never {
  process.stderr.write(`tsmq ${command}: ${message}\n`);
  process.exit(1);
}

/** Exit 1 with the error's message (and RocketMQ code when a peer answered with one). */
export function failWith(command: string, err: unknown): never {
  const text = err instanceof MQBrokerError ? `${err.remark || err.message} (code ${err.code})` : errorText(err);
  fail(command, text);
}

/** Parses a positive integer flag or exits naming it. */
export function intArg(command: string, name: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) fail(command, `--${name} must be an integer >= ${min}, got ${value}`);
  return n;
}

/** `k=v,k2=v2` into a map, or exit. */
export function propsArg(command: string, value: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!value) return out;
  for (const pair of value.split(",")) {
    const at = pair.indexOf("=");
    if (at <= 0) fail(command, `--props expects k=v[,k=v], got ${JSON.stringify(pair)}`);
    out[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return out;
}

/** Fixed-width text table. */
export function formatTable(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = rows.map((r) => r.map(String));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(headers), ...cells.map(line)].join("\n") + "\n";
}
