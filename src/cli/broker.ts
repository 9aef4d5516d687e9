// `tsmq broker -c broker.conf [-n namesrvAddr] [-p port] [--bind address]`: runs a broker until SIGINT/SIGTERM.

import { defineCommand } from "citty";
import { BrokerController } from "../broker/broker.ts";
import { loadBrokerConfig } from "../config/broker-config.ts";
import { createLogger } from "../log.ts";
import { ALL_INTERFACES, bindAddress, exitOnConfigError, requireOptionValues, runUntilSignal } from "./run-until-signal.ts";

const log = createLogger("broker");

export default defineCommand({
  meta: { name: "broker", description: "Run a broker (message store, send/pull, consumer groups)" },
  args: {
    config: { type: "string", alias: "c", description: "broker properties file (RocketMQ broker.conf keys)" },
    namesrvAddr: { type: "string", alias: "n", description: "NameServer addresses, host:port;host:port (overrides namesrvAddr)" },
    port: { type: "string", alias: "p", description: "listen port (config key listenPort, default 10911)" },
    store: { type: "string", description: "store root directory (config key storePathRootDir)" },
    bind: { type: "string", description: `address the main, VIP and HA ports listen on (default ${ALL_INTERFACES}, all interfaces, like Java)` },
  },
  async run({ args }) {
    const { loaded, host } = await exitOnConfigError(log, async () => {
      requireOptionValues(args);
      const host = bindAddress(args.bind, ALL_INTERFACES);
      return { host, loaded: await loadBrokerConfig(args.config, { namesrvAddr: args.namesrvAddr, listenPort: args.port, storePathRootDir: args.store }) };
    });
    for (const warning of loaded.warnings) log.warn(warning);
    const broker = new BrokerController(loaded.config, { configFilePath: args.config, host });
    await runUntilSignal(log, broker, {
      startFailure: "broker failed to start",
      afterFailedStart: () => broker.shutdown(),
      ready: () => console.log(`broker ${loaded.config.brokerName} ready on ${broker.brokerAddr}, listening on ${host}:${broker.port} (store ${loaded.config.storePathRootDir})`),
    });
  },
});
