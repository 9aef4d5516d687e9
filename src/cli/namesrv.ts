// `tsmq namesrv [-p port] [-c namesrv.conf]`: runs a NameServer until SIGINT/SIGTERM.

import { defineCommand } from "citty";
import { loadNamesrvConfig } from "../config/namesrv-config.ts";
import { createLogger } from "../log.ts";
import { NameServer } from "../namesrv/namesrv.ts";
import { exitOnConfigError, requireOptionValues, runUntilSignal } from "./run-until-signal.ts";

const log = createLogger("namesrv");

export default defineCommand({
  meta: { name: "namesrv", description: "Run a NameServer (route registry for brokers and clients)" },
  args: {
    port: { type: "string", alias: "p", description: "listen port (config key listenPort, default 9876)" },
    config: { type: "string", alias: "c", description: "namesrv properties file (RocketMQ namesrv.conf keys)" },
    kvConfigPath: { type: "string", description: "KV config file (default ~/namesrv/kvConfig.json)" },
  },
  async run({ args }) {
    const loaded = await exitOnConfigError(log, () => {
      requireOptionValues(args);
      return loadNamesrvConfig(args.config, { listenPort: args.port, kvConfigPath: args.kvConfigPath });
    });
    for (const warning of loaded.warnings) log.warn(warning);
    const namesrv = new NameServer({ config: loaded.config });
    await runUntilSignal(log, namesrv, {
      startFailure: `cannot start on port ${loaded.config.listenPort}`,
      // Java prints this line to stdout once the namesrv is up; scripts wait for it.
      ready: () => console.log(`The Name Server boot success. serializeType=JSON, port=${namesrv.port}`),
    });
  },
});
