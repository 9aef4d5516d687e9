// The producer (Java DefaultMQProducer): sync, async and oneway SEND_MESSAGE_V2, retries on
// another broker, ordered sends through a MessageQueueSelector, batches, zlib compression
// (protocol doc 3.3.2, 5.3, 5.4, 6.3, 6.4), and request–reply (request-reply.ts).

import { deflateSync } from "node:zlib";
import { type Message, Prop, REPLY_MESSAGE_FLAG, SysFlag, propertiesToString, tagsHashCode } from "../common/message.ts";
import { SystemTopic, isRetryTopic } from "../common/topic.ts";
import { RequestCode, ResponseCode } from "../remoting/codes.ts";
import { RemotingCommand } from "../remoting/command.ts";
import { RemotingError } from "../remoting/errors.ts";
import { BatchBufferPool, encodeBatchBody } from "./batch.ts";
import type { ClientConfig } from "./client-config.ts";
import { MQBrokerError, MQClientError, errorText } from "./errors.ts";
import { ClientInstance, type ProducerMember } from "./instance.ts";
import { MAX_MESSAGE_SIZE_BYTES, type MessageInput, buildMessage } from "./message-builder.ts";
import type { MessageQueue } from "./message-queue.ts";
import { LatencyFaultTolerance, TopicPublishInfo } from "./queue-selector.ts";
import { type ReplyMessage, type RequestCallback, requestProperties } from "./request-reply.ts";
import { publishQueues, type TopicRouteData } from "./route.ts";
import { uniqueIds } from "./unique-id.ts";

export const DEFAULT_PRODUCER_GROUP = "DEFAULT_PRODUCER";
/** Java sendMsgTimeout: the budget of one send including its retries. */
export const SEND_MSG_TIMEOUT_MS = 3_000;
/** Java compressMsgBodyOverHowmuch. */
export const COMPRESS_BODY_OVER_BYTES = 4_096;
/** Java zlib level used by the 4.9 client (CompressionType ZLIB, level 5). */
const ZLIB_LEVEL = 5;
/** Queues used when a topic is auto-created from TBW102 (Java defaultTopicQueueNums). */
export const DEFAULT_TOPIC_QUEUE_NUMS = 4;
/** Most messages in one batch; bounds request size before the byte check. */
export const MAX_BATCH_MESSAGES = 10_000;

export type SendStatus = "SEND_OK" | "FLUSH_DISK_TIMEOUT" | "FLUSH_SLAVE_TIMEOUT" | "SLAVE_NOT_AVAILABLE";

export interface SendResult {
  sendStatus: SendStatus;
  /** Client id (UNIQ_KEY); for a batch the members' ids joined with ",". */
  msgId: string;
  /** Broker offset message id(s). */
  offsetMsgId: string;
  messageQueue: MessageQueue;
  queueOffset: number;
  regionId?: string;
  traceOn?: boolean;
}

export type MessageQueueSelector = (queues: MessageQueue[], message: Message, arg: unknown) => MessageQueue;

/** SelectMessageQueueByHash: |hash(arg)| % queues. Strings hash like Java String.hashCode. */
export const selectByHash: MessageQueueSelector = (queues, _msg, arg) => {
  const h = typeof arg === "number" && Number.isInteger(arg) ? arg | 0 : tagsHashCode(String(arg));
  return queues[Math.abs(h) % queues.length]!;
};

export interface ProducerOptions extends ClientConfig {
  groupName?: string;
  sendMsgTimeoutMs?: number;
  /** Extra attempts of a sync send (Java retryTimesWhenSendFailed, default 2). */
  retryTimesWhenSendFailed?: number;
  /** Extra attempts of an async send on network errors (Java retryTimesWhenSendAsyncFailed). */
  retryTimesWhenSendAsyncFailed?: number;
  compressMsgBodyOverHowmuchBytes?: number;
  maxMessageSizeBytes?: number;
  defaultTopicQueueNums?: number;
  createTopicKey?: string;
  /** Skip brokers that were slow or failed recently (Java sendLatencyFaultEnable). Default true. */
  sendLatencyFaultEnable?: boolean;
  /** Retry on another broker when the broker stored the message with a non-OK status. */
  retryAnotherBrokerWhenNotStoreOK?: boolean;
}

type Mode = "sync" | "async" | "oneway";

