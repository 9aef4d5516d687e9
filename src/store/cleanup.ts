// Retention and the disk guard (storage doc §10, CleanCommitLogService / CleanConsumeQueueService):
// expired commit-log segments are deleted at `deleteWhen` hours or when the disk is too full; then
// consume-queue and index files wholly below the new commit-log minimum go. Above 90 % disk use the
// store refuses writes until usage drops.

import fs from "node:fs";
import { createLogger } from "../log.ts";
import type { ConsumeQueue } from "./consume-queue.ts";
import type { IndexService } from "./index-service.ts";
import type { MappedFileQueue } from "./mapped-file-queue.ts";
import type { StoreConfig } from "./store-config.ts";
import { guardedTask } from "../common/guarded-task.ts";

const log = createLogger("cleanup");

/** Above this disk use the store is not writable (rocketmq.broker.diskSpaceWarningLevelRatio). */
export const DISK_SPACE_WARNING_LEVEL_RATIO = 0.9;
/** Above this disk use files are deleted regardless of age (rocketmq.broker.diskSpaceCleanForciblyRatio). */
export const DISK_SPACE_CLEAN_FORCIBLY_RATIO = 0.85;
/** Delay before the first periodic cleanup after start, ms (Java schedules it after 60 s). */
export const CLEANUP_FIRST_DELAY_MS = 60_000;
/** Rounds a manual DELETE_EXPIRED_COMMITLOG request keeps deletion on (Java manualDeleteFileSeveralTimes). */
export const MANUAL_DELETE_ROUNDS = 20;
const MS_PER_HOUR = 3_600_000;

/**
 * Period of the disk check that sets and clears the disk-full state, ms: short, so writes stop soon
 * after the disk fills and resume soon after space is freed (the cleanup round runs far less often).
 */
export const DISK_CHECK_INTERVAL_MS = 1_000;

/** Bytes available to this process on the partition holding `dir`, or -1 when it cannot be read. */
export function diskFreeBytes(dir: string): number {
  try {
    const s = fs.statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return -1;
  }
}

/** Used fraction (0..1) of the partition holding `dir`, or -1 when it cannot be read. */
export function diskUsedRatio(dir: string): number {
  try {
    const s = fs.statfsSync(dir);
    if (s.blocks <= 0) return -1;
    return (s.blocks - s.bfree) / s.blocks;
  } catch {
    return -1;
  }
}

/** True when the local hour of `nowMs` is one of the `;`-separated hours in `deleteWhen`. */
export function isTimeToDelete(deleteWhen: string, nowMs: number): boolean {
  const hour = new Date(nowMs).getHours();
  return deleteWhen.split(";").some((h) => h.trim() !== "" && Number(h) === hour);
}

export interface CleanupTargets {
  config: StoreConfig;
  commitLog: MappedFileQueue;
  commitLogDir: string;
  consumeQueueDir: string;
  consumeQueues(): Iterable<ConsumeQueue>;
  index: IndexService | undefined;
  now(): number;
  /** Disk usage probe; injectable so tests can simulate a full disk. */
  diskUsedRatio?: (dir: string) => number;
  /**
   * Bytes that must stay free beside a new commit-log segment, for the consume-queue and index
   * files its records will need (dispatch cannot allocate them on a full disk).
   */
  reserveBytes: number;
}

export interface CleanupRound {
  commitLogFilesDeleted: number;
  consumeQueueFilesDeleted: number;
  indexFilesDeleted: number;
}

export class CleanupService {
  private readonly t: CleanupTargets;
  private readonly probe: (dir: string) => number;
  private diskFullReason: string | undefined;
  /** Set when a segment could not be allocated; cleared by the disk check once a segment fits again. */
  private allocationFailure: string | undefined;
  private manualRoundsLeft = 0;
  private lastPhysicalMinOffset = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private diskCheckTimer: ReturnType<typeof setInterval> | undefined;

  constructor(targets: CleanupTargets) {
    this.t = targets;
    this.probe = targets.diskUsedRatio ?? diskUsedRatio;
  }

  /** Undefined while writable; otherwise why puts are refused. */
  get notWritableReason(): string | undefined {
    return this.diskFullReason ?? this.allocationFailure;
  }

  /**
   * Checked before each new commit-log segment: why a segment of `segmentBytes` (0 when it is
   * already allocated, e.g. prepared) cannot be created now, or undefined when it fits with the
   * reserve. A shortage makes the store refuse writes until the disk check finds room again.
   */
  segmentSpaceShortage(segmentBytes: number): string | undefined {
    const free = diskFreeBytes(this.t.commitLogDir);
    const needed = segmentBytes + this.t.reserveBytes;
    if (free < 0 || free >= needed) return undefined;
    this.markAllocationFailed(`disk is full: ${free} bytes free under ${this.t.commitLogDir}, a new commit log segment needs ${needed}; the store refuses writes until space is freed`);
    return this.allocationFailure;
  }

