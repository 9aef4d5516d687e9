// Turning what a user hands to the producer into a validated Message (Java Message + Validators).

import { MAX_PROPERTIES_SIZE_BYTES, type Message, Prop, propertiesToString } from "../common/message.ts";
import { isNotAllowedSendTopic, topicNameProblem } from "../common/topic.ts";
import { ResponseCode } from "../remoting/codes.ts";
import { MQClientError } from "./errors.ts";

/** Java DefaultMQProducer.maxMessageSize: 4 MiB. */
export const MAX_MESSAGE_SIZE_BYTES = 4 * 1024 * 1024;

/** A message as users write it. */
export interface MessageInput {
  topic: string;
  body: Uint8Array | string;
  tags?: string;
  /** Business keys; an array is joined with single spaces (Java setKeys(Collection)). */
  keys?: string | string[];
  /** 1..18 with the default broker delay levels; 0 = not delayed. */
  delayLevel?: number;
  /** User flag stored with the message. */
  flag?: number;
  /** User properties. */
  properties?: Record<string, string>;
  /** Whether the broker should wait for flush / slave ack before answering (Java default true). */
  waitStoreMsgOK?: boolean;
}

const textEncoder = new TextEncoder();
const SEPARATOR_CHARS = /[\u0001\u0002]/;

function illegal(message: string): MQClientError {
  return new MQClientError(message, { code: ResponseCode.MESSAGE_ILLEGAL });
}

export function validateTopic(topic: string): void {
  const problem = topicNameProblem(topic);
  if (problem) throw illegal(problem);
  if (isNotAllowedSendTopic(topic)) throw illegal(`Sending message to topic[${topic}] is forbidden.`);
}

/** Builds and validates a Message; throws MQClientError(MESSAGE_ILLEGAL) naming the problem. */
export function buildMessage(input: MessageInput, maxMessageSizeBytes = MAX_MESSAGE_SIZE_BYTES): Message {
  if (!input || typeof input !== "object") throw illegal("the message is null");
  validateTopic(input.topic);
  const body = typeof input.body === "string" ? textEncoder.encode(input.body) : input.body;
  if (!(body instanceof Uint8Array)) throw illegal("the message body is not a string or Uint8Array");
  if (body.length === 0) throw illegal("the message body length is zero");
  if (body.length > maxMessageSizeBytes) throw illegal(`the message body size over max value, MAX: ${maxMessageSizeBytes}`);
  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.properties ?? {})) {
    if (k.length === 0 || SEPARATOR_CHARS.test(k) || SEPARATOR_CHARS.test(String(v))) {
      throw illegal(`property ${JSON.stringify(k)} is empty or contains the reserved characters \\u0001/\\u0002`);
    }
    properties[k] = String(v);
  }
  if (input.keys !== undefined) {
    const keys = Array.isArray(input.keys) ? input.keys.join(" ") : input.keys;
    if (keys.length > 0) properties[Prop.KEYS] = keys;
  }
  if (input.tags !== undefined && input.tags.length > 0) properties[Prop.TAGS] = input.tags;
  if (input.delayLevel !== undefined && input.delayLevel !== 0) {
    if (!Number.isInteger(input.delayLevel) || input.delayLevel < 0) throw illegal(`delay level ${input.delayLevel} is not a non-negative integer`);
    properties[Prop.DELAY] = String(input.delayLevel);
  }
  properties[Prop.WAIT] = input.waitStoreMsgOK === false ? "false" : "true";
  for (const [k, v] of Object.entries(properties)) {
    if (SEPARATOR_CHARS.test(k) || SEPARATOR_CHARS.test(v)) throw illegal(`property ${k} contains the reserved characters \\u0001/\\u0002`);
  }
  if (textEncoder.encode(propertiesToString(properties)).length > MAX_PROPERTIES_SIZE_BYTES) {
    throw illegal(`the message properties exceed ${MAX_PROPERTIES_SIZE_BYTES} bytes`);
  }
  const flag = input.flag ?? 0;
  if (!Number.isInteger(flag)) throw illegal(`flag ${flag} is not an integer`);
  return { topic: input.topic, body, flag, properties };
}