const SEND_OK_CODES: readonly number[] = [
  ResponseCode.SUCCESS,
  ResponseCode.FLUSH_DISK_TIMEOUT,
  ResponseCode.FLUSH_SLAVE_TIMEOUT,
  ResponseCode.SLAVE_NOT_AVAILABLE,
];

function statusOf(code: number): SendStatus {
  switch (code) {
    case ResponseCode.FLUSH_DISK_TIMEOUT:
      return "FLUSH_DISK_TIMEOUT";
    case ResponseCode.FLUSH_SLAVE_TIMEOUT:
      return "FLUSH_SLAVE_TIMEOUT";
    case ResponseCode.SLAVE_NOT_AVAILABLE:
      return "SLAVE_NOT_AVAILABLE";
    default:
      return "SEND_OK";
  }
}

/** A prepared send: one message or a batch, already encoded. */
interface Outgoing {
  topic: string;
  body: Uint8Array;
  sysFlag: number;
  flag: number;
  properties: Record<string, string>;
  batch: boolean;
  /** UNIQ_KEY (or the members' keys joined by "," for a batch). */
  msgId: string;
  /** A batch's pooled buffer under `body`, given back once the send settled. */
  batchBuffer?: Buffer;
}

export class Producer implements ProducerMember {
  readonly group: string;
  private readonly opts: Required<Omit<ProducerOptions, keyof ClientConfig | "groupName">>;
  private readonly clientConfig: ClientConfig;
  private instance: ClientInstance | undefined;
  private readonly publishInfo = new Map<string, TopicPublishInfo>();
  private readonly fault = new LatencyFaultTolerance();
  private readonly batchBuffers = new BatchBufferPool();
  private state: "created" | "running" | "shutdown" = "created";

  constructor(options: ProducerOptions = {}) {
    this.group = options.groupName ?? DEFAULT_PRODUCER_GROUP;
    this.clientConfig = options;
    this.opts = {
      sendMsgTimeoutMs: options.sendMsgTimeoutMs ?? SEND_MSG_TIMEOUT_MS,
      retryTimesWhenSendFailed: options.retryTimesWhenSendFailed ?? 2,
      retryTimesWhenSendAsyncFailed: options.retryTimesWhenSendAsyncFailed ?? 2,
      compressMsgBodyOverHowmuchBytes: options.compressMsgBodyOverHowmuchBytes ?? COMPRESS_BODY_OVER_BYTES,
      maxMessageSizeBytes: options.maxMessageSizeBytes ?? MAX_MESSAGE_SIZE_BYTES,
      defaultTopicQueueNums: options.defaultTopicQueueNums ?? DEFAULT_TOPIC_QUEUE_NUMS,
      createTopicKey: options.createTopicKey ?? SystemTopic.AUTO_CREATE,
      sendLatencyFaultEnable: options.sendLatencyFaultEnable ?? true,
      retryAnotherBrokerWhenNotStoreOK: options.retryAnotherBrokerWhenNotStoreOK ?? false,
    };
  }

  /** Joins (or creates) the client instance. Idempotent. */
  start(): this {
    if (this.state === "running") return this;
    if (this.state === "shutdown") throw new MQClientError("the producer has been shut down");
    this.instance = ClientInstance.acquire(this.clientConfig);
    this.instance.registerProducer(this);
    this.state = "running";
    return this;
  }

  async shutdown(): Promise<void> {
    if (this.state !== "running") return;
    this.state = "shutdown";
    await this.instance!.unregister(this, "producer");
  }

  get clientId(): string {
    return this.client().clientId;
  }

  // ---- ProducerMember ----

  topics(): string[] {
    return [...this.publishInfo.keys()];
  }

  onRouteChanged(topic: string, route: TopicRouteData): void {
    if (!this.publishInfo.has(topic)) return;
    const { queues, orderTopic } = publishQueues(topic, route);
    this.publishInfo.set(topic, new TopicPublishInfo(queues, orderTopic));
  }

  // ---- public send API ----

  /** Sync send: retries up to retryTimesWhenSendFailed more times, preferring another broker. */
  send(input: MessageInput, timeoutMs = this.opts.sendMsgTimeoutMs): Promise<SendResult> {
    return this.startSend(input, "sync", timeoutMs) as Promise<SendResult>;
  }

