// `tsmq produce`: send messages from --body or stdin lines and print one result line per message.

import { defineCommand } from "citty";
import { fail, failWith, intArg, namesrvArg, namesrvOrExit, propsArg } from "../client/cli-support.ts";
import { errorText } from "../client/errors.ts";
import type { MessageInput } from "../client/message-builder.ts";
import { Producer, type SendResult } from "../client/producer.ts";
import { type LocalTransactionState, TransactionProducer } from "../client/transaction-producer.ts";

const COMMAND = "produce";
/** Async sends in flight at once: bounds memory and sockets' outbound queues. */
const MAX_IN_FLIGHT_SENDS = 256;
/** Messages read from stdin when --count is not given: a bound, not a target. */
const MAX_STDIN_MESSAGES = 10_000_000;
/** `--transaction unknown` waits this long for the broker's check-backs (3 default check intervals of 60 s). */
const TRANSACTION_CHECK_WAIT_MS = 180_000;
const TRANSACTION_CHECK_POLL_MS = 100;
const TRANSACTION_STATES: Record<string, LocalTransactionState> = { commit: "COMMIT_MESSAGE", rollback: "ROLLBACK_MESSAGE", unknown: "UNKNOW" };

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
    transaction: { type: "string", description: "send transactional messages ending commit | rollback | unknown (unknown: commit when the broker checks back, waiting for it)" },
  },
  async run({ args }) {
    const namesrvAddr = namesrvOrExit(COMMAND, args.namesrvAddr);
    const delayLevel = intArg(COMMAND, "delay-level", args["delay-level"], 0, 0);
    const batchSize = intArg(COMMAND, "batch", args.batch, 1);
    const properties = propsArg(COMMAND, args.props);
    const count = args.count === undefined ? undefined : intArg(COMMAND, "count", args.count, 1);
    if (batchSize > 1 && args.async) fail(COMMAND, "--batch and --async cannot be combined");
    const txState = args.transaction === undefined ? undefined : TRANSACTION_STATES[args.transaction];
    if (args.transaction !== undefined && !txState) fail(COMMAND, `--transaction must be commit, rollback or unknown, got ${args.transaction}`);
    if (txState && (batchSize > 1 || args.async)) fail(COMMAND, "--transaction cannot be combined with --batch or --async");
    /** Transaction ids the broker has checked back (answered with commit). */
    const checked = new Set<string>();
    const options = { namesrvAddr, groupName: args.group, instanceName: `cli-produce-${process.pid}` };
    const producer = txState
      ? new TransactionProducer({
          ...options,
          transactionListener: {
            executeLocalTransaction: () => txState,
            checkLocalTransaction: (msg) => {
              checked.add(msg.transactionId);
              process.stderr.write(`tsmq produce: transaction ${msg.transactionId} checked back: COMMIT_MESSAGE\n`);
              return "COMMIT_MESSAGE";
            },
          },
        })
      : new Producer(options);
    producer.start();
    const unknownIds: string[] = [];
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
              process.stderr.write(`tsmq produce: send failed: ${errorText(err)}\n`);
            })
            .finally(() => inFlight.delete(p));
          inFlight.add(p);
        } else if (producer instanceof TransactionProducer) {
          const r = await producer.sendMessageInTransaction(msg);
          if (r.localTransactionState === "UNKNOW") unknownIds.push(r.transactionId);
          printResult(r, args.json);
        } else {
          printResult(await producer.send(msg), args.json);
        }
      }
      await flushBatch();
      await Promise.all(inFlight);
      // Unknown transactions are decided by the check-back: stay until the broker asked for each.
      const deadline = Date.now() + TRANSACTION_CHECK_WAIT_MS;
      const waiting = () => unknownIds.some((id) => !checked.has(id)) || (producer instanceof TransactionProducer && producer.pendingCheckCount > 0);
      while (waiting()) {
        if (Date.now() > deadline) throw new Error(`no check-back within ${TRANSACTION_CHECK_WAIT_MS} ms for ${unknownIds.filter((id) => !checked.has(id)).length} transaction(s)`);
        await Bun.sleep(TRANSACTION_CHECK_POLL_MS);
      }
    } catch (err) {
      await producer.shutdown().catch(() => {});
      failWith(COMMAND, err);
    }
    await producer.shutdown();
    if (failed > 0) fail(COMMAND, `${failed} message(s) failed`);
    process.exit(0);
  },
});
