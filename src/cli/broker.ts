// `tsmq broker -c broker.conf [-n namesrvAddr] [-p port]`: runs a broker until SIGINT/SIGTERM.

import { defineCommand } from "citty";
import { BrokerController } from "../broker/broker.ts";
import { loadBrokerConfig } from "../config/broker-config.ts";
import { ConfigError } from "../config/java-types.ts";
import { createLogger } from "../log.ts";

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
    let loaded;
    try {
      loaded = await loadBrokerConfig(args.config, { namesrvAddr: args.namesrvAddr, listenPort: args.port, storePathRootDir: args.store });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      log.error(err.message);
      process.exit(1);
    }
    for (const warning of loaded.warnings) log.warn(warning);
    const broker = new BrokerController(loaded.config, { configFilePath: args.config });
    await runUntilSignal(broker, () => console.log(`broker ${loaded.config.brokerName} ready on ${broker.brokerAddr} (store ${loaded.config.storePathRootDir})`));
  },
});

/** Starts the broker, prints the ready line, and shuts down cleanly on SIGINT/SIGTERM (exit 0). */
export async function runUntilSignal(broker: BrokerController, ready: () => void, beforeExit: () => Promise<void> = async () => {}): Promise<void> {
  // Handlers go in before anything starts: a signal right after the ready line must not kill the
  // process with the default action (no unregister, abort file left behind).
  let starting: Promise<void> = Promise.resolve();
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal} received, shutting down`);
    try {
      await starting.catch(() => {});
      await broker.shutdown();
      await beforeExit();
      process.exit(0);
    } catch (err) {
      log.error("shutdown failed", err);
      process.exit(1);
    }
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  starting = broker.start();
  try {
    await starting;
  } catch (err) {
    log.error("broker failed to start", err);
    await broker.shutdown().catch(() => {});
    await beforeExit().catch(() => {});
    process.exit(1);
  }
  if (!stopping) ready();
}