  /** Async send (Java send with a callback): retries only on network errors. */
  sendAsync(input: MessageInput, timeoutMs = this.opts.sendMsgTimeoutMs): Promise<SendResult> {
    return this.startSend(input, "async", timeoutMs) as Promise<SendResult>;
  }

  /** Fire and forget: resolves once the request is queued on the connection. */
  async sendOneway(input: MessageInput): Promise<void> {
    await this.sendDefault(this.prepare(input), "oneway", this.opts.sendMsgTimeoutMs);
  }

  /** Ordered send: the selector picks the queue; a single attempt, no broker switching. */
  async sendOrderly(input: MessageInput, selector: MessageQueueSelector, arg: unknown, timeoutMs = this.opts.sendMsgTimeoutMs): Promise<SendResult> {
    const out = this.prepare(input);
    return (await this.sendKernel(out, await this.selectQueue(out, selector, arg), "sync", timeoutMs))!;
  }

  /** Send to a given queue (single attempt). */
  async sendToQueue(input: MessageInput, mq: MessageQueue, timeoutMs = this.opts.sendMsgTimeoutMs): Promise<SendResult> {
    const out = this.prepare(input);
    if (mq.topic !== out.topic) throw new MQClientError(`message topic ${out.topic} differs from queue topic ${mq.topic}`);
    return (await this.sendKernel(out, mq, "sync", timeoutMs))!;
  }

  /** SEND_BATCH_MESSAGE: same topic, no delay, no retry topic; each member gets its own UNIQ_KEY. */
  async sendBatch(inputs: MessageInput[], timeoutMs = this.opts.sendMsgTimeoutMs): Promise<SendResult> {
    const out = this.prepareBatch(inputs);
    try {
      return (await this.sendDefault(out, "sync", timeoutMs))!;
    } finally {
      // Every attempt has settled and its frame was copied out of the body when it was sent.
      this.batchBuffers.give(out.batchBuffer!);
    }
  }

  // ---- request–reply (request-reply.ts) ----

  /**
   * Sends a request message and resolves with its reply (Java request(msg, timeout)); rejects with
   * RequestTimeoutError when none came within `timeoutMs`, which also bounds the send.
   */
  request(input: MessageInput, timeoutMs = this.opts.sendMsgTimeoutMs): Promise<ReplyMessage> {
    return this.requestWith(input, timeoutMs, (out, leftMs) => this.sendDefault(out, "async", leftMs));
  }

  /** request() to the queue `selector` picks (Java request(msg, selector, arg, timeout)). */
  requestOrderly(input: MessageInput, selector: MessageQueueSelector, arg: unknown, timeoutMs = this.opts.sendMsgTimeoutMs): Promise<ReplyMessage> {
    return this.requestWith(input, timeoutMs, async (out, leftMs) => this.sendKernel(out, await this.selectQueue(out, selector, arg), "async", leftMs));
  }

  /** request() to a given queue (Java request(msg, mq, timeout)). */
  requestToQueue(input: MessageInput, mq: MessageQueue, timeoutMs = this.opts.sendMsgTimeoutMs): Promise<ReplyMessage> {
    return this.requestWith(input, timeoutMs, async (out, leftMs) => {
      if (mq.topic !== out.topic) throw new MQClientError(`message topic ${out.topic} differs from queue topic ${mq.topic}`);
      return this.sendKernel(out, mq, "async", leftMs);
    });
  }

  /** request() reporting through callbacks (Java request(msg, callback, timeout)): exactly one is called, once. */
  requestAsync(input: MessageInput, callback: RequestCallback, timeoutMs = this.opts.sendMsgTimeoutMs): void {
    this.request(input, timeoutMs)
      .then(
        (reply) => callback.onSuccess(reply),
        (err) => callback.onException(err instanceof Error ? err : new MQClientError(errorText(err))),
      )
      .catch((err) => this.instance?.log.warn(`request callback threw: ${errorText(err)}`));
  }

  // ---- internals ----

