// Client error hierarchy (Java MQClientException / MQBrokerException). `retriable` tells the
// producer's retry loop and the pull loop whether trying again (elsewhere) can help.

import { ResponseCode } from "../remoting/codes.ts";

/** Response codes after which the Java producer retries on another broker (protocol doc 3.2). */
export const RETRIABLE_RESPONSE_CODES: ReadonlySet<number> = new Set([
  ResponseCode.TOPIC_NOT_EXIST,
  ResponseCode.SERVICE_NOT_AVAILABLE,
  ResponseCode.SYSTEM_ERROR,
  ResponseCode.NO_PERMISSION,
  ResponseCode.NO_BUYER_ID,
  ResponseCode.NOT_IN_CURRENT_UNIT,
]);

/** A client-side failure: bad arguments, no route, not started, timed out across retries. */
export class MQClientError extends Error {
  override name = "MQClientError";
  readonly retriable: boolean;
  /** The RocketMQ response code involved, or -1 when the error is purely local. */
  readonly code: number;

  constructor(message: string, opts: { code?: number; retriable?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = opts.code ?? -1;
    this.retriable = opts.retriable ?? false;
  }
}

/** The broker or NameServer answered with a non-success response code. */
export class MQBrokerError extends MQClientError {
  override name = "MQBrokerError";
  /** Address of the peer that answered. */
  readonly addr: string;
  readonly remark: string;

  constructor(code: number, remark: string | undefined, addr: string) {
    super(`CODE: ${code} DESC: ${remark ?? ""} (from ${addr})`, { code, retriable: RETRIABLE_RESPONSE_CODES.has(code) });
    this.addr = addr;
    this.remark = remark ?? "";
  }
}

/** Text of any thrown value, for log lines and remarks. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
