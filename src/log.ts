// A tiny logger: one timestamped line per event on stderr. Levels filter by severity; the level
// comes from TSMQ_LOG_LEVEL (debug|info|warn|error), default info.
// Lines go out through console.error, which Bun writes straight to fd 2 (verbatim for a single
// string, in order with other writes): process.stderr.write would first build the node stream
// stack (node:tty, streams), ~20 ms and ~9 MB at a server's first log line.

export type LogLevel = "debug" | "info" | "warn" | "error";

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function levelFromEnv(): LogLevel {
  const raw = (process.env.TSMQ_LOG_LEVEL ?? "").toLowerCase();
  return raw in LEVEL_RANK ? (raw as LogLevel) : "info";
}

const threshold = LEVEL_RANK[levelFromEnv()];

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string, err?: unknown): void;
}

function write(level: LogLevel, scope: string, message: string): void {
  if (LEVEL_RANK[level] < threshold) return;
  console.error(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} [${scope}] ${message}`);
}

/** A logger whose lines carry `scope` (the module or component name). */
export function createLogger(scope: string): Logger {
  return {
    debug: (message) => write("debug", scope, message),
    info: (message) => write("info", scope, message),
    warn: (message) => write("warn", scope, message),
    error: (message, err) => {
      const detail = err instanceof Error ? `: ${err.stack ?? err.message}` : err === undefined ? "" : `: ${String(err)}`;
      write("error", scope, message + detail);
    },
  };
}
