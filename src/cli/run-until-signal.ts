// Shared by the server subcommands (namesrv, broker, standalone): config errors exit 1 with the
// message, and a started server runs until SIGINT/SIGTERM, then shuts down cleanly (exit 0).

import { isIP } from "node:net";
import { ConfigError } from "../config/java-types.ts";
import type { Logger } from "../log.ts";
import { useNormalJitPolicy } from "./jit-policy.ts";

/** A server the CLI runs: started once, shut down once. */
export interface RunnableServer {
  start(): Promise<void>;
  shutdown(): Promise<void>;
}

export interface RunUntilSignalOptions {
  /** Logged with the error when start() fails. */
  startFailure: string;
  /** Prints the ready line once started; skipped when a signal came first. */
  ready: () => void;
  /** Undoes a partial start before exit 1 (the broker's store and timers). */
  afterFailedStart?: () => Promise<void>;
  /** Runs last, on both the clean and the failed path (standalone stops its NameServer here). */
  beforeExit?: () => Promise<void>;
}

/**
 * citty hands a string option given without a value (`--store` at the end of the line) over as
 * "": a server would take that as the working directory or port 0. Refuse it, naming the option.
 */
export function requireOptionValues(args: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(args)) {
    if (value === "" && name !== "_") throw new ConfigError(`option --${name} needs a value`);
  }
}

/** Java's brokers and namesrvs listen on every interface; `tsmq broker` / `tsmq namesrv` keep that default. */
export const ALL_INTERFACES = "0.0.0.0";
/** `tsmq standalone` is a trial on one machine: loopback unless told otherwise. */
export const LOOPBACK = "127.0.0.1";

/** The --bind option: an IPv4 or IPv6 address to listen on, `fallback` when absent; ConfigError otherwise. */
export function bindAddress(value: string | undefined, fallback: string): string {
  if (value === undefined) return fallback;
  if (isIP(value) === 0) throw new ConfigError(`option --bind needs an IP address to listen on, got "${value}"`);
  return value;
}

/** Runs `load`; a ConfigError (bad key, unreadable file) is logged and exits 1, anything else propagates. */
export async function exitOnConfigError<T>(log: Logger, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    log.error(err.message);
    process.exit(1);
  }
}

/**
 * Starts `server`, prints the ready line, restores the normal JIT policy (jit-policy.ts) and shuts
 * down cleanly on SIGINT/SIGTERM (exit 0).
 */
export async function runUntilSignal(log: Logger, server: RunnableServer, options: RunUntilSignalOptions): Promise<void> {
  const beforeExit = options.beforeExit ?? (async () => {});
  // Handlers go in before anything starts: a signal right after the ready line must not kill the
  // process with the default action (no unregister, abort file left behind).
  let starting: Promise<void> = Promise.resolve();
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal} received, shutting down`);
    try {
      await starting.catch(() => {});
      await server.shutdown();
      await beforeExit();
      process.exit(0);
    } catch (err) {
      log.error("shutdown failed", err);
      process.exit(1);
    }
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  starting = server.start();
  try {
    await starting;
  } catch (err) {
    log.error(options.startFailure, err);
    await options.afterFailedStart?.().catch(() => {});
    await beforeExit().catch(() => {});
    process.exit(1);
  }
  if (stopping) return;
  options.ready();
  // Start-up is over: hot paths from here on (sends, pulls) need the JIT at its normal policy.
  useNormalJitPolicy();
}
