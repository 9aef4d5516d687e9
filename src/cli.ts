#!/usr/bin/env bun
// tsmq entry point: one citty main with one lazily loaded subcommand per file in cli/.
// Each mode's owner registers its subcommand here the same way.

import { defineCommand, renderUsage, runMain } from "citty";

const main = defineCommand({
  meta: {
    name: "tsmq",
    version: "0.1.0",
    description: "A RocketMQ 4.x compatible message queue (NameServer, broker and clients) in one executable",
  },
  subCommands: {
    namesrv: () => import("./cli/namesrv.ts").then((m) => m.default),
    broker: () => import("./cli/broker.ts").then((m) => m.default),
    standalone: () => import("./cli/standalone.ts").then((m) => m.default),
    produce: () => import("./cli/produce.ts").then((m) => m.default),
    consume: () => import("./cli/consume.ts").then((m) => m.default),
    admin: () => import("./cli/admin.ts").then((m) => m.default),
    bench: () => import("./cli/bench.ts").then((m) => m.default),
  },
});

// Usage goes straight to stdout: citty's default prints through consola, which goes quiet when
// NODE_ENV=test (e.g. when a test spawns the binary).
await runMain(main, {
  showUsage: async (cmd, parent) => {
    process.stdout.write(`${await renderUsage(cmd, parent)}\n`);
  },
});
