import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadBrokerConfig, parseBrokerConfig } from "../../src/config/broker-config.ts";
import { ConfigError } from "../../src/config/java-types.ts";
import { parseProperties } from "../../src/config/properties.ts";

describe("broker config", () => {
  test("defaults are RocketMQ 4.9's", () => {
    const { config, warnings } = parseBrokerConfig(new Map());
    expect(warnings).toEqual([]);
    expect(config.brokerClusterName).toBe("DefaultCluster");
    expect(config.brokerId).toBe(0);
    expect(config.listenPort).toBe(10911);
    expect(config.haListenPort).toBe(10912);
    expect(config.storePathRootDir).toBe(path.join(os.homedir(), "store"));
    expect(config.storePathCommitLog).toBe(path.join(os.homedir(), "store", "commitlog"));
    expect(config.mappedFileSizeCommitLog).toBe(1_073_741_824);
    expect(config.mappedFileSizeConsumeQueue).toBe(6_000_000);
    expect(config.flushDiskType).toBe("ASYNC_FLUSH");
    expect(config.brokerRole).toBe("ASYNC_MASTER");
    expect(config.deleteWhen).toBe("04");
    expect(config.fileReservedTime).toBe(72);
    expect(config.autoCreateTopicEnable).toBe(true);
    expect(config.autoCreateSubscriptionGroup).toBe(true);
    expect(config.defaultTopicQueueNums).toBe(8);
    expect(config.maxMessageSize).toBe(4_194_304);
    expect(config.messageDelayLevel).toBe("1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h");
    expect(config.syncFlushTimeout).toBe(5000);
    expect(config.flushIntervalCommitLog).toBe(500);
    expect(config.transactionTimeOut).toBe(6000);
    expect(config.transactionCheckMax).toBe(15);
    expect(config.transactionCheckInterval).toBe(60_000);
    expect(config.haSlaveFallbehindMax).toBe(268_435_456);
    expect(config.diskMaxUsedSpaceRatio).toBe(75);
    expect(config.brokerIP2).toBe(config.brokerIP1);
  });

  test("the shipped broker.conf parses; derived paths and ports follow", () => {
    const props = parseProperties(
      "brokerClusterName = DefaultCluster\nbrokerName = broker-a\nbrokerId = 0\ndeleteWhen = 04\n" +
        "fileReservedTime = 48\nbrokerRole = ASYNC_MASTER\nflushDiskType = ASYNC_FLUSH\n" +
        "listenPort=20911\nstorePathRootDir=/data/store\n",
    );
    const { config } = parseBrokerConfig(props);
    expect(config.brokerName).toBe("broker-a");
    expect(config.fileReservedTime).toBe(48);
    expect(config.haListenPort).toBe(20912);
    expect(config.storePathCommitLog).toBe("/data/store/commitlog");
  });

  test("overrides win over the file; a slave keeps its brokerId, a master gets 0", () => {
    const props = parseProperties("brokerId=1\nbrokerRole=SLAVE\nnamesrvAddr=a:1");
    expect(parseBrokerConfig(props, { namesrvAddr: "127.0.0.1:9876" }).config).toMatchObject({ brokerId: 1, namesrvAddr: "127.0.0.1:9876" });
    expect(parseBrokerConfig(parseProperties("brokerId=3")).config.brokerId).toBe(0);
  });

  test("an unknown key is a warning naming it", () => {
    const { warnings } = parseBrokerConfig(parseProperties("brokerName=b\nnoSuchKey=1"));
    expect(warnings).toEqual(['unknown broker config key "noSuchKey" ignored']);
  });

  test("a bad value is an error naming the key and the expected type", () => {
    expect(() => parseBrokerConfig(parseProperties("listenPort=abc"))).toThrow(ConfigError);
    expect(() => parseBrokerConfig(parseProperties("listenPort=abc"))).toThrow('"listenPort" = "abc": expected an int');
    expect(() => parseBrokerConfig(parseProperties("listenPort=99999999999"))).toThrow("expected an int");
    expect(() => parseBrokerConfig(parseProperties("autoCreateTopicEnable=yes"))).toThrow('"autoCreateTopicEnable" = "yes": expected a boolean');
    expect(() => parseBrokerConfig(parseProperties("flushDiskType=SOMETIMES"))).toThrow("expected one of ASYNC_FLUSH, SYNC_FLUSH");
    expect(() => parseBrokerConfig(parseProperties("syncFlushTimeout=1.5"))).toThrow("expected a long");
  });

  test("booleans are case-insensitive true/false; longs keep their value", () => {
    const { config } = parseBrokerConfig(parseProperties("traceOn=FALSE\nstartAcceptSendRequestTimeStamp=1700000000000"));
    expect(config.traceOn).toBe(false);
    expect(config.startAcceptSendRequestTimeStamp).toBe(1_700_000_000_000);
  });

  test("loadBrokerConfig reads a file and names a missing one", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsmq-config-"));
    try {
      const file = path.join(dir, "broker.conf");
      fs.writeFileSync(file, "brokerName=from-file\n");
      expect((await loadBrokerConfig(file)).config.brokerName).toBe("from-file");
      await expect(loadBrokerConfig(path.join(dir, "missing.conf"))).rejects.toThrow("missing.conf does not exist");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
