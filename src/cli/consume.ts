// `tsmq consume`: print one line per message until --count messages or Ctrl-C, then commit and exit.

import { defineCommand } from "citty";
import { Prop } from "../common/message.ts";
import { AdminClient } from "../client/admin.ts";
import { fail, failWith, intArg, namesrvArg, namesrvOrExit } from "../client/cli-support.ts";
import type { ConsumedMessage } from "../client/consumed-message.ts";
import { type ConsumeFromWhere, PushConsumer, parseConsumeTimestamp } from "../client/push-consumer.ts";

const COMMAND = "consume";
/** Per-delivery properties the consumer adds: not part of the message as sent. */
const SKIPPED_PROPERTIES = new Set<string>([Prop.MIN_OFFSET, Prop.MAX_OFFSET, Prop.CONSUME_START_TIME]);

function startPoint(value: string | undefined): { where: ConsumeFromWhere; timestamp?: number } {
  if (value === undefined || value === "last") return { where: "CONSUME_FROM_LAST_OFFSET" };
  if (value === "first") return { where: "CONSUME_FROM_FIRST_OFFSET" };
  if (/^\d{14}$/.test(value)) return { where: "CONSUME_FROM_TIMESTAMP", timestamp: parseConsumeTimestamp(value) };
  if (/^\d+$/.test(value)) return { where: "CONSUME_FROM_TIMESTAMP", timestamp: Number(value) };
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) fail(COMMAND, `--from expects first, last, ms epoch, yyyyMMddHHmmss or an ISO date, got ${value}`);
  return { where: "CONSUME_FROM_TIMESTAMP", timestamp: parsed };
}

function formatMessage(m: ConsumedMessage, json: boolean): string {
  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.properties)) if (!SKIPPED_PROPERTIES.has(k)) properties[k] = v;
  const body = new TextDecoder().decode(m.body);
  if (json) {
    return JSON.stringify({
      topic: m.topic,
      brokerName: m.brokerName,
      queueId: m.queueId,
      queueOffset: m.queueOffset,
      msgId: m.msgId,
      offsetMsgId: m.offsetMsgId,
      keys: m.keys ?? null,
      tags: m.tags ?? null,
      reconsumeTimes: m.reconsumeTimes,
      bornTimestamp: m.bornTimestamp,
      storeTimestamp: m.storeTimestamp,
      properties,
      body,
    });
  }
  const props = Object.entries(properties).map(([k, v]) => `${k}=${v}`).join(",");
  return `topic=${m.topic} queue=${m.brokerName}:${m.queueId} offset=${m.queueOffset} msgId=${m.msgId} keys=${m.keys ?? ""} tags=${m.tags ?? ""} props={${props}} body=${JSON.stringify(body)}`;
}

export default defineCommand({
  meta: { name: "consume", description: "Consume messages and print one line per message" },
  args: {
    ...namesrvArg,
    topic: { type: "string", alias: "t", description: "topic", required: true },
    group: { type: "string", alias: "g", description: "consumer group", required: true },
    filter: { type: "string", description: "tag expression, e.g. 'TagA || TagB' (default *)" },
    from: { type: "string", description: "where a new group starts: first | last | ms epoch | yyyyMMddHHmmss | ISO date (default last)" },
    count: { type: "string", description: "exit after this many messages" },
    orderly: { type: "boolean", description: "orderly consumption (queue locks, one message at a time per queue)" },
    broadcast: { type: "boolean", description: "broadcasting: every consumer gets every message" },
    json: { type: "boolean", description: "print JSON lines" },
  },
  async run({ args }) {
    const namesrvAddr = namesrvOrExit(COMMAND, args.namesrvAddr);
    const count = args.count === undefined ? Infinity : intArg(COMMAND, "count", args.count, 1);
    const { where, timestamp } = startPoint(args.from);
    let consumer: PushConsumer;
    try {
      consumer = new PushConsumer({
        namesrvAddr,
        groupName: args.group,
        instanceName: `cli-consume-${process.pid}`,
        messageModel: args.broadcast ? "BROADCASTING" : "CLUSTERING",
        consumeFromWhere: where,
        consumeTimestamp: timestamp,
        // One listener at a time keeps printing in order and makes --count exact.
        consumeConcurrency: 1,
      });
      consumer.subscribe(args.topic, args.filter ?? "*");
    } catch (err) {
      failWith(COMMAND, err);
    }
    let printed = 0;
    let stopping: Promise<void> | undefined;
    let releaseHeld: () => void = () => {};
    const held = new Promise<void>((resolve) => (releaseHeld = resolve));
    const stop = () => {
      stopping ??= (async () => {
        releaseHeld();
        try {
          await consumer.shutdown();
        } catch (err) {
          failWith(COMMAND, err);
        }
        process.exit(0);
      })();
      return stopping;
    };
    const handle = (m: ConsumedMessage) => {
      process.stdout.write(formatMessage(m, args.json) + "\n");
      printed++;
      if (printed >= count) void stop();
    };
    const over = () => printed >= count || stopping !== undefined;
    // Past --count: hold until shutdown, then leave the message uncommitted for the next consumer.
    const consume = async <Status extends string>(msgs: ConsumedMessage[], done: Status, notNow: Status): Promise<Status> => {
      if (over()) {
        await held;
        return notNow;
      }
      for (const m of msgs) handle(m);
      return done;
    };
    if (args.orderly) consumer.registerOrderlyListener((msgs) => consume(msgs, "SUCCESS", "SUSPEND_CURRENT_QUEUE_A_MOMENT"));
    else consumer.registerMessageListener((msgs) => consume(msgs, "CONSUME_SUCCESS", "RECONSUME_LATER"));
    process.on("SIGINT", () => void stop());
    process.on("SIGTERM", () => void stop());
    // A consumer of a topic without a route would wait forever: check first, exit 1 with the reason.
    const admin = new AdminClient({ namesrvAddr });
    try {
      await admin.topicRoute(args.topic);
    } catch (err) {
      failWith(COMMAND, err);
    } finally {
      admin.close();
    }
    try {
      await consumer.start();
    } catch (err) {
      failWith(COMMAND, err);
    }
  },
});
