// `tsmq broker -c broker.conf [-n namesrvAddr] [-p port]`: runs a broker until SIGINT/SIGTERM.

import { defineCommand } from "citty";
import { BrokerController } from "../broker/broker.ts";
import { loadBrokerConfig } from "../config/broker-config.ts";
import { createLogger } from "../log.ts";
import { exitOnConfigError, requireOptionValues, runUntilSignal } from "./run-until-signal.ts";

const log = createLogger("broker");

export default defineCommand({
  meta: { name: "broker", description: "Run a broker (message store, send/pull, consumer groups)" },
  args: {
    config: { type: "string", alias: "c", description: "broker properties file (RocketMQ broker.conf keys)" },
    namesrvAddr: { type: "string", alias: "n", description: "NameServer addresses, host:port;host:port (overrides namesrvAddr)" },
    port: { type: "string", alias: "p", description: "listen port (config key listenPort, default 10911)" },
    store: { type: "string", description: "store root directory (config key storePathRootDir)" },
  },
  async run({ args }) {
    const loaded = await exitOnConfigError(log, () => {
      requireOptionValues(args);
      return loadBrokerConfig(args.config, { namesrvAddr: args.namesrvAddr, listenPort: args.port, storePathRootDir: args.store });
    });
    for (const warning of loaded.warnings) log.warn(warning);
    const broker = new BrokerController(loaded.config, { configFilePath: args.config });
    await runUntilSignal(log, broker, {
      startFailure: "broker failed to start",
      afterFailedStart: () => broker.shutdown(),
      ready: () => console.log(`broker ${loaded.config.brokerName} ready on ${broker.brokerAddr} (store ${loaded.config.storePathRootDir})`),
    });
  },
});
