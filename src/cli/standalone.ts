// `tsmq standalone [--store DIR] [-p namesrvPort] [--broker-port P] [--bind address]`: a NameServer
// and a broker in one process on embedded defaults, ready for clients in one command. It listens on
// loopback unless --bind says otherwise: a trial store must not be open to the network by default.

import path from "node:path";
import { defineCommand } from "citty";
import { BrokerController } from "../broker/broker.ts";
import { parseBrokerConfig } from "../config/broker-config.ts";
import { readPropertiesFile } from "../config/java-types.ts";
import { loadNamesrvConfig } from "../config/namesrv-config.ts";
import { BROKER_DEFAULT_PORT, NAMESRV_DEFAULT_PORT } from "../common/limits.ts";
import { createLogger } from "../log.ts";
import { NameServer } from "../namesrv/namesrv.ts";
import { bindAddress, exitOnConfigError, LOOPBACK, requireOptionValues, runUntilSignal } from "./run-until-signal.ts";

const log = createLogger("standalone");

/** Store directory when --store is not given, relative to the working directory. */
const DEFAULT_STORE_DIR = "./tsmq-data";
/** Commit-log segments of a standalone store: 64 MiB instead of 1 GiB, so a laptop trial stays small. */
const STANDALONE_COMMITLOG_FILE_SIZE_BYTES = 64 * 1024 * 1024;
/** Consume-queue segments: 30 000 entries of 20 bytes. */
const STANDALONE_CONSUMEQUEUE_FILE_SIZE_BYTES = 30_000 * 20;

export default defineCommand({
  meta: { name: "standalone", description: "Run a NameServer and a broker in one process (auto-create topics on)" },
  args: {
    store: { type: "string", description: `store root directory (default ${DEFAULT_STORE_DIR})` },
    port: { type: "string", alias: "p", description: `NameServer port (default ${NAMESRV_DEFAULT_PORT})` },
    "broker-port": { type: "string", description: `broker port (default ${BROKER_DEFAULT_PORT})` },
    config: { type: "string", alias: "c", description: "optional broker properties file; its keys replace the standalone defaults, the flags above win" },
    bind: { type: "string", description: `address the namesrv and broker listen on (default ${LOOPBACK}; for remote clients also set brokerIP1 in -c)` },
  },
  async run({ args }) {
    const namesrvPort = args.port ?? String(NAMESRV_DEFAULT_PORT);
    const { storeDir, namesrvConfig, brokerConfig, host } = await exitOnConfigError(log, async () => {
      requireOptionValues(args);
      const host = bindAddress(args.bind, LOOPBACK);
      const props = args.config === undefined ? new Map<string, string>() : await readPropertiesFile(args.config);
      const storeDir = path.resolve(args.store ?? props.get("storePathRootDir") ?? DEFAULT_STORE_DIR);
      const namesrvConfig = (await loadNamesrvConfig(undefined, { listenPort: namesrvPort, kvConfigPath: path.join(storeDir, "namesrv", "kvConfig.json") })).config;
      // Standalone defaults fill what the file leaves unset; the command-line flags always win.
      const defaults: Record<string, string | number | boolean> = {
        listenPort: BROKER_DEFAULT_PORT,
        brokerName: "broker-a",
        brokerIP1: "127.0.0.1",
        autoCreateTopicEnable: true,
        mappedFileSizeCommitLog: STANDALONE_COMMITLOG_FILE_SIZE_BYTES,
        mappedFileSizeConsumeQueue: STANDALONE_CONSUMEQUEUE_FILE_SIZE_BYTES,
      };
      const overrides: Record<string, string | number | boolean | undefined> = {};
      for (const [key, value] of Object.entries(defaults)) if (!props.has(key)) overrides[key] = value;
      Object.assign(overrides, {
        listenPort: args["broker-port"] ?? overrides.listenPort,
        // storePathCommitLog, when the file leaves it unset, follows storePathRootDir (parseBrokerConfig).
        storePathRootDir: storeDir,
        namesrvAddr: `127.0.0.1:${namesrvPort}`,
      });
      const loaded = parseBrokerConfig(props, overrides);
      for (const warning of loaded.warnings) log.warn(warning);
      return { storeDir, namesrvConfig, brokerConfig: loaded.config, host };
    });
    const namesrv = new NameServer({ config: namesrvConfig, host });
    try {
      await namesrv.start();
    } catch (err) {
      log.error(`NameServer cannot start on port ${namesrvConfig.listenPort}`, err);
      process.exit(1);
    }
    // The broker registers with the namesrv started above; with port 0 that is its bound port.
    brokerConfig.namesrvAddr = `127.0.0.1:${namesrv.port}`;
    const broker = new BrokerController(brokerConfig, { configFilePath: args.config, host });
    await runUntilSignal(log, broker, {
      startFailure: "broker failed to start",
      afterFailedStart: () => broker.shutdown(),
      beforeExit: () => namesrv.shutdown(),
      ready: () => console.log(`tsmq standalone ready: namesrv 127.0.0.1:${namesrv.port}, broker ${brokerConfig.brokerName} on ${broker.brokerAddr}, listening on ${host}, store ${storeDir}`),
    });
  },
});
