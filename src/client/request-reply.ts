// Request–reply (RocketMQ 4.6+, Java RequestFutureHolder / MessageUtil / ClientRemotingProcessor):
// the requester's table of requests waiting for their reply, the reply pushed by the broker
// (PUSH_REPLY_MESSAGE_TO_CLIENT), and the replier's createReplyMessage.
//
// A request is a plain message with CORRELATION_ID, REPLY_TO_CLIENT (the requester's client id) and
// TTL. The replier answers with createReplyMessage(request, body), sent to <cluster>_REPLY_TOPIC as
// SEND_REPLY_MESSAGE_V2; the broker pushes it to the connection of REPLY_TO_CLIENT, and the client
// instance there hands it to the waiting request by its CORRELATION_ID.

import { randomUUID } from "node:crypto";
import { inflateSync } from "node:zlib";
import { type Message, Prop, REPLY_MESSAGE_FLAG, SysFlag, stringToProperties } from "../common/message.ts";
import { decodeReplyMessageHeader } from "../common/reply-message-header.ts";
import { replyTopic } from "../common/topic.ts";
import type { RemotingCommand } from "../remoting/command.ts";
import { MQClientError } from "./errors.ts";
import type { MessageInput } from "./message-builder.ts";

/** Java ClientErrorCode.REQUEST_TIMEOUT_EXCEPTION. */
export const REQUEST_TIMEOUT_ERROR_CODE = 10006;
/** Java ClientErrorCode.CREATE_REPLY_MESSAGE_EXCEPTION. */
export const CREATE_REPLY_MESSAGE_ERROR_CODE = 10007;
/**
 * Requests one client instance keeps waiting for a reply at once; more are refused rather than
 * letting a caller with a stuck replier grow the table without end (Java has no bound).
 */
export const MAX_PENDING_REQUESTS = 10_000;

/** The reply as the requester sees it (Java builds a MessageExt from the pushed header). */
export interface ReplyMessage extends Message {
  queueId: number;
  sysFlag: number;
  bornTimestamp: number;
  /** The replier's address, "ip:port". */
  bornHost: string;
  storeTimestamp: number;
  /** The broker's address, "ip:port". */
  storeHost: string;
  reconsumeTimes: number;
  correlationId: string;
}

/** Callbacks of Producer.requestAsync: exactly one of them is called, once. */
export interface RequestCallback {
  onSuccess(reply: ReplyMessage): void;
  onException(err: Error): void;
}

/** No reply within the request's timeout (Java RequestTimeoutException). */
export class RequestTimeoutError extends MQClientError {
  override name = "RequestTimeoutError";

  constructor(message: string) {
    super(message, { code: REQUEST_TIMEOUT_ERROR_CODE });
  }
}

/** The properties that make `message` a request answered to this client (Java prepareSendRequest). */
export function requestProperties(clientId: string, timeoutMs: number): Record<string, string> {
  return {
    [Prop.CORRELATION_ID]: randomUUID(),
    [Prop.REPLY_TO_CLIENT]: clientId,
    [Prop.TTL]: String(timeoutMs),
  };
}

/**
 * The reply to a received request message (Java MessageUtil.createReplyMessage): to the reply topic
 * of the cluster that stored the request, carrying its correlation id, requester and TTL back.
 * Send it with Producer.send.
 */
export function createReplyMessage(requestMessage: { properties: Record<string, string> }, body: Uint8Array | string): MessageInput {
  if (!requestMessage || typeof requestMessage !== "object") {
    throw new MQClientError("create reply message fail, requestMessage cannot be null.", { code: CREATE_REPLY_MESSAGE_ERROR_CODE });
  }
  const p = requestMessage.properties;
  const cluster = p[Prop.CLUSTER];
  if (cluster === undefined) {
    throw new MQClientError(`create reply message fail, requestMessage error, property[${Prop.CLUSTER}] is null.`, { code: CREATE_REPLY_MESSAGE_ERROR_CODE });
  }
  const properties: Record<string, string> = { [Prop.MSG_TYPE]: REPLY_MESSAGE_FLAG };
  // Java puts null for an absent property, which its properties string then leaves out.
  for (const name of [Prop.CORRELATION_ID, Prop.REPLY_TO_CLIENT, Prop.TTL]) {
    const value = p[name];
    if (value !== undefined) properties[name] = value;
  }
  return { topic: replyTopic(cluster), body, properties };
}

