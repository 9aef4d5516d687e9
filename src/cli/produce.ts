// `tsmq produce`: send messages from --body or stdin lines and print one result line per message.

import { defineCommand } from "citty";
import { fail, failWith, intArg, namesrvArg, namesrvOrExit, propsArg } from "../client/cli-support.ts";
import type { MessageInput } from "../client/message-builder.ts";
import { Producer, type SendResult } from "../client/producer.ts";

const COMMAND = "produce";
/** Async sends in flight at once: bounds memory and sockets' outbound queues. */
const MAX_IN_FLIGHT_SENDS = 256;
/** Messages read from stdin when --count is not given: a bound, not a target. */
const MAX_STDIN_MESSAGES = 10_000_000;

async function* stdinLines(): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of Bun.stdin.stream()) {
    pending += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, nl).replace(/\r$/, "");
      pending = pending.slice(nl + 1);
      if (line.length > 0) yield line;
    }
  }
  pending += decoder.decode();
  if (pending.length > 0) yield pending;
}

function printResult(r: SendResult, json: boolean, msgId = r.msgId, offsetMsgId = r.offsetMsgId, offset = r.queueOffset): void {
  const q = r.messageQueue;
  if (json) {
    process.stdout.write(JSON.stringify({ sendStatus: r.sendStatus, msgId, offsetMsgId, topic: q.topic, brokerName: q.brokerName, queueId: q.queueId, queueOffset: offset }) + "\n");
  } else {
    process.stdout.write(`${r.sendStatus} msgId=${msgId} offsetMsgId=${offsetMsgId} queue=${q.brokerName}:${q.queueId} offset=${offset}\n`);
  }
}

export default defineCommand({
  meta: { name: "produce", description: "Send messages (body from --body, else one message per stdin line)" },
  args: {
    ...namesrvArg,
    topic: { type: "string", alias: "t", description: "topic", required: true },
    group: { type: "string", alias: "g", description: "producer group", default: "tsmq_cli_producer" },
    tag: { type: "string", description: "message tag" },
    keys: { type: "string", description: "message keys, space separated" },
    props: { type: "string", description: "user properties k=v[,k=v]" },
    "delay-level": { type: "string", description: "delay level (1..18 with default broker levels)" },
    count: { type: "string", description: "messages to send (default 1 with --body, all stdin lines otherwise)" },
    body: { type: "string", description: "message body text" },
    async: { type: "boolean", description: "send asynchronously, many in flight" },
    batch: { type: "string", description: "send in batches of N messages" },
    json: { type: "boolean", description: "print JSON lines" },
  },
  async run({ args }) {
    const namesrvAddr = namesrvOrExit(COMMAND, args.namesrvAddr);
    const delayLevel = intArg(COMMAND, "delay-level", args["delay-level"], 0, 0);
    const batchSize = intArg(COMMAND, "batch", args.batch, 1);
    const properties = propsArg(COMMAND, args.props);
    const count = args.count === undefined ? undefined : intArg(COMMAND, "count", args.count, 1);
    if (batchSize > 1 && args.async) fail(COMMAND, "--batch and --async cannot be combined");
    const producer = new Producer({ namesrvAddr, groupName: args.group, instanceName: `cli-produce-${process.pid}` });
    producer.start();
    const build = (body: string): MessageInput => ({ topic: args.topic, body, tags: args.tag, keys: args.keys, delayLevel, properties });
    let failed = 0;
    const inFlight = new Set<Promise<void>>();
    let batch: MessageInput[] = [];
    const flushBatch = async () => {
      if (batch.length === 0) return;
      const r = await producer.sendBatch(batch);
      const ids = r.msgId.split(",");
      const offsetIds = r.offsetMsgId.split(",");
      ids.forEach((id, i) => printResult(r, args.json, id, offsetIds[i] ?? "", r.queueOffset + i));
      batch = [];
    };
    try {
      const bodies: AsyncIterable<string> | Iterable<string> =
        args.body !== undefined ? Array.from({ length: count ?? 1 }, () => args.body!) : stdinLines();
      let n = 0;
      for await (const body of bodies) {
        if (n >= (count ?? MAX_STDIN_MESSAGES)) break;
        n++;
        const msg = build(body);
        if (batchSize > 1) {
          batch.push(msg);
          if (batch.length >= batchSize) await flushBatch();
        } else if (args.async) {
          while (inFlight.size >= MAX_IN_FLIGHT_SENDS) await Promise.race(inFlight);
          const p: Promise<void> = producer
            .sendAsync(msg)
            .then((r) => printResult(r, args.json))
            .catch((err) => {
              failed++;
              process.stderr.write(`tsmq produce: send failed: ${(err as Error).message}\n`);
            })
            .finally(() => inFlight.delete(p));
          inFlight.add(p);
        } else {
          printResult(await producer.send(msg), args.json);
        }
      }
      await flushBatch();
      await Promise.all(inFlight);
    } catch (err) {
      await producer.shutdown().catch(() => {});
      failWith(COMMAND, err);
    }
    await producer.shutdown();
    if (failed > 0) fail(COMMAND, `${failed} message(s) failed`);
    process.exit(0);
  },
});
