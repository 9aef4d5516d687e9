// Java DataVersion: a counter plus the time of the last change; the namesrv compares both fields
// to detect a changed topic table.

import type { DataVersion } from "../namesrv/register-body.ts";

export type { DataVersion };

export function newDataVersion(nowMs: number = Date.now()): DataVersion {
  return { counter: 0, timestamp: nowMs };
}

export function nextDataVersion(version: DataVersion, nowMs: number = Date.now()): void {
  version.counter += 1;
  version.timestamp = nowMs;
}

export function dataVersionFromJson(raw: unknown): DataVersion | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  const counter = Number(r.counter);
  const timestamp = Number(r.timestamp);
  if (!Number.isFinite(counter) || !Number.isFinite(timestamp)) return undefined;
  return { counter, timestamp };
}
