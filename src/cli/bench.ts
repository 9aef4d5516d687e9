// `tsmq bench produce|consume`: load generators modelled on RocketMQ's benchmark Producer and
// Consumer. A live line every --interval seconds, a summary at the end (one JSON line with --json).
// Ctrl-C ends the run with the summary; a second Ctrl-C exits at once.

import { defineCommand } from "citty";
import { fail, failWith, intArg, namesrvArg, namesrvOrExit } from "../client/cli-support.ts";
import { ConsumeBench, formatConsumeSummary } from "../bench/consume-bench.ts";
import { MAX_SENDERS, ProduceBench, formatProduceSummary } from "../bench/produce-bench.ts";
// Bounds of the bench's messages: the client's own (Java maxMessageSize, batch size).
import { MAX_MESSAGE_SIZE_BYTES } from "../client/message-builder.ts";
import { MAX_BATCH_MESSAGES } from "../client/producer.ts";

/** Java's benchmark topic. */
const DEFAULT_TOPIC = "BenchmarkTest";
/** Seconds between live lines. */
const DEFAULT_REPORT_INTERVAL_SECONDS = 3;
/** Exit code after a second Ctrl-C (128 + SIGINT). */
const EXIT_CODE_INTERRUPTED = 130;

const commonArgs = {
  ...namesrvArg,
  topic: { type: "string", alias: "t", description: `topic (default ${DEFAULT_TOPIC})` },
  count: { type: "string", alias: "c", description: "stop after this many messages" },
  duration: { type: "string", alias: "d", description: "stop after this many seconds (default: until Ctrl-C or --count)" },
  interval: { type: "string", description: `seconds between live lines (default ${DEFAULT_REPORT_INTERVAL_SECONDS})` },
  "serialize-type": { type: "string", description: "request header serialization: JSON (default) or ROCKETMQ" },
  json: { type: "boolean", description: "print the final summary as one JSON line" },
} as const;

function serializeTypeArg(command: string, value: string | undefined): "JSON" | "ROCKETMQ" {
  const v = (value ?? "JSON").toUpperCase();
  if (v !== "JSON" && v !== "ROCKETMQ") fail(command, `--serialize-type must be JSON or ROCKETMQ, got ${value}`);
  return v;
}

/** First Ctrl-C / SIGTERM stops the run gracefully, a second one exits at once. */
function onInterrupt(stop: () => void): void {
  let interrupted = false;
  const handler = () => {
    if (interrupted) process.exit(EXIT_CODE_INTERRUPTED);
    interrupted = true;
    process.stderr.write("stopping (Ctrl-C again to exit now)\n");
    stop();
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
}

const produce = defineCommand({
  meta: { name: "produce", description: "Send messages as fast as acks come back; report TPS and RT" },
  args: {
    ...commonArgs,
    senders: { type: "string", alias: "w", description: "senders in flight, each waiting for its ack (default 64)" },
    size: { type: "string", alias: "s", description: "message body size in bytes (default 1024)" },
    keys: { type: "boolean", alias: "k", description: "set KEYS on every message" },
    tags: { type: "string", alias: "l", description: "tag count: tags tag0..tagN-1 (default 0, no tag)" },
    async: { type: "boolean", alias: "y", description: "async sends: one issuer keeps --senders sends in flight" },
    batch: { type: "string", alias: "b", description: "messages per batch request (default 1)" },
    "delay-level": { type: "string", alias: "e", description: "delay level of every message (default 0)" },
    lean: { type: "boolean", description: "send the same requests straight over the remoting client, bypassing the Producer (measures its cost)" },
  },
  async run({ args }) {
    const cmd = "bench produce";
    const namesrvAddr = namesrvOrExit(cmd, args.namesrvAddr);
    if (args.batch !== undefined && args["delay-level"] !== undefined) fail(cmd, "--batch and --delay-level cannot be combined (batches take no delay level)");
    if (args.batch !== undefined && args.lean) fail(cmd, "--batch and --lean cannot be combined (the lean path sends single messages)");
    const bench = new ProduceBench(
      {
        namesrvAddr,
        topic: args.topic ?? DEFAULT_TOPIC,
        senders: Math.min(intArg(cmd, "senders", args.senders, 64), MAX_SENDERS),
        messageSizeBytes: Math.min(intArg(cmd, "size", args.size, 1024), MAX_MESSAGE_SIZE_BYTES),
        keys: args.keys === true,
        tagCount: intArg(cmd, "tags", args.tags, 0, 0),
        async: args.async === true,
        batchSize: Math.min(intArg(cmd, "batch", args.batch, 1), MAX_BATCH_MESSAGES),
        delayLevel: intArg(cmd, "delay-level", args["delay-level"], 0, 0),
        count: args.count === undefined ? undefined : intArg(cmd, "count", args.count, 1),
        durationMs: args.duration === undefined ? undefined : intArg(cmd, "duration", args.duration, 1) * 1000,
        reportIntervalMs: intArg(cmd, "interval", args.interval, DEFAULT_REPORT_INTERVAL_SECONDS) * 1000,
        serializeType: serializeTypeArg(cmd, args["serialize-type"]),
        lean: args.lean === true,
      },
      (line) => process.stdout.write(line + "\n"),
    );
    onInterrupt(() => bench.stop());
    try {
      const summary = await bench.run();
      process.stdout.write((args.json ? JSON.stringify(summary) : formatProduceSummary(summary)) + "\n");
    } catch (err) {
      failWith(cmd, err);
    }
    process.exit(0);
  },
});

const consume = defineCommand({
  meta: { name: "consume", description: "Consume with a push consumer; report TPS and born/store-to-consume latency" },
  args: {
    ...commonArgs,
    group: { type: "string", alias: "g", description: "consumer group (default benchmark_consumer_<pid>, a new group each run)" },
    filter: { type: "string", description: "tag expression (default *)" },
    first: { type: "boolean", description: "a new group starts at the first offset (drain the backlog)" },
    batch: { type: "string", alias: "b", description: "messages per listener call (default 1)" },
  },
  async run({ args }) {
    const cmd = "bench consume";
    const namesrvAddr = namesrvOrExit(cmd, args.namesrvAddr);
    const bench = new ConsumeBench(
      {
        namesrvAddr,
        topic: args.topic ?? DEFAULT_TOPIC,
        group: args.group ?? `benchmark_consumer_${process.pid}`,
        filter: args.filter ?? "*",
        fromFirst: args.first === true,
        count: args.count === undefined ? undefined : intArg(cmd, "count", args.count, 1),
        durationMs: args.duration === undefined ? undefined : intArg(cmd, "duration", args.duration, 1) * 1000,
        reportIntervalMs: intArg(cmd, "interval", args.interval, DEFAULT_REPORT_INTERVAL_SECONDS) * 1000,
        serializeType: serializeTypeArg(cmd, args["serialize-type"]),
        consumeBatchSize: intArg(cmd, "batch", args.batch, 1),
      },
      (line) => process.stdout.write(line + "\n"),
    );
    onInterrupt(() => bench.stop());
    try {
      const summary = await bench.run();
      process.stdout.write((args.json ? JSON.stringify(summary) : formatConsumeSummary(summary)) + "\n");
    } catch (err) {
      failWith(cmd, err);
    }
    process.exit(0);
  },
});

export default defineCommand({
  meta: { name: "bench", description: "Benchmark a running broker: produce (send TPS, RT) or consume (consume TPS, latency)" },
  subCommands: { produce, consume },
});
