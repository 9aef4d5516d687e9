// Child process of commit-log-crash.test.ts: recovers the commit log in argv[2] (abnormally when
// the abort file is there), prints "READY <maxOffset>", then appends forever under SYNC_FLUSH and
// prints "ACK <offset> <size> <run> <seq>" for every acknowledged message, until it is killed.

import path from "node:path";
import { propertiesToString, type MessageInner } from "../../src/common/message.ts";
import { StoreCheckpoint, abortFileExists, createAbortFile } from "../../src/store/checkpoint.ts";
import { CommitLog } from "../../src/store/commit-log.ts";
import { DEFAULT_STORE_CONFIG, abortFilePath, checkpointPath, type StoreConfig } from "../../src/store/store-config.ts";

/** Small segments so the crash test rolls files often. */
export const CRASH_SEGMENT_SIZE_BYTES = 256 * 1024;
/** Puts in flight at once: enough for group commits to batch. */
const IN_FLIGHT_PUTS = 32;

export function crashConfig(root: string): StoreConfig {
  return { ...DEFAULT_STORE_CONFIG, storePathRootDir: root, mappedFileSizeCommitLog: CRASH_SEGMENT_SIZE_BYTES, flushDiskType: "SYNC_FLUSH" };
}

/** Deterministic body of message `seq` of run `run`, 16..4015 bytes. */
export function crashBody(run: number, seq: number): Uint8Array {
  let state = (run * 1_000_003 + seq * 7919 + 1) >>> 0;
  const body = new Uint8Array(16 + ((seq * 131 + run * 17) % 4000));
  for (let i = 0; i < body.length; i++) {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    body[i] = state >>> 24;
  }
  return body;
}

export function crashMessage(run: number, seq: number): MessageInner {
  const properties = { SEQ: `${run}-${seq}`, TAGS: "crash" };
  return {
    topic: "crash-topic",
    queueId: seq % 4,
    flag: seq,
    body: crashBody(run, seq),
    properties,
    propertiesString: propertiesToString(properties),
    tagsCode: 0,
    sysFlag: 0,
    bornTimestamp: Date.now(),
    bornHost: "127.0.0.1:5000",
    storeHost: "127.0.0.1:10911",
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
  };
}

async function main(): Promise<void> {
  const root = process.argv[2]!;
  const run = Number(process.argv[3]);
  const config = crashConfig(root);
  const checkpoint = StoreCheckpoint.open(checkpointPath(config));
  const log = new CommitLog(config, path.join(root, "commitlog"), { checkpoint });
  log.load();
  const maxOffset = abortFileExists(abortFilePath(config)) ? log.recoverAbnormally(checkpoint.minTimestamp()) : log.recoverNormally();
  createAbortFile(abortFilePath(config));
  log.start();
  process.stdout.write(`READY ${maxOffset}\n`);

  let seq = 0;
  const queueOffsets = new Map<number, number>();
  const assign = (_topic: string, queueId: number, count: number) => {
    const first = queueOffsets.get(queueId) ?? 0;
    queueOffsets.set(queueId, first + count);
    return first;
  };
  const putOne = async (): Promise<void> => {
    const mySeq = seq++;
    const result = await log.putMessage(crashMessage(run, mySeq), assign);
    if (result.status !== "PUT_OK") throw new Error(`put ${mySeq}: ${result.status} ${result.remark}`);
    // As if dispatched: the consume queues are caught up to this message.
    checkpoint.logicsMsgTimestamp = result.storeTimestamp;
    process.stdout.write(`ACK ${result.wroteOffset} ${result.wroteBytes} ${run} ${mySeq}\n`);
  };
  const lane = async (): Promise<void> => {
    for (;;) await putOne();
  };
  await Promise.all(Array.from({ length: IN_FLIGHT_PUTS }, lane));
}

if (import.meta.main) {
  main().catch((err) => {
    process.stderr.write(`writer failed: ${(err as Error).stack}\n`);
    process.exit(1);
  });
}
