// Codec throughput for a SEND_MESSAGE_V2-like request (Java client header fields, 1 KiB body):
// encode (RemotingCommand -> frame) and decode (FrameDecoder + RemotingCommand.decode), each
// for about BENCH_DURATION_MS, with JSON and ROCKETMQ binary headers.
// Run: bun scripts/bench-codec.ts

import { RequestCode } from "../src/remoting/codes.ts";
import { RemotingCommand, SerializeType } from "../src/remoting/command.ts";
import { FrameDecoder } from "../src/remoting/frame.ts";

/** How long each measurement runs. */
const BENCH_DURATION_MS = 2000;
/** Operations between clock reads, so reading the clock does not dominate. */
const OPS_PER_CLOCK_CHECK = 1000;
/** Frames packed into one simulated socket chunk for the decode run (a busy connection's read). */
const FRAMES_PER_CHUNK = 32;
/** Message body size of the typical request. */
const BODY_SIZE_BYTES = 1024;

function sendRequest(type: SerializeType): RemotingCommand {
  const cmd = RemotingCommand.request(RequestCode.SEND_MESSAGE_V2, {
    a: "please_rename_unique_group_name",
    b: "TopicTest",
    c: "TBW102",
    d: "4",
    e: "1",
    f: "0",
    g: "1700000000000",
    h: "0",
    i: "KEYS\u0001OrderID188\u0002UNIQ_KEY\u00017F0000010D2A18B4AAC2777A5E4B0000\u0002WAIT\u0001true\u0002TAGS\u0001TagA",
    j: "0",
    k: "false",
    m: "false",
    n: "broker-a",
  });
  cmd.serializeType = type;
  cmd.body = new Uint8Array(BODY_SIZE_BYTES).fill(0x61);
  return cmd;
}

/** Runs `op` repeatedly for BENCH_DURATION_MS; returns operations per second. */
function measure(op: () => void): number {
  for (let i = 0; i < OPS_PER_CLOCK_CHECK * 5; i++) op(); // warm-up for the JIT
  const start = performance.now();
  let ops = 0;
  let elapsed = 0;
  while (elapsed < BENCH_DURATION_MS) {
    for (let i = 0; i < OPS_PER_CLOCK_CHECK; i++) op();
    ops += OPS_PER_CLOCK_CHECK;
    elapsed = performance.now() - start;
  }
  return (ops * 1000) / elapsed;
}

function report(label: string, framesPerSecond: number, frameBytes: number): void {
  const mibPerSecond = (framesPerSecond * frameBytes) / (1024 * 1024);
  console.log(`${label.padEnd(26)} ${Math.round(framesPerSecond).toLocaleString("en-US").padStart(11)} frames/s  ${mibPerSecond.toFixed(0).padStart(5)} MiB/s  (${frameBytes} B/frame)`);
}

let sink = 0;
for (const [name, type] of [["JSON", SerializeType.JSON], ["ROCKETMQ", SerializeType.ROCKETMQ]] as const) {
  const cmd = sendRequest(type);
  const frame = cmd.encode();
  report(`encode ${name}`, measure(() => {
    sink += cmd.encode().length;
  }), frame.length);

  const chunk = new Uint8Array(frame.length * FRAMES_PER_CHUNK);
  for (let i = 0; i < FRAMES_PER_CHUNK; i++) chunk.set(frame, i * frame.length);
  const decoder = new FrameDecoder();
  const chunksPerSecond = measure(() => {
    for (const f of decoder.push(chunk)) sink += RemotingCommand.decode(f).code;
  });
  report(`decode ${name}`, chunksPerSecond * FRAMES_PER_CHUNK, frame.length);
}
if (sink === 42) console.log(""); // keeps the work observable to the optimizer
