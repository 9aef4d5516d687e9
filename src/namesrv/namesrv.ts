// The NameServer: a RemotingServer whose processors read and write RouteInfo and KvConfig
// (Java NamesrvController + DefaultRequestProcessor). Request handling follows RocketMQ 4.9.8,
// with one deliberate difference: an unknown request code gets REQUEST_CODE_NOT_SUPPORTED (the
// RemotingServer's default) where the Java namesrv stays silent and lets the caller time out.

import { decodeFastjson, encodeFastjson, type FastjsonMode } from "../common/fastjson.ts";
import { ConfigError } from "../config/java-types.ts";
import { formatProperties } from "../config/properties.ts";
import { NAMESRV_RUNTIME_KEYS, parseNamesrvConfig, type NamesrvConfig } from "../config/namesrv-config.ts";
import { readConfigUpdate } from "../config/runtime-update.ts";
import { writeFileAtomic } from "../common/atomic-file.ts";
import { createLogger } from "../log.ts";
import { RequestCode, ResponseCode } from "../remoting/codes.ts";
import { RemotingCommand } from "../remoting/command.ts";
import type { Connection } from "../remoting/connection.ts";
import { RemotingServer } from "../remoting/server.ts";
import { KvConfig, KvEntryError, NAMESPACE_ORDER_TOPIC_CONFIG } from "./kv-config.ts";
import { decodeRegisterBrokerBody, RegisterBodyError, toDataVersion } from "./register-body.ts";
import { RouteInfo } from "./route-info.ts";
import { guardedTask } from "../common/guarded-task.ts";

const log = createLogger("namesrv");

/** A broker silent this long is dropped (Java BROKER_CHANNEL_EXPIRED_TIME). */
export const BROKER_EXPIRY_MS = 120_000;
/** How often liveness is checked (Java scans every 10 s). */
export const BROKER_SCAN_INTERVAL_MS = 10_000;
/** Client `version` from which route data is sent as standard JSON (MQVersion V4_9_4). */
const STANDARD_JSON_MIN_VERSION = 401;
/** Java's hint appended to TOPIC_NOT_EXIST remarks (FAQUrl.suggestTodo(APPLY_TOPIC_URL)). */
const APPLY_TOPIC_FAQ = "\nSee http://rocketmq.apache.org/docs/faq/ for further details.";

export interface NameServerOptions {
  config: NamesrvConfig;
  /** Interface to bind; all by default. */
  host?: string;
  brokerExpiryMs?: number;
  scanIntervalMs?: number;
}

/** A required header field is missing or malformed; answered as SYSTEM_ERROR like Java's header decoder. */
class HeaderError extends Error {}

function requireField(request: RemotingCommand, name: string): string {
  const value = request.extFields[name];
  if (value === undefined) throw new HeaderError(`the custom field <${name}> is null`);
  return value;
}

function requireLong(request: RemotingCommand, name: string): number {
  const text = requireField(request, name);
  const n = Number(text);
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(n)) throw new HeaderError(`the custom field <${name}> = "${text}" is not a long`);
  return n;
}

function ok(request: RemotingCommand, extFields: Record<string, string> = {}, body?: Uint8Array): RemotingCommand {
  const response = RemotingCommand.responseTo(request, ResponseCode.SUCCESS, undefined, extFields);
  response.body = body;
  return response;
}