/** Java ClientRemotingProcessor.receiveReplyMessage: the pushed reply, its body inflated. */
export function replyMessageFromPush(request: RemotingCommand, receivedAtMs: number): ReplyMessage {
  const h = decodeReplyMessageHeader(request.extFields);
  let body = request.body ?? new Uint8Array(0);
  if ((h.sysFlag & SysFlag.COMPRESSED) !== 0 && body.length > 0) body = new Uint8Array(inflateSync(body));
  const properties = stringToProperties(h.properties);
  properties[Prop.ARRIVE_TIME] = String(receivedAtMs);
  return {
    topic: h.topic,
    body,
    flag: h.flag,
    properties,
    queueId: h.queueId,
    sysFlag: h.sysFlag,
    bornTimestamp: h.bornTimestamp,
    bornHost: h.bornHost,
    storeTimestamp: h.storeTimestamp,
    storeHost: h.storeHost,
    reconsumeTimes: h.reconsumeTimes,
    correlationId: properties[Prop.CORRELATION_ID] ?? "",
  };
}

interface PendingRequest {
  resolve(reply: ReplyMessage): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
  /** Whether the broker acknowledged the request message (for the timeout's wording). */
  sent: boolean;
}

/** What the producer does with one registered request. */
export interface RequestHandle {
  readonly reply: Promise<ReplyMessage>;
  /** The request message was stored. */
  sent(): void;
  /** The request message could not be sent: the request fails now. */
  sendFailed(err: unknown): void;
}

/** Requests waiting for their reply, by correlation id; each ends by reply, send failure or timeout. */
export class RequestTable {
  private readonly pending = new Map<string, PendingRequest>();

  get size(): number {
    return this.pending.size;
  }

  /**
   * Registers a request; its reply promise rejects with RequestTimeoutError once `timeoutMs` has
   * passed, counting the `elapsedMs` the request already spent (Java names the whole timeout).
   */
  add(correlationId: string, topic: string, timeoutMs: number, elapsedMs = 0): RequestHandle {
    if (this.pending.size >= MAX_PENDING_REQUESTS) throw new MQClientError(`${MAX_PENDING_REQUESTS} requests already wait for a reply in this client`);
    if (this.pending.has(correlationId)) throw new MQClientError(`a request with correlation id ${correlationId} already waits for a reply`);
    let entry!: PendingRequest;
    const reply = new Promise<ReplyMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(correlationId);
        reject(
          new RequestTimeoutError(
            entry.sent
              ? `send request message to <${topic}> OK, but wait reply message timeout, ${timeoutMs} ms.`
              : `request to <${topic}> timed out after ${timeoutMs} ms, before the request message was sent`,
          ),
        );
      }, Math.max(timeoutMs - elapsedMs, 0));
      timer.unref?.();
      entry = { resolve, reject, timer, sent: false };
    });
    this.pending.set(correlationId, entry);
    return {
      reply,
      sent: () => (entry.sent = true),
      sendFailed: (err) => this.fail(correlationId, new MQClientError(`send request message to <${topic}> fail`, { cause: err })),
    };
  }

  /** Hands a pushed reply to its request; false when none waits for it (timed out, or not ours). */
  complete(reply: ReplyMessage): boolean {
    const entry = this.pending.get(reply.correlationId);
    if (!entry) return false;
    this.pending.delete(reply.correlationId);
    clearTimeout(entry.timer);
    entry.resolve(reply);
    return true;
  }

  /** Fails every waiting request (the client instance shuts down). */
  failAll(err: Error): void {
    for (const id of [...this.pending.keys()]) this.fail(id, err);
  }

  private fail(correlationId: string, err: Error): void {
    const entry = this.pending.get(correlationId);
    if (!entry) return;
    this.pending.delete(correlationId);
    clearTimeout(entry.timer);
    entry.reject(err);
  }
}
