import { expect, test } from "bun:test";
import os from "node:os";
import path from "node:path";
import { parseNamesrvConfig } from "../../src/config/namesrv-config.ts";
import { parseProperties } from "../../src/config/properties.ts";

test("namesrv defaults", () => {
  const { config } = parseNamesrvConfig(new Map());
  expect(config.listenPort).toBe(9876);
  expect(config.kvConfigPath).toBe(path.join(os.homedir(), "namesrv", "kvConfig.json"));
  expect(config.orderMessageEnable).toBe(false);
  expect(config.productEnvName).toBe("center");
});

test("namesrv file values, CLI overrides, unknown keys and bad values", () => {
  const props = parseProperties("listenPort=9000\norderMessageEnable=true\nbogus=1");
  const { config, warnings } = parseNamesrvConfig(props, { listenPort: "9100", kvConfigPath: undefined });
  expect(config.listenPort).toBe(9100);
  expect(config.orderMessageEnable).toBe(true);
  expect(warnings).toEqual(['unknown namesrv config key "bogus" ignored']);
  expect(() => parseNamesrvConfig(parseProperties("listenPort=x"))).toThrow('namesrv config key "listenPort" = "x": expected an int');
});

test("the keys GET_NAMESRV_CONFIG lists are a Java NameServer's (NamesrvConfig + NettyServerConfig)", () => {
  // mqadmin getNamesrvConfig against Apache 4.9.7 printed exactly these 20 keys; tsmq listed only
  // 10 of them (the Netty socket and semaphore settings were missing).
  const { config } = parseNamesrvConfig(new Map());
  expect(Object.keys(config).sort()).toEqual([
    "clusterTest", "configStorePath", "kvConfigPath", "listenPort", "orderMessageEnable", "productEnvName", "rocketmqHome",
    "serverAsyncSemaphoreValue", "serverCallbackExecutorThreads", "serverChannelMaxIdleTimeSeconds", "serverOnewaySemaphoreValue",
    "serverPooledByteBufAllocatorEnable", "serverSelectorThreads", "serverSocketBacklog", "serverSocketRcvBufSize",
    "serverSocketSndBufSize", "serverWorkerThreads", "useEpollNativeSelector", "writeBufferHighWaterMark", "writeBufferLowWaterMark",
  ]);
  expect([config.serverSocketBacklog, config.serverOnewaySemaphoreValue, config.serverAsyncSemaphoreValue]).toEqual([1024, 256, 64]);
});
