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

/** The last topic that passed validateTopic: producers send to one topic in a row, so a string
 * compare skips the regex per message. */
let lastValidTopic: string | undefined;

export function validateTopic(topic: string): void {
  if (topic === lastValidTopic) return;
  const problem = topicNameProblem(topic);
  if (problem) throw illegal(problem);
  if (isNotAllowedSendTopic(topic)) throw illegal(`Sending message to topic[${topic}] is forbidden.`);
  lastValidTopic = topic;
}

function checkNoSeparator(name: string, value: string): void {
  if (SEPARATOR_CHARS.test(value)) throw illegal(`property ${name} contains the reserved characters \\u0001/\\u0002`);
}

/**
 * UTF-8 size of the properties string, or a lower bound when that is clearly within the limit: a
 * UTF-16 unit is at most 3 UTF-8 bytes, so small properties are not encoded just to be measured.
 */
function propertiesSizeBytes(properties: Record<string, string>): number {
  let chars = -1; // n pairs "k\u0001v" joined by n-1 separators
  for (const k in properties) chars += k.length + 1 + properties[k]!.length + 1;
  if (chars * 3 <= MAX_PROPERTIES_SIZE_BYTES) return Math.max(chars, 0);
  return textEncoder.encode(propertiesToString(properties)).length;
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
  const user = input.properties;
  if (user !== undefined) {
    for (const k in user) {
      const v = String(user[k]);
      if (k.length === 0 || SEPARATOR_CHARS.test(k) || SEPARATOR_CHARS.test(v)) {
        throw illegal(`property ${JSON.stringify(k)} is empty or contains the reserved characters \\u0001/\\u0002`);
      }
      properties[k] = v;
    }
  }
  if (input.keys !== undefined) {
    const keys = Array.isArray(input.keys) ? input.keys.join(" ") : input.keys;
    checkNoSeparator(Prop.KEYS, keys);
    if (keys.length > 0) properties[Prop.KEYS] = keys;
  }
  if (input.tags !== undefined && input.tags.length > 0) {
    checkNoSeparator(Prop.TAGS, input.tags);
    properties[Prop.TAGS] = input.tags;
  }
  if (input.delayLevel !== undefined && input.delayLevel !== 0) {
    if (!Number.isInteger(input.delayLevel) || input.delayLevel < 0) throw illegal(`delay level ${input.delayLevel} is not a non-negative integer`);
    properties[Prop.DELAY] = String(input.delayLevel);
  }
  properties[Prop.WAIT] = input.waitStoreMsgOK === false ? "false" : "true";
  if (propertiesSizeBytes(properties) > MAX_PROPERTIES_SIZE_BYTES) {
    throw illegal(`the message properties exceed ${MAX_PROPERTIES_SIZE_BYTES} bytes`);
  }
  const flag = input.flag ?? 0;
  if (!Number.isInteger(flag)) throw illegal(`flag ${flag} is not an integer`);
  return { topic: input.topic, body, flag, properties };
}
