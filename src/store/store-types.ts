// The contract between the message store and the broker: statuses and result shapes with
// Apache RocketMQ 4.9's names (PutMessageStatus, GetMessageStatus).

import type { MessageInner } from "../common/message.ts";

export type PutMessageStatus =
  | "PUT_OK"
  | "FLUSH_DISK_TIMEOUT"
  | "FLUSH_SLAVE_TIMEOUT"
  | "SLAVE_NOT_AVAILABLE"
  | "SERVICE_NOT_AVAILABLE"
  | "CREATE_MAPEDFILE_FAILED"
  | "MESSAGE_ILLEGAL"
  | "PROPERTIES_SIZE_EXCEEDED"
  | "OS_PAGECACHE_BUSY"
  | "UNKNOWN_ERROR";

export interface PutMessageResult {
  status: PutMessageStatus;
  /** Why the put failed, for the response remark. */
  remark?: string;
  /** Commit-log offset of the first record written. */
  wroteOffset: number;
  wroteBytes: number;
  /** Offset message id(s); comma-joined for a batch. */
  msgId: string;
  /** Consume-queue offset of the first message. */
  queueOffset: number;
  msgNum: number;
  storeTimestamp: number;
}

export type GetMessageStatus =
  | "FOUND"
  | "NO_MATCHED_MESSAGE"
  | "MESSAGE_WAS_REMOVING"
  | "OFFSET_FOUND_NULL"
  | "OFFSET_OVERFLOW_BADLY"
  | "OFFSET_OVERFLOW_ONE"
  | "OFFSET_TOO_SMALL"
  | "NO_MATCHED_LOGIC_QUEUE"
  | "NO_MESSAGE_IN_QUEUE";

export interface GetMessageResult {
  status: GetMessageStatus;
  nextBeginOffset: number;
  minOffset: number;
  maxOffset: number;
  /** Stored records, each exactly as in the commit log (protocol doc 5.5). */
  messages: Uint8Array[];
  /** Total bytes of `messages`. */
  bufferTotalSizeBytes: number;
  /** True when the data read is far behind in memory and a slave should serve the next pull. */
  suggestPullingFromSlave: boolean;
}

/** Consume-queue filter: `tagsCode` is the entry's tags code; return true to deliver. */
export type MessageFilter = (tagsCode: number) => boolean;

/**
 * Called after dispatch made messages visible in a consume queue (wakes long polls): once per run of
 * records on one queue, `logicOffset` past the last; `tagsCode` is the message's for a run of one,
 * undefined for a longer run (a filtered waiter then checks the new entries).
 */
export type MessageArrivingListener = (topic: string, queueId: number, logicOffset: number, tagsCode: number | undefined) => void;

export type { MessageInner };
