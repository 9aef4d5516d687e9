// `tsmq namesrv [-p port] [-c namesrv.conf] [--bind address]`: runs a NameServer until SIGINT/SIGTERM.

import { defineCommand } from "citty";
import { loadNamesrvConfig } from "../config/namesrv-config.ts";
import { createLogger } from "../log.ts";
import { NameServer } from "../namesrv/namesrv.ts";
import { ALL_INTERFACES, bindAddress, exitOnConfigError, requireOptionValues, runUntilSignal } from "./run-until-signal.ts";

const log = createLogger("namesrv");

export default defineCommand({
  meta: { name: "namesrv", description: "Run a NameServer (route registry for brokers and clients)" },
  args: {
    port: { type: "string", alias: "p", description: "listen port (config key listenPort, default 9876)" },
    config: { type: "string", alias: "c", description: "namesrv properties file (RocketMQ namesrv.conf keys)" },
    kvConfigPath: { type: "string", description: "KV config file (default ~/namesrv/kvConfig.json)" },
    bind: { type: "string", description: `address to listen on (default ${ALL_INTERFACES}, all interfaces, like Java)` },
  },
  async run({ args }) {
    const { loaded, host } = await exitOnConfigError(log, async () => {
      requireOptionValues(args);
      const host = bindAddress(args.bind, ALL_INTERFACES);
      return { host, loaded: await loadNamesrvConfig(args.config, { listenPort: args.port, kvConfigPath: args.kvConfigPath }) };
    });
    for (const warning of loaded.warnings) log.warn(warning);
    const namesrv = new NameServer({ config: loaded.config, host });
    await runUntilSignal(log, namesrv, {
      startFailure: `cannot start on port ${loaded.config.listenPort}`,
      // Java prints this line to stdout once the namesrv is up; scripts wait for it.
      ready: () => console.log(`The Name Server boot success. serializeType=JSON, port=${namesrv.port}`),
    });
  },
});