  /**
   * Marks the message as a request to this client (CORRELATION_ID, REPLY_TO_CLIENT, TTL), waits for
   * the reply under its correlation id, and sends it with `send` (Java request / prepareSendRequest).
   */
  private async requestWith(input: MessageInput, timeoutMs: number, send: (out: Outgoing, leftMs: number) => Promise<unknown>): Promise<ReplyMessage> {
    const begin = Date.now();
    const inst = this.client();
    const out = this.prepare(input);
    Object.assign(out.properties, requestProperties(inst.clientId, timeoutMs));
    const known = this.publishInfo.get(out.topic);
    if (!known || known.queues.length === 0) {
      // The broker pushes the reply to the connection that registered this client id: register
      // with the topic's brokers before the first request is stored there.
      await this.findPublishInfo(out.topic);
      await inst.sendHeartbeatToAllBrokers();
    }
    const handle = inst.requests.add(out.properties[Prop.CORRELATION_ID]!, out.topic, timeoutMs, Date.now() - begin);
    send(out, timeoutMs - (Date.now() - begin)).then(handle.sent, handle.sendFailed);
    return handle.reply;
  }

  /** The selector's queue, checked against the topic's publish list. */
  private async selectQueue(out: Outgoing, selector: MessageQueueSelector, arg: unknown): Promise<MessageQueue> {
    const info = await this.findPublishInfo(out.topic);
    const message: Message = { topic: out.topic, body: out.body, flag: out.flag, properties: out.properties };
    const mq = selector([...info.queues], message, arg);
    if (!mq || !info.queues.some((q) => q.brokerName === mq.brokerName && q.queueId === mq.queueId)) {
      throw new MQClientError("select message queue returned a queue not in the topic's publish list");
    }
    return mq;
  }

  protected client(): ClientInstance {
    if (this.state !== "running" || !this.instance) throw new MQClientError(`the producer is not running (state ${this.state}); call start() first`);
    return this.instance;
  }

