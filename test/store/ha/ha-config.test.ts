import { expect, test } from "bun:test";
import { parseBrokerConfig } from "../../../src/config/broker-config.ts";
import { validateHAConfig } from "../../../src/store/ha/ha-service.ts";
import { DEFAULT_HA_CONFIG, type HAConfig } from "../../../src/store/ha/ha-types.ts";

test("BrokerConfig is an HAConfig with RocketMQ's HA defaults", () => {
  const broker = parseBrokerConfig(new Map([["listenPort", "20911"]])).config;
  const ha: HAConfig = broker; // structural: the broker passes its config straight through
  expect(ha.haListenPort).toBe(20912); // listenPort + 1
  expect(ha.haMasterAddress).toBe("");
  const { haListenPort: _port, haMasterAddress: _addr, ...rest } = DEFAULT_HA_CONFIG;
  for (const [key, value] of Object.entries(rest)) expect([key, ha[key as keyof HAConfig]]).toEqual([key, value]);
});

test("unusable HA values are refused with the key's name", () => {
  expect(() => validateHAConfig({ ...DEFAULT_HA_CONFIG, haTransferBatchSize: 0 })).toThrow("haTransferBatchSize");
  expect(() => validateHAConfig({ ...DEFAULT_HA_CONFIG, haTransferBatchSize: 8 * 1024 * 1024 })).toThrow("haTransferBatchSize");
  expect(() => validateHAConfig({ ...DEFAULT_HA_CONFIG, slaveTimeout: -1 })).toThrow("slaveTimeout");
  expect(() => validateHAConfig({ ...DEFAULT_HA_CONFIG, haListenPort: 70000 })).toThrow("haListenPort");
  expect(() => validateHAConfig(DEFAULT_HA_CONFIG)).not.toThrow();
});
