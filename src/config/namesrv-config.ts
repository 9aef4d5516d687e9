// NameServer configuration: NamesrvConfig + NettyServerConfig keys of Apache RocketMQ 4.9 with
// their defaults (storage doc §12.10, last paragraph).

import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { NAMESRV_DEFAULT_PORT } from "../common/limits.ts";
import { type Properties } from "./properties.ts";
import {
  buildConfig,
  javaBoolean,
  javaInt,
  javaString,
  readPropertiesFile,
  type ConfigInput,
  type ConfigLoadResult,
} from "./java-types.ts";

function namesrvConfigSchema() {
  return z.object({
    rocketmqHome: javaString(process.env.ROCKETMQ_HOME ?? ""),
    listenPort: javaInt(NAMESRV_DEFAULT_PORT),
    kvConfigPath: javaString(path.join(os.homedir(), "namesrv", "kvConfig.json")),
    configStorePath: javaString(path.join(os.homedir(), "namesrv", "namesrv.properties")),
    productEnvName: javaString("center"),
    clusterTest: javaBoolean(false),
    /** When true, route data carries `orderTopicConf` from KV namespace ORDER_TOPIC_CONFIG. */
    orderMessageEnable: javaBoolean(false),
    serverChannelMaxIdleTimeSeconds: javaInt(120),
    serverWorkerThreads: javaInt(8),
    serverSelectorThreads: javaInt(3),
    // The rest of Java's NettyServerConfig, so GET_NAMESRV_CONFIG lists the keys a Java NameServer
    // lists (mqadmin getNamesrvConfig); Bun's sockets have no such knobs and ignore them.
    serverCallbackExecutorThreads: javaInt(0),
    serverOnewaySemaphoreValue: javaInt(256),
    serverAsyncSemaphoreValue: javaInt(64),
    serverSocketSndBufSize: javaInt(0),
    serverSocketRcvBufSize: javaInt(0),
    writeBufferHighWaterMark: javaInt(0),
    writeBufferLowWaterMark: javaInt(0),
    serverSocketBacklog: javaInt(1024),
    serverPooledByteBufAllocatorEnable: javaBoolean(true),
    useEpollNativeSelector: javaBoolean(false),
  });
}

export type NamesrvConfig = z.infer<ReturnType<typeof namesrvConfigSchema>>;

/**
 * The keys UPDATE_NAMESRV_CONFIG may change on a running namesrv (an allow-list): none names a
 * path, a port or a thread count fixed at start (Java's configBlackList only covers the paths).
 */
export const NAMESRV_RUNTIME_KEYS: ReadonlySet<keyof NamesrvConfig> = new Set<keyof NamesrvConfig>(["productEnvName", "clusterTest", "orderMessageEnable"]);

export function parseNamesrvConfig(props: Properties, overrides: ConfigInput = {}): ConfigLoadResult<NamesrvConfig> {
  return buildConfig(namesrvConfigSchema(), "namesrv", props, overrides);
}

export async function loadNamesrvConfig(configPath: string | undefined, overrides: ConfigInput = {}): Promise<ConfigLoadResult<NamesrvConfig>> {
  const props = configPath === undefined ? new Map<string, string>() : await readPropertiesFile(configPath);
  return parseNamesrvConfig(props, overrides);
}
