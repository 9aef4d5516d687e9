// Sending a failed message back for redelivery (protocol doc 6.10): CONSUMER_SEND_MSG_BACK to the
// broker, falling back to a normal send to `%RETRY%<group>` through the internal producer.

import { Prop } from "../common/message.ts";
import { retryTopic } from "../common/topic.ts";
import { sendMessageBack } from "./broker-api.ts";
import type { ClientConfig } from "./client-config.ts";
import type { ConsumedMessage } from "./consumed-message.ts";
import { errorText } from "./errors.ts";
import type { ClientInstance } from "./instance.ts";
import { Producer } from "./producer.ts";

/** Java: the internal producer every client instance owns, used for retry-topic fallbacks. */
export const CLIENT_INNER_PRODUCER_GROUP = "CLIENT_INNER_PRODUCER";
/** Header fields are Java ints: "unlimited" retries are sent as Integer.MAX_VALUE. */
const JAVA_INT_MAX = 0x7fffffff;
/** Java: a fallback retry message is delayed by level 3 + reconsumeTimes. */
const RETRY_BASE_DELAY_LEVEL = 3;
/** Properties describing one delivery, not the message: dropped when it is re-sent. */
const DELIVERY_PROPERTIES = [Prop.TRAN_MSG, Prop.MIN_OFFSET, Prop.MAX_OFFSET, Prop.CONSUME_START_TIME, Prop.DELAY, Prop.WAIT, Prop.KEYS, Prop.TAGS];

export class RetrySender {
  private producer: Producer | undefined;

  constructor(
    private readonly inst: ClientInstance,
    private readonly group: string,
    private readonly clientConfig: ClientConfig,
    /** Retries before the DLQ; may be Number.MAX_SAFE_INTEGER for "unlimited". */
    private readonly maxReconsumeTimes: number,
  ) {}

  /** CONSUMER_SEND_MSG_BACK, else the retry topic. False when neither worked. */
  async sendBack(m: ConsumedMessage, delayLevel: number): Promise<boolean> {
    try {
      await sendMessageBack(this.inst, { group: this.group, message: m, delayLevel, maxReconsumeTimes: Math.min(this.maxReconsumeTimes, JAVA_INT_MAX) });
      return true;
    } catch (err) {
      this.inst.log.warn(`send back of ${m.msgId} failed, trying the retry topic: ${errorText(err)}`);
    }
    try {
      await this.sendToRetryTopic(m);
      return true;
    } catch (err) {
      this.inst.log.warn(`retry-topic send of ${m.msgId} failed, retrying locally: ${errorText(err)}`);
      return false;
    }
  }

  /**
   * A normal send to `%RETRY%<group>` carrying the retry bookkeeping; the broker moves it to the
   * DLQ when its reconsume count reached the maximum.
   */
  async sendToRetryTopic(m: ConsumedMessage): Promise<void> {
    const properties: Record<string, string> = { ...m.properties };
    for (const name of DELIVERY_PROPERTIES) delete properties[name];
    properties[Prop.RETRY_TOPIC] ??= m.topic;
    properties[Prop.ORIGIN_MESSAGE_ID] ??= m.msgId;
    properties[Prop.RECONSUME_TIME] = String(m.reconsumeTimes + 1);
    properties[Prop.MAX_RECONSUME_TIMES] = String(Math.min(this.maxReconsumeTimes, JAVA_INT_MAX));
    await this.innerProducer().send({
      topic: retryTopic(this.group),
      body: m.body,
      flag: m.flag,
      tags: m.tags,
      keys: m.keys,
      delayLevel: RETRY_BASE_DELAY_LEVEL + m.reconsumeTimes,
      properties,
    });
  }

  async shutdown(): Promise<void> {
    await this.producer?.shutdown();
  }

  private innerProducer(): Producer {
    // Its own instance name: a group may be registered only once per client instance.
    this.producer ??= new Producer({
      ...this.clientConfig,
      instanceName: `${this.inst.config.instanceName}-inner-${this.group}`,
      groupName: CLIENT_INNER_PRODUCER_GROUP,
      retryTimesWhenSendFailed: 0,
    }).start();
    return this.producer;
  }
}