  /** A file could not be allocated (ENOSPC): writes stop until the disk check finds room. */
  markAllocationFailed(reason: string): void {
    if (!this.allocationFailure) log.error(reason);
    this.allocationFailure = reason;
  }

  /** DELETE_EXPIRED_COMMITLOG: delete expired files for the next rounds whatever the hour. */
  requestManualDelete(): void {
    this.manualRoundsLeft = MANUAL_DELETE_ROUNDS;
  }

  /** Re-reads disk usage and updates the writable flag; returns the commit-log partition's ratio. */
  checkDisk(): { physicRatio: number; logicsRatio: number; cleanImmediately: boolean } {
    const physicRatio = this.probe(this.t.commitLogDir);
    const logicsRatio = this.probe(this.t.consumeQueueDir);
    const worst = Math.max(physicRatio, logicsRatio);
    if (worst > DISK_SPACE_WARNING_LEVEL_RATIO) {
      const reason = `disk is full: ${(worst * 100).toFixed(1)}% used, above ${DISK_SPACE_WARNING_LEVEL_RATIO * 100}%; the store refuses writes until space is freed`;
      if (!this.diskFullReason) log.error(reason);
      this.diskFullReason = reason;
    } else if (this.diskFullReason) {
      log.info(`disk usage ${(worst * 100).toFixed(1)}% is back below ${DISK_SPACE_WARNING_LEVEL_RATIO * 100}%; the store is writable again`);
      this.diskFullReason = undefined;
    }
    if (this.allocationFailure) {
      const free = diskFreeBytes(this.t.commitLogDir);
      if (free < 0 || free >= this.t.config.mappedFileSizeCommitLog + this.t.reserveBytes) {
        log.info(`${free} bytes free under ${this.t.commitLogDir}: a commit log segment fits again; the store is writable again`);
        this.allocationFailure = undefined;
      }
    }
    return { physicRatio, logicsRatio, cleanImmediately: worst > DISK_SPACE_CLEAN_FORCIBLY_RATIO };
  }

  /** One cleanup round: commit log, then consume queues and index below its new minimum. */
  runOnce(): CleanupRound {
    const round: CleanupRound = { commitLogFilesDeleted: 0, consumeQueueFilesDeleted: 0, indexFilesDeleted: 0 };
    const { config } = this.t;
    const now = this.t.now();
    const disk = this.checkDisk();
    const maxRatio = config.diskMaxUsedSpaceRatio / 100;
    const spaceFull = disk.physicRatio < 0 || disk.physicRatio > maxRatio || disk.logicsRatio > maxRatio;
    const timeUp = isTimeToDelete(config.deleteWhen, now);
    const manual = this.manualRoundsLeft > 0;
    if (manual) this.manualRoundsLeft--;
    if (timeUp || spaceFull || manual) {
      const expiredMs = config.fileReservedTime * MS_PER_HOUR;
      round.commitLogFilesDeleted = this.t.commitLog.deleteExpiredFilesByTime(expiredMs, disk.cleanImmediately, now);
      if (round.commitLogFilesDeleted > 0) log.info(`deleted ${round.commitLogFilesDeleted} expired commit log segment(s)`);
    }
    const minPhy = Math.max(0, this.t.commitLog.getMinOffset());
    if (minPhy > this.lastPhysicalMinOffset) {
      this.lastPhysicalMinOffset = minPhy;
      for (const cq of this.t.consumeQueues()) round.consumeQueueFilesDeleted += cq.deleteExpiredFiles(minPhy);
      if (this.t.index) round.indexFilesDeleted = this.t.index.deleteExpiredFiles(minPhy);
    }
    return round;
  }

  /** Every cleanResourceInterval: the disk check always, deletion once CLEANUP_FIRST_DELAY_MS passed. */
  start(): void {
    if (this.timer) return;
    const startedMs = this.t.now();
    this.checkDisk();
    this.timer = setInterval(
      guardedTask("store cleanup", () => {
        if (this.t.now() - startedMs >= CLEANUP_FIRST_DELAY_MS) this.runOnce();
        else this.checkDisk();
      }),
      this.t.config.cleanResourceInterval,
    );
    this.diskCheckTimer = setInterval(guardedTask("disk check", () => this.checkDisk()), DISK_CHECK_INTERVAL_MS);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.diskCheckTimer) clearInterval(this.diskCheckTimer);
    this.timer = undefined;
    this.diskCheckTimer = undefined;
  }
}
