#!/usr/bin/env bun
// tsmq entry point: one main command with one lazily loaded subcommand per file in cli/, so a
// subcommand loads only the modules it uses. No top-level await: the build emits CommonJS bytecode.
//
// The build (scripts/build.ts) also lays that bytecode out by cli/startup.bytecode-order, a
// profile of the functions one `tsmq standalone` start uses (Bun's --bytecode-order): a start reads
// fewer of the executable's pages, and fewer stay resident. Functions changed since the recording
// just lose that placement; after large changes record it again (it is written on exit):
//   BUN_BYTECODE_ORDER_OUT=src/cli/startup.bytecode-order ./tsmq standalone --store "$(mktemp -d)" -p 0 --broker-port 0
//   then SIGTERM (Ctrl-C) it a few seconds after the ready line, and build again.

import { type CommandDef, defineCommand, renderUsage, runMain } from "citty";
import { useNormalJitPolicy } from "./cli/jit-policy.ts";

type Loader = () => Promise<{ default: CommandDef<any> }>;

/** A server subcommand: keeps the start-up JIT policy until it is ready (run-until-signal.ts). */
const server = (load: Loader) => () => load().then((m) => m.default);

/** A client subcommand: its work (sends, bench loops) needs the normal JIT policy from the start. */
const client = (load: Loader) => () => {
  useNormalJitPolicy();
  return load().then((m) => m.default);
};

const main = defineCommand({
  meta: {
    name: "tsmq",
    version: "0.1.0",
    description: "A RocketMQ 4.x compatible message queue (NameServer, broker and clients) in one executable",
  },
  subCommands: {
    namesrv: server(() => import("./cli/namesrv.ts")),
    broker: server(() => import("./cli/broker.ts")),
    standalone: server(() => import("./cli/standalone.ts")),
    produce: client(() => import("./cli/produce.ts")),
    consume: client(() => import("./cli/consume.ts")),
    admin: client(() => import("./cli/admin.ts")),
    bench: client(() => import("./cli/bench.ts")),
  },
});

// Usage goes straight to stdout: citty's default prints through consola, which goes quiet when
// NODE_ENV=test (e.g. when a test spawns the binary).
runMain(main, {
  showUsage: async (cmd, parent) => {
    process.stdout.write(`${await renderUsage(cmd, parent)}\n`);
  },
}).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
