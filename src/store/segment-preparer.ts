// Prepares a log's next segment ahead of need, off the event loop (Java's AllocateMappedFileService).
// Creating a segment inline (open O_CREAT, posix_fallocate, rename) takes filesystem metadata locks
// that can wait behind a running fsync's journal commit, and no request is served meanwhile
// (BENCHMARKS.md saw 50–260 ms stalls from consume-queue segments). A Worker thread
// (segment-worker.ts) does that work instead; the append path maps the prepared file if it is
// ready and otherwise creates the segment inline as before: it never waits for a preparation.
//
// Why a Worker and not libuv async I/O: the guarantee that a segment's blocks are allocated (no
// SIGBUS on a full disk) needs posix_fallocate, which Node's fs lacks and bun:ffi calls only
// synchronously. Writing zeros with fs.promises would allocate too, but writes the whole segment
// (1 GiB) to disk a second time and fills the page cache with dirty zeros; fallocate writes nothing.

import fs from "node:fs";
import path from "node:path";
import { createLogger } from "../log.ts";
import { CREATING_SUFFIX, offsetToFileName } from "./mapped-file.ts";

const log = createLogger("segment-preparer");

/** A prepared segment is built under this name; load() deletes it after a crash like any half-made segment. */
export const PREPARING_SUFFIX = `.prepared${CREATING_SUFFIX}`;

/**
 * Most preparations queued for the worker at once (every consume queue may ask for one). Past it a
 * request is dropped: that segment is created inline when needed, as without preparation.
 */
export const MAX_PENDING_PREPARATIONS = 256;

/** `bun build --compile` serves the executable's modules from this virtual directory (Linux, macOS). */
const COMPILED_MODULE_ROOT = "/$bunfs/";

/** What the worker is asked: create `finalPath` (zero-filled, blocks reserved) unless it exists. */
export interface PrepareRequest {
  id: number;
  finalPath: string;
  sizeBytes: number;
}

/** created: linked into place; exists: a segment of that name was there already (left untouched). */
export interface PrepareReply {
  id: number;
  outcome: "created" | "exists" | "failed";
  error?: string;
  /** errno code of a failure (ENOENT: the directory is gone, e.g. a deleted topic's queue). */
  code?: string;
}

/**
 * The worker module's URL. From source (and tests) it sits beside this file. In the compiled
 * executable it is a second entrypoint (package.json "build") stored under the bundle root (src/),
 * where Bun.main names the executable; import.meta.url is no guide there (a CommonJS build keeps
 * the source path it was built from).
 */
function workerUrl(): URL {
  if (Bun.main.startsWith(COMPILED_MODULE_ROOT)) return new URL("./store/segment-worker.ts", `file://${Bun.main}`);
  return new URL("./segment-worker.ts", import.meta.url);
}

/** The one worker thread of the process, started on first use; it never keeps the process alive. */
class SegmentWorkerClient {
  private worker: Worker | undefined;
  /** Set once the worker failed to start or died: from then on segments are created inline. */
  private unavailable = false;
  private nextId = 1;
  private readonly pending = new Map<number, (reply: PrepareReply | undefined) => void>();

  /** Resolves with the outcome; undefined when not attempted (no worker, or too many queued). */
  create(finalPath: string, sizeBytes: number): Promise<PrepareReply | undefined> {
    if (this.unavailable || this.pending.size >= MAX_PENDING_PREPARATIONS) return Promise.resolve(undefined);
    const worker = this.worker ?? this.start();
    if (!worker) return Promise.resolve(undefined);
    const id = this.nextId++;
    const request: PrepareRequest = { id, finalPath, sizeBytes };
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      worker.postMessage(request);
    });
  }

  private start(): Worker | undefined {
    try {
      const worker = new Worker(workerUrl());
      worker.unref();
      worker.onmessage = (event: MessageEvent<PrepareReply>) => {
        const resolve = this.pending.get(event.data.id);
        this.pending.delete(event.data.id);
        resolve?.(event.data);
      };
      worker.onerror = (event: ErrorEvent) => this.fail(event.message);
      worker.addEventListener("close", () => this.fail("the worker exited"));
      this.worker = worker;
      return worker;
    } catch (err) {
      this.fail((err as Error).message);
      return undefined;
    }
  }

  private fail(reason: string): void {
    if (!this.unavailable) log.warn(`segment preparation is off (segments are created inline when needed): ${reason}`);
    this.unavailable = true;
    this.worker = undefined;
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const resolve of waiting) resolve(undefined);
  }
}

const segmentWorker = new SegmentWorkerClient();

/** Prepares the segments of one directory, the next one at a time. */
export class SegmentPreparer {
  private readonly dir: string;
  private readonly fileSizeBytes: number;
  /** Whether the queue has the segment starting at this offset open (then it is never removed). */
  private readonly isListed: (fromOffset: number) => boolean;
  /** Start offset of the newest segment requested; -1: none since the last discard(). */
  private requestedFrom = -1;
  /** Bumped by discard(): a preparation requested before it must not leave its file behind. */
  private generation = 0;

  constructor(dir: string, fileSizeBytes: number, isListed: (fromOffset: number) => boolean) {
    this.dir = dir;
    this.fileSizeBytes = fileSizeBytes;
    this.isListed = isListed;
  }

  /** Starts preparing the segment at `fromOffset` unless it (or a later one) was already asked for. Cheap when so. */
  prepare(fromOffset: number): void {
    if (fromOffset <= this.requestedFrom) return;
    this.requestedFrom = fromOffset;
    const generation = this.generation;
    const finalPath = path.join(this.dir, offsetToFileName(fromOffset));
    void segmentWorker.create(finalPath, this.fileSizeBytes).then((reply) => {
      if (reply?.outcome === "failed" && reply.code !== "ENOENT") log.warn(`preparing segment ${finalPath} failed (it will be created when needed): ${reply.error}`);
      if (reply?.outcome === "created" && generation !== this.generation) this.removeUnlisted(fromOffset);
    });
  }

  /**
   * The queue was truncated or destroyed: a prepared segment past its new end would leave a gap
   * in the sequence, which stops the next load, so it is removed (now, or when its preparation ends).
   */
  discard(): void {
    this.generation++;
    if (this.requestedFrom >= 0) this.removeUnlisted(this.requestedFrom);
    this.requestedFrom = -1;
  }

  /** Synchronous on purpose: between a check and an async unlink the append path could map the file. */
  private removeUnlisted(fromOffset: number): void {
    if (this.isListed(fromOffset)) return;
    fs.rmSync(path.join(this.dir, offsetToFileName(fromOffset)), { force: true });
  }
}