export class NameServer {
  readonly routes = new RouteInfo<Connection>();
  readonly kv: KvConfig;
  private readonly server: RemotingServer;
  private readonly brokerExpiryMs: number;
  private readonly scanIntervalMs: number;
  private scanTimer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly opts: NameServerOptions) {
    this.kv = new KvConfig(opts.config.kvConfigPath);
    this.brokerExpiryMs = opts.brokerExpiryMs ?? BROKER_EXPIRY_MS;
    this.scanIntervalMs = opts.scanIntervalMs ?? BROKER_SCAN_INTERVAL_MS;
    this.server = new RemotingServer({
      port: opts.config.listenPort,
      host: opts.host,
      name: "namesrv",
      idleTimeoutMs: opts.config.serverChannelMaxIdleTimeSeconds * 1000,
    });
    this.registerProcessors();
    this.server.onConnectionClose((conn) => {
      const removed = this.routes.onChannelDestroy(conn, conn.remoteAddress);
      if (removed !== undefined) log.info(`broker ${removed} removed: its connection closed`);
    });
  }

  /** The bound port (the ephemeral one when configured with 0). */
  get port(): number {
    return this.server.port;
  }

  async start(): Promise<void> {
    await this.kv.load();
    await this.server.start();
    this.scanTimer = setInterval(guardedTask("namesrv broker scan", () => this.scanNotActiveBrokers()), this.scanIntervalMs);
    log.info(`listening on ${this.server.host}:${this.server.port}`);
  }

  /** Stops accepting, closes connections and writes the KV table. */
  async shutdown(): Promise<void> {
    if (this.scanTimer !== undefined) clearInterval(this.scanTimer);
    this.scanTimer = undefined;
    await this.server.stop();
    await this.kv.persist();
  }

  private scanNotActiveBrokers(): void {
    for (const expired of this.routes.scanNotActiveBrokers(Date.now(), this.brokerExpiryMs)) {
      log.warn(`broker ${expired.brokerAddr} expired: no registration for ${this.brokerExpiryMs} ms`);
      expired.channel.close();
    }
  }

  private handle(code: number, fn: (request: RemotingCommand, conn: Connection) => RemotingCommand | Promise<RemotingCommand>): void {
    this.server.registerProcessor(code, async (request, conn) => {
      try {
        return await fn(request, conn);
      } catch (err) {
        if (err instanceof HeaderError || err instanceof RegisterBodyError || err instanceof KvEntryError) {
          return RemotingCommand.responseTo(request, ResponseCode.SYSTEM_ERROR, err.message);
        }
        throw err;
      }
    });
  }

  private registerProcessors(): void {
    this.handle(RequestCode.PUT_KV_CONFIG, async (req) => {
      await this.kv.put(requireField(req, "namespace"), requireField(req, "key"), requireField(req, "value"));
      return ok(req);
    });
    this.handle(RequestCode.GET_KV_CONFIG, (req) => {
      const namespace = requireField(req, "namespace");
      const key = requireField(req, "key");
      const value = this.kv.get(namespace, key);
      if (value === undefined) {
        return RemotingCommand.responseTo(req, ResponseCode.QUERY_NOT_FOUND, `No config item, Namespace: ${namespace} Key: ${key}`);
      }
      return ok(req, { value });
    });
    this.handle(RequestCode.DELETE_KV_CONFIG, async (req) => {
      await this.kv.delete(requireField(req, "namespace"), requireField(req, "key"));
      return ok(req);
    });
    this.handle(RequestCode.GET_KVLIST_BY_NAMESPACE, (req) => {
      const namespace = requireField(req, "namespace");
      const table = this.kv.list(namespace);
      if (!table) return RemotingCommand.responseTo(req, ResponseCode.QUERY_NOT_FOUND, `No config item, Namespace: ${namespace}`);
      return ok(req, {}, encodeFastjson({ table }));
    });
    this.handle(RequestCode.REGISTER_BROKER, (req, conn) => this.registerBroker(req, conn));
    this.handle(RequestCode.UNREGISTER_BROKER, (req) => {
      const brokerAddr = requireField(req, "brokerAddr");
      this.routes.unregisterBroker(requireField(req, "clusterName"), brokerAddr, requireField(req, "brokerName"), requireLong(req, "brokerId"));
      log.info(`broker ${brokerAddr} unregistered`);
      return ok(req);
    });
    this.handle(RequestCode.QUERY_DATA_VERSION, (req) => {
      const brokerAddr = requireField(req, "brokerAddr");
      let dataVersion;
      try {
        dataVersion = toDataVersion(req.body ? decodeFastjson(req.body) : {});
      } catch (err) {
        throw new HeaderError(`QUERY_DATA_VERSION body is not a DataVersion: ${(err as Error).message}`);
      }
      const changed = this.routes.isBrokerTopicConfigChanged(brokerAddr, dataVersion);
      if (!changed) this.routes.touchBroker(brokerAddr, Date.now());
      const stored = this.routes.queryBrokerDataVersion(brokerAddr);
      return ok(req, { changed: String(changed) }, stored ? encodeFastjson(stored) : undefined);
    });
    this.handle(RequestCode.GET_ROUTEINFO_BY_TOPIC, (req) => this.routeInfoByTopic(req));
    this.handle(RequestCode.GET_BROKER_CLUSTER_INFO, (req) => ok(req, {}, encodeFastjson(this.routes.clusterInfo())));
    this.handle(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER, (req) => ok(req, {}, encodeFastjson({ topicList: this.routes.allTopics() })));
    this.handle(RequestCode.GET_TOPICS_BY_CLUSTER, (req) =>
      ok(req, {}, encodeFastjson({ topicList: this.routes.topicsByCluster(requireField(req, "cluster")) })),
    );
    this.handle(RequestCode.GET_SYSTEM_TOPIC_LIST_FROM_NS, (req) => ok(req, {}, encodeFastjson(this.routes.systemTopicList())));
    this.handle(RequestCode.GET_UNIT_TOPIC_LIST, (req) => ok(req, {}, encodeFastjson({ topicList: this.routes.topicsWithSysFlag("unit") })));
    this.handle(RequestCode.GET_HAS_UNIT_SUB_TOPIC_LIST, (req) => ok(req, {}, encodeFastjson({ topicList: this.routes.topicsWithSysFlag("unitSub") })));
    this.handle(RequestCode.GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST, (req) =>
      ok(req, {}, encodeFastjson({ topicList: this.routes.topicsWithSysFlag("unitSubNotUnit") })),
    );
    this.handle(RequestCode.DELETE_TOPIC_IN_NAMESRV, (req) => {
      this.routes.deleteTopic(requireField(req, "topic"), req.extFields.clusterName);
      return ok(req);
    });
    this.handle(RequestCode.WIPE_WRITE_PERM_OF_BROKER, (req) => {
      const count = this.routes.setWritePermOfBroker(requireField(req, "brokerName"), "wipe");
      return ok(req, { wipeTopicCount: String(count) });
    });
    this.handle(RequestCode.ADD_WRITE_PERM_OF_BROKER, (req) => {
      const count = this.routes.setWritePermOfBroker(requireField(req, "brokerName"), "add");
      return ok(req, { addTopicCount: String(count) });
    });
    this.handle(RequestCode.UPDATE_NAMESRV_CONFIG, (req, conn) => this.updateConfig(req, conn));
    this.handle(RequestCode.GET_NAMESRV_CONFIG, (req) =>
      ok(req, {}, new TextEncoder().encode(formatProperties(Object.entries(this.opts.config)))),
    );
  }

  /**
   * UPDATE_NAMESRV_CONFIG (Java Configuration.update): allow-listed keys only
   * (config/runtime-update.ts), values checked by the config schema, then the whole config written
   * atomically to configStorePath.
   */
  private async updateConfig(req: RemotingCommand, conn: Connection): Promise<RemotingCommand> {
    if (!req.body || req.body.length === 0) return ok(req);
    const read = readConfigUpdate(req.body, NAMESRV_RUNTIME_KEYS);
    if (!read.ok) return RemotingCommand.responseTo(req, read.refusal === "not-allowed" ? ResponseCode.NO_PERMISSION : ResponseCode.SYSTEM_ERROR, read.remark);
    const current = new Map(Object.entries(this.opts.config).map(([k, v]) => [k, String(v)]));
    let updated;
    try {
      updated = parseNamesrvConfig(new Map([...current, ...read.updates]));
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      return RemotingCommand.responseTo(req, ResponseCode.SYSTEM_ERROR, err.message);
    }
    for (const warning of updated.warnings) log.warn(warning);
    const config = this.opts.config as Record<string, unknown>;
    for (const key of read.updates.keys()) config[key] = (updated.config as Record<string, unknown>)[key];
    await writeFileAtomic(this.opts.config.configStorePath, formatProperties(Object.entries(this.opts.config)));
    log.info(`config updated by ${conn.remoteAddress}: ${[...read.updates].map(([k, v]) => `${k}=${v}`).join(", ")}`);
    return ok(req);
  }

  private registerBroker(req: RemotingCommand, conn: Connection): RemotingCommand {
    const clusterName = requireField(req, "clusterName");
    const brokerAddr = requireField(req, "brokerAddr");
    const brokerName = requireField(req, "brokerName");
    const brokerId = requireLong(req, "brokerId");
    const haServerAddr = req.extFields.haServerAddr ?? "";
    const crcText = req.extFields.bodyCrc32;
    if (crcText !== undefined && crcText !== "0") {
      const expected = Number(crcText);
      if (crc32Masked(req.body ?? new Uint8Array(0)) !== expected) return RemotingCommand.responseTo(req, ResponseCode.SYSTEM_ERROR, "crc32 not match");
    }
    const compressed = (req.extFields.compressed ?? "").toLowerCase() === "true";
    const body = decodeRegisterBrokerBody(req.body, compressed);
    const isNew = this.routes.queryBrokerDataVersion(brokerAddr) === undefined;
    const result = this.routes.registerBroker(
      {
        clusterName,
        brokerAddr,
        brokerName,
        brokerId,
        haServerAddr,
        dataVersion: body.dataVersion,
        topicConfigs: body.topicConfigs,
        filterServerList: body.filterServerList,
        channel: conn,
      },
      Date.now(),
    );
    if (isNew) log.info(`broker registered: ${clusterName}/${brokerName} id ${brokerId} at ${brokerAddr}, ${body.topicConfigs.length} topics`);
    const extFields: Record<string, string> = {};
    if (result.masterAddr !== undefined) extFields.masterAddr = result.masterAddr;
    if (result.haServerAddr !== undefined) extFields.haServerAddr = result.haServerAddr;
    const orderTopics = this.kv.list(NAMESPACE_ORDER_TOPIC_CONFIG);
    return ok(req, extFields, orderTopics ? encodeFastjson({ table: orderTopics }) : undefined);
  }

  private routeInfoByTopic(req: RemotingCommand): RemotingCommand {
    const topic = requireField(req, "topic");
    const route = this.routes.pickupTopicRouteData(topic);
    if (!route) {
      return RemotingCommand.responseTo(req, ResponseCode.TOPIC_NOT_EXIST, `No topic route info in name server for the topic: ${topic}${APPLY_TOPIC_FAQ}`);
    }
    if (this.opts.config.orderMessageEnable) route.orderTopicConf = this.kv.get(NAMESPACE_ORDER_TOPIC_CONFIG, topic);
    // Java: standard JSON for clients from 4.9.4 on (or when asked), fastjson default mode (bare numeric keys) before.
    const standard = req.version >= STANDARD_JSON_MIN_VERSION || (req.extFields.acceptStandardJsonOnly ?? "").toLowerCase() === "true";
    const mode: FastjsonMode = standard ? "standard" : "default";
    return ok(req, {}, encodeFastjson(route, mode));
  }
}

/** CRC32 of `bytes` masked with 0x7FFFFFFF, as Java UtilAll.crc32 (protocol doc §8.8). */
export function crc32Masked(bytes: Uint8Array): number {
  return Bun.hash.crc32(bytes) & 0x7fffffff;
}