  /**
   * prepare + sendDefault without an extra async layer; a bad message still rejects the promise
   * rather than throwing. Sync and async sends always resolve to a result (only oneway has none).
   */
  private startSend(input: MessageInput, mode: "sync" | "async", timeoutMs: number): Promise<SendResult | undefined> {
    let out: Outgoing;
    try {
      out = this.prepare(input);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.sendDefault(out, mode, timeoutMs);
  }

  private prepare(input: MessageInput): Outgoing {
    this.client();
    const msg = buildMessage(input, this.opts.maxMessageSizeBytes);
    let msgId = msg.properties[Prop.UNIQ_KEY];
    if (!msgId) {
      msgId = uniqueIds.next();
      msg.properties[Prop.UNIQ_KEY] = msgId;
    }
    let body = msg.body;
    let sysFlag = 0;
    if (body.length >= this.opts.compressMsgBodyOverHowmuchBytes) {
      const compressed = deflateSync(body, { level: ZLIB_LEVEL });
      if (compressed.length < body.length) {
        body = compressed;
        sysFlag |= SysFlag.COMPRESSED | SysFlag.COMPRESSION_ZLIB;
      }
    }
    if (msg.properties[Prop.TRAN_MSG] === "true") sysFlag |= SysFlag.TRANSACTION_PREPARED_TYPE;
    return { topic: msg.topic, body, sysFlag, flag: msg.flag, properties: msg.properties, batch: false, msgId };
  }

  private prepareBatch(inputs: MessageInput[]): Outgoing {
    this.client();
    if (!Array.isArray(inputs) || inputs.length === 0) throw new MQClientError("a batch needs at least one message", { code: ResponseCode.MESSAGE_ILLEGAL });
    if (inputs.length > MAX_BATCH_MESSAGES) throw new MQClientError(`a batch holds at most ${MAX_BATCH_MESSAGES} messages`, { code: ResponseCode.MESSAGE_ILLEGAL });
    const messages = inputs.map((i) => buildMessage(i, this.opts.maxMessageSizeBytes));
    const first = messages[0]!;
    if (isRetryTopic(first.topic)) throw new MQClientError("Retry Group is not supported for batching", { code: ResponseCode.MESSAGE_ILLEGAL });
    const ids: string[] = [];
    for (const m of messages) {
      if (m.topic !== first.topic) throw new MQClientError("The topic of the messages in one batch should be the same", { code: ResponseCode.MESSAGE_ILLEGAL });
      if (m.properties[Prop.WAIT] !== first.properties[Prop.WAIT]) {
        throw new MQClientError("The waitStoreMsgOK of the messages in one batch should the same", { code: ResponseCode.MESSAGE_ILLEGAL });
      }
      if (m.properties[Prop.DELAY] !== undefined) throw new MQClientError("TimeDelayLevel is not supported for batching", { code: ResponseCode.MESSAGE_ILLEGAL });
      if (!m.properties[Prop.UNIQ_KEY]) m.properties[Prop.UNIQ_KEY] = uniqueIds.next();
      ids.push(m.properties[Prop.UNIQ_KEY]!);
    }
    let batchBuffer: Buffer | undefined;
    const body = encodeBatchBody(messages, (minSizeBytes) => (batchBuffer = this.batchBuffers.take(minSizeBytes)));
    if (body.length > this.opts.maxMessageSizeBytes) {
      this.batchBuffers.give(batchBuffer!);
      throw new MQClientError(`the batch body size ${body.length} is over max value, MAX: ${this.opts.maxMessageSizeBytes}`, { code: ResponseCode.MESSAGE_ILLEGAL });
    }
    return {
      topic: first.topic,
      body,
      sysFlag: 0,
      flag: 0,
      properties: { [Prop.WAIT]: first.properties[Prop.WAIT]! },
      batch: true,
      msgId: ids.join(","),
      batchBuffer,
    };
  }

  /** Publish info from the cache, the NameServer, or the TBW102 template (protocol doc 6.3 step 2). */
  private async findPublishInfo(topic: string): Promise<TopicPublishInfo> {
    const cached = this.publishInfo.get(topic);
    if (cached && cached.queues.length > 0) return cached;
    const inst = this.client();
    if (!this.publishInfo.has(topic)) this.publishInfo.set(topic, new TopicPublishInfo([], false));
    const route = await inst.updateTopicRoute(topic);
    if (route) {
      // The instance tells members only about changed routes; this one may be cached already.
      this.onRouteChanged(topic, route);
      const info = this.publishInfo.get(topic)!;
      if (info.queues.length > 0) return info;
    }
    // updateTopicRoute (not a bare fetch) also makes the template's brokers resolvable.
    const template = await inst.updateTopicRoute(this.opts.createTopicKey).catch(() => undefined);
    if (template) {
      const n = this.opts.defaultTopicQueueNums;
      const adjusted: TopicRouteData = {
        brokerDatas: template.brokerDatas,
        queueDatas: template.queueDatas.map((q) => ({ ...q, readQueueNums: Math.min(n, q.readQueueNums), writeQueueNums: Math.min(n, q.readQueueNums) })),
      };
      const { queues } = publishQueues(topic, adjusted);
      if (queues.length > 0) {
        const info = new TopicPublishInfo(queues, false);
        this.publishInfo.set(topic, info);
        return info;
      }
    }
    this.publishInfo.delete(topic);
    throw new MQClientError(`No route info of this topic: ${topic}`, { code: ResponseCode.TOPIC_NOT_EXIST });
  }

  private async sendDefault(out: Outgoing, mode: Mode, timeoutMs: number): Promise<SendResult | undefined> {
    const begin = Date.now();
    const cached = this.publishInfo.get(out.topic);
    const info = cached !== undefined && cached.queues.length > 0 ? cached : await this.findPublishInfo(out.topic);
    const attempts = 1 + (mode === "sync" ? this.opts.retryTimesWhenSendFailed : mode === "async" ? this.opts.retryTimesWhenSendAsyncFailed : 0);
    let lastBroker: string | undefined;
    let lastError: unknown;
    const tried: string[] = [];
    for (let attempt = 0; attempt < attempts; attempt++) {
      const mq = info.select(this.opts.sendLatencyFaultEnable ? this.fault : undefined, lastBroker);
      lastBroker = mq.brokerName;
      const remaining = timeoutMs - (Date.now() - begin);
      if (remaining <= 0) break;
      const started = Date.now();
      tried.push(mq.brokerName);
      try {
        // Fast path: a known master and an answer awaited, without sendKernel's async layer.
        const addr = mode === "oneway" ? undefined : this.client().findMasterAddr(mq.brokerName);
        const result =
          addr !== undefined
            ? sendResultOf(await this.client().invokeBroker(addr, this.sendRequest(out, mq), remaining, SEND_OK_CODES), out, mq)
            : await this.sendKernel(out, mq, mode, remaining);
        this.fault.update(mq.brokerName, Date.now() - started, false);
        if (mode === "sync" && result && result.sendStatus !== "SEND_OK" && this.opts.retryAnotherBrokerWhenNotStoreOK && attempt + 1 < attempts) {
          continue;
        }
        return result;
      } catch (err) {
        this.fault.update(mq.brokerName, Date.now() - started, true);
        lastError = err;
        const network = err instanceof RemotingError || (err instanceof MQClientError && err.retriable && !(err instanceof MQBrokerError));
        const retryCode = mode === "sync" && err instanceof MQBrokerError && err.retriable;
        if (!network && !retryCode) throw err;
      }
    }
    const elapsed = Date.now() - begin;
    if (lastError === undefined) throw new MQClientError(`sendDefaultImpl call timeout after ${elapsed} ms`, { retriable: true });
    throw new MQClientError(
      `Send [${tried.length}] times, still failed, cost [${elapsed}]ms, Topic: ${out.topic}, BrokersSent: [${tried.join(", ")}]: ${errorText(lastError)}`,
      { cause: lastError, code: lastError instanceof MQClientError ? lastError.code : -1, retriable: true },
    );
  }

  private async sendKernel(out: Outgoing, mq: MessageQueue, mode: Mode, timeoutMs: number): Promise<SendResult | undefined> {
    const inst = this.client();
    let addr = inst.findMasterAddr(mq.brokerName);
    if (!addr) {
      await inst.updateTopicRoute(mq.topic);
      addr = inst.findMasterAddr(mq.brokerName);
    }
    if (!addr) throw new MQClientError(`The broker[${mq.brokerName}] not exist`, { retriable: true });
    const request = this.sendRequest(out, mq);
    if (mode === "oneway") {
      await inst.remoting.invokeOneway(addr, request);
      return undefined;
    }
    return sendResultOf(await inst.invokeBroker(addr, request, timeoutMs, SEND_OK_CODES), out, mq);
  }

  /** The SEND_MESSAGE_V2 / SEND_BATCH_MESSAGE request for one attempt on `mq`. */
  private sendRequest(out: Outgoing, mq: MessageQueue): RemotingCommand {
    const header: Record<string, string> = {
      a: this.group,
      b: out.topic,
      c: this.opts.createTopicKey,
      d: String(this.opts.defaultTopicQueueNums),
      e: String(mq.queueId),
      f: String(out.sysFlag),
      g: String(Date.now()),
      h: String(out.flag),
      j: "0",
      k: "false",
      m: String(out.batch),
      n: mq.brokerName,
    };
    let properties = out.properties;
    if (isRetryTopic(out.topic)) {
      // Java moves the retry bookkeeping from properties into the header for %RETRY% sends; the
      // copy keeps `out` intact for another attempt.
      properties = { ...properties };
      const reconsume = properties[Prop.RECONSUME_TIME];
      if (reconsume !== undefined) {
        header.j = reconsume;
        delete properties[Prop.RECONSUME_TIME];
      }
      const maxReconsume = properties[Prop.MAX_RECONSUME_TIMES];
      if (maxReconsume !== undefined) {
        header.l = maxReconsume;
        delete properties[Prop.MAX_RECONSUME_TIMES];
      }
    }
    header.i = propertiesToString(properties);
    // Like Java, a reply (createReplyMessage) goes as SEND_REPLY_MESSAGE_V2: the broker pushes it to the requester.
    const code = out.batch ? RequestCode.SEND_BATCH_MESSAGE : out.properties[Prop.MSG_TYPE] === REPLY_MESSAGE_FLAG ? RequestCode.SEND_REPLY_MESSAGE_V2 : RequestCode.SEND_MESSAGE_V2;
    return RemotingCommand.request(code, header, out.body);
  }
}

function sendResultOf(response: RemotingCommand, out: Outgoing, mq: MessageQueue): SendResult {
  const h = response.extFields;
  const queueId = Number(h.queueId ?? mq.queueId);
  const result: SendResult = {
    sendStatus: statusOf(response.code),
    msgId: out.msgId,
    offsetMsgId: h.msgId ?? "",
    messageQueue: { topic: mq.topic, brokerName: mq.brokerName, queueId: Number.isInteger(queueId) ? queueId : mq.queueId },
    queueOffset: Number(h.queueOffset ?? -1),
  };
  if (h.MSG_REGION !== undefined) result.regionId = h.MSG_REGION;
  if (h.TRACE_ON !== undefined) result.traceOn = h.TRACE_ON !== "false";
  return result;
}
