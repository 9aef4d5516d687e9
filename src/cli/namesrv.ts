// `tsmq namesrv [-p port] [-c namesrv.conf]`: runs a NameServer until SIGINT/SIGTERM.

import { defineCommand } from "citty";
import { ConfigError } from "../config/java-types.ts";
import { loadNamesrvConfig } from "../config/namesrv-config.ts";
import { createLogger } from "../log.ts";
import { NameServer } from "../namesrv/namesrv.ts";

const log = createLogger("namesrv");

export default defineCommand({
  meta: { name: "namesrv", description: "Run a NameServer (route registry for brokers and clients)" },
  args: {
    port: { type: "string", alias: "p", description: "listen port (config key listenPort, default 9876)" },
    config: { type: "string", alias: "c", description: "namesrv properties file (RocketMQ namesrv.conf keys)" },
    kvConfigPath: { type: "string", description: "KV config file (default ~/namesrv/kvConfig.json)" },
  },
  async run({ args }) {
    let loaded;
    try {
      loaded = await loadNamesrvConfig(args.config, { listenPort: args.port, kvConfigPath: args.kvConfigPath });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      log.error(err.message);
      process.exit(1);
    }
    for (const warning of loaded.warnings) log.warn(warning);
    const namesrv = new NameServer({ config: loaded.config });
    // Handlers go in before the ready line, so a signal right after it still shuts down cleanly.
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info(`${signal} received, shutting down`);
      try {
        await namesrv.shutdown();
        process.exit(0);
      } catch (err) {
        log.error("shutdown failed", err);
        process.exit(1);
      }
    };
    process.on("SIGINT", () => void stop("SIGINT"));
    process.on("SIGTERM", () => void stop("SIGTERM"));
    try {
      await namesrv.start();
    } catch (err) {
      log.error(`cannot start on port ${loaded.config.listenPort}`, err);
      process.exit(1);
    }
    // Java prints this line to stdout once the namesrv is up; scripts wait for it.
    console.log(`The Name Server boot success. serializeType=JSON, port=${namesrv.port}`);
  },
});
