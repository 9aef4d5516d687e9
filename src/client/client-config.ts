// Options shared by every client (Java ClientConfig), with the Java defaults.

import { MQClientError } from "./errors.ts";
import { localIPv4Address } from "../config/host.ts";

/** Route refresh period (Java pollNameServerInterval). */
export const POLL_NAMESRV_INTERVAL_MS = 30_000;
/** Heartbeat period (Java heartbeatBrokerInterval). */
export const HEARTBEAT_BROKER_INTERVAL_MS = 30_000;
/** Offset persist period (Java persistConsumerOffsetInterval). */
export const PERSIST_CONSUMER_OFFSET_INTERVAL_MS = 5_000;
/** Rebalance period (Java rocketmq.client.rebalance.waitInterval). */
export const REBALANCE_INTERVAL_MS = 20_000;
/** Route, heartbeat, consumer-list and admin call timeout (Java mqClientApiTimeout). */
export const CLIENT_API_TIMEOUT_MS = 3_000;

export interface ClientConfig {
  /** NameServer addresses, "host:port;host:port" or a list. Falls back to env NAMESRV_ADDR. */
  namesrvAddr?: string | string[];
  /** Local IP used in the client id; default: first non-internal IPv4. */
  clientIP?: string;
  /** Second half of the client id; default: the process id (ali-ons style `ip@pid`). */
  instanceName?: string;
  unitName?: string;
  pollNameServerIntervalMs?: number;
  heartbeatBrokerIntervalMs?: number;
  persistConsumerOffsetIntervalMs?: number;
  requestTimeoutMs?: number;
  /** Rebalance period (Java rocketmq.client.rebalance.waitInterval, 20 s). */
  rebalanceIntervalMs?: number;
  /** Where warnings go; default stderr. */
  logger?: ClientLogger;
  /** Request header serialization (Java rocketmq.serialize.type); default env ROCKETMQ_SERIALIZE_TYPE, else JSON. */
  serializeType?: "JSON" | "ROCKETMQ";
}

export interface ClientLogger {
  warn(message: string): void;
  info(message: string): void;
}

export const stderrLogger: ClientLogger = {
  warn: (m) => process.stderr.write(`[tsmq-client] WARN ${m}\n`),
  info: () => {},
};

export interface ResolvedClientConfig {
  namesrvAddrs: string[];
  clientIP: string;
  instanceName: string;
  unitName: string | undefined;
  pollNameServerIntervalMs: number;
  heartbeatBrokerIntervalMs: number;
  persistConsumerOffsetIntervalMs: number;
  requestTimeoutMs: number;
  rebalanceIntervalMs: number;
  logger: ClientLogger;
  serializeType: "JSON" | "ROCKETMQ";
}

export function parseNamesrvAddr(value: string | string[] | undefined): string[] {
  const list = Array.isArray(value) ? value : (value ?? "").split(/[;,]/);
  return list.map((a) => a.trim()).filter((a) => a.length > 0);
}

export function resolveClientConfig(cfg: ClientConfig): ResolvedClientConfig {
  const namesrvAddrs = parseNamesrvAddr(cfg.namesrvAddr ?? process.env.NAMESRV_ADDR);
  return {
    namesrvAddrs,
    clientIP: cfg.clientIP ?? localIPv4Address(),
    instanceName: cfg.instanceName ?? String(process.pid),
    unitName: cfg.unitName,
    pollNameServerIntervalMs: cfg.pollNameServerIntervalMs ?? POLL_NAMESRV_INTERVAL_MS,
    heartbeatBrokerIntervalMs: cfg.heartbeatBrokerIntervalMs ?? HEARTBEAT_BROKER_INTERVAL_MS,
    persistConsumerOffsetIntervalMs: cfg.persistConsumerOffsetIntervalMs ?? PERSIST_CONSUMER_OFFSET_INTERVAL_MS,
    requestTimeoutMs: cfg.requestTimeoutMs ?? CLIENT_API_TIMEOUT_MS,
    rebalanceIntervalMs: cfg.rebalanceIntervalMs ?? REBALANCE_INTERVAL_MS,
    logger: cfg.logger ?? stderrLogger,
    serializeType: resolveSerializeType(cfg.serializeType ?? process.env.ROCKETMQ_SERIALIZE_TYPE),
  };
}

function resolveSerializeType(value: string | undefined): "JSON" | "ROCKETMQ" {
  if (value === undefined || value === "" || value === "JSON") return "JSON";
  if (value === "ROCKETMQ") return "ROCKETMQ";
  throw new MQClientError(`serializeType must be JSON or ROCKETMQ, got ${value}`);
}

/** Java buildMQClientId: ip@instanceName[@unitName]. */
export function buildClientId(cfg: ResolvedClientConfig): string {
  return cfg.unitName ? `${cfg.clientIP}@${cfg.instanceName}@${cfg.unitName}` : `${cfg.clientIP}@${cfg.instanceName}`;
}
