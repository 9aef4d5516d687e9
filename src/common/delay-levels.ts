// Delay levels (protocol doc 5.8): `messageDelayLevel` = "1s 5s 10s ... 2h", level n = n-th item.
// One parser for the store (delayed puts go to queue level-1 of the schedule topic) and the
// broker's schedule service (one timer per level).

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Bound on levels: the schedule topic has one queue per level and one timer runs per level. */
export const MAX_DELAY_LEVELS = 64;

/** Parses the level list into milliseconds, index 0 = level 1. Throws naming the bad item. */
export function parseDelayLevels(spec: string): number[] {
  const levels: number[] = [];
  for (const item of spec.trim().split(/\s+/)) {
    if (item.length === 0) continue;
    const match = /^(\d+)([smhd])$/.exec(item);
    if (!match) throw new Error(`messageDelayLevel: bad level "${item}" (expected <number><s|m|h|d>) in "${spec}"`);
    levels.push(Number(match[1]) * UNIT_MS[match[2]!]!);
  }
  if (levels.length === 0) throw new Error("messageDelayLevel is empty");
  if (levels.length > MAX_DELAY_LEVELS) throw new Error(`messageDelayLevel has more than ${MAX_DELAY_LEVELS} levels`);
  return levels;
}
