// The client instance shared by every producer and consumer of one clientId in a process (Java
// MQClientInstance): NameServer failover, topic route cache, heartbeats, the periodic rebalance and
// offset-persist timers, the requests brokers send to clients (protocol doc 2.3, 3.3.5, 6.2, 6.6)
// and the requests waiting for a pushed reply (request-reply.ts).

import { decodeRecord } from "../common/message-codec.ts";
import { Prop } from "../common/message.ts";
import { RequestCode, ResponseCode } from "../remoting/codes.ts";
import { RemotingCommand, SerializeType } from "../remoting/command.ts";
import { RemotingClient } from "../remoting/client.ts";
import type { Connection } from "../remoting/connection.ts";
import { RemotingError, RemotingTimeoutError } from "../remoting/errors.ts";
import { type ClientConfig, type ResolvedClientConfig, buildClientId, resolveClientConfig } from "./client-config.ts";
import { MQBrokerError, MQClientError, errorText } from "./errors.ts";
import { decodeJsonBody, encodeJsonBody, parseMqKey } from "./json-body.ts";
import { replyMessageFromPush, RequestTable } from "./request-reply.ts";
import { MASTER_ID, type TopicRouteData, routeSignature, toTopicRouteData } from "./route.ts";
import type { SubscriptionData } from "./subscription.ts";

/** Delay of the first route refresh and heartbeat after start, so members can register first. */
const FIRST_TIMER_DELAY_MS = 10;
/** Queues held per route refresh round: bounded by topics in use, asserted against runaway growth. */
const MAX_TOPICS_PER_INSTANCE = 10_000;

export interface ConsumerData {
  consumeFromWhere: string;
  consumeType: "CONSUME_PASSIVELY" | "CONSUME_ACTIVELY";
  groupName: string;
  messageModel: "CLUSTERING" | "BROADCASTING";
  subscriptionDataSet: SubscriptionData[];
  unitMode: boolean;
}

/** A consumer's heartbeat entry from its settings and subscriptions (unit mode is not supported). */
export function consumerDataOf(fields: Omit<ConsumerData, "subscriptionDataSet" | "unitMode">, subscriptions: Map<string, SubscriptionData>): ConsumerData {
  return { ...fields, subscriptionDataSet: [...subscriptions.values()], unitMode: false };
}

/** What the instance needs from a consumer registered with it. */
export interface ConsumerMember {
  readonly group: string;
  consumerData(): ConsumerData;
  /** Topics whose routes the consumer needs. */
  topics(): string[];
  onRouteChanged(topic: string, route: TopicRouteData): void;
  rebalance(): Promise<void>;
  persistOffsets(): Promise<void>;
  resetOffset(topic: string, offsets: Array<{ brokerName: string; queueId: number; offset: number }>): Promise<void>;
  runningInfo(): Record<string, unknown>;
  consumeDirectly(request: RemotingCommand): Promise<Record<string, unknown>>;
}

/** What the instance needs from a producer registered with it. */
export interface ProducerMember {
  readonly group: string;
  topics(): string[];
  onRouteChanged(topic: string, route: TopicRouteData): void;
  /** CHECK_TRANSACTION_STATE from a broker (transaction producers only). */
  checkTransactionState?(brokerAddr: string, request: RemotingCommand): void;
}

const instances = new Map<string, ClientInstance>();

/** The resolved config; throws when it names no NameServer. */
function resolveWithNamesrv(cfg: ClientConfig): ResolvedClientConfig {
  const resolved = resolveClientConfig(cfg);
  if (resolved.namesrvAddrs.length === 0) {
    throw new MQClientError("no NameServer address: set namesrvAddr or the NAMESRV_ADDR environment variable");
  }
  return resolved;
}

export class ClientInstance {
  readonly clientId: string;
  readonly config: ResolvedClientConfig;
  readonly remoting: RemotingClient;
  /** Requests of this instance's producers waiting for their reply, by correlation id. */
  readonly requests = new RequestTable();
  private readonly producers = new Map<string, ProducerMember>();
  private readonly consumers = new Map<string, ConsumerMember>();
  private readonly routes = new Map<string, { route: TopicRouteData; signature: string }>();
  /** brokerName → brokerId → address, from every route seen. */
  private readonly brokerAddrs = new Map<string, Record<string, string>>();
  private namesrvIndex = 0;
  private timers: Array<ReturnType<typeof setInterval>> = [];
  private started = false;
  private closed = false;
  private rebalancing: Promise<void> | undefined;
  private rebalanceAgain = false;

  private constructor(config: ResolvedClientConfig, clientId: string) {
    this.config = config;
    this.clientId = clientId;
    this.remoting = new RemotingClient({
      connectTimeoutMs: config.requestTimeoutMs,
      onRequest: (req, conn) => this.handleBrokerRequest(req, conn),
      serializeType: config.serializeType === "ROCKETMQ" ? SerializeType.ROCKETMQ : undefined,
    });
  }

  /** The instance for this config's clientId, created on first use. */
  static acquire(cfg: ClientConfig): ClientInstance {
    const resolved = resolveWithNamesrv(cfg);
    const clientId = buildClientId(resolved);
    let inst = instances.get(clientId);
    if (!inst || inst.closed) {
      inst = new ClientInstance(resolved, clientId);
      instances.set(clientId, inst);
    }
    return inst;
  }

  /** An instance outside the shared registry, for short-lived tools (admin); close() it when done. */
  static detached(cfg: ClientConfig): ClientInstance {
    const resolved = resolveWithNamesrv(cfg);
    return new ClientInstance(resolved, buildClientId(resolved));
  }

  /** Stops timers and closes every connection. */
  close(): void {
    this.shutdown();
  }

  get log() {
    return this.config.logger;
  }

  registerProducer(p: ProducerMember): void {
    if (this.producers.has(p.group)) throw new MQClientError(`producer group ${p.group} already registered in client ${this.clientId}`);
    this.producers.set(p.group, p);
    this.start();
  }

  registerConsumer(c: ConsumerMember): void {
    if (this.consumers.has(c.group)) throw new MQClientError(`consumer group ${c.group} already registered in client ${this.clientId}`);
    this.consumers.set(c.group, c);
    this.start();
  }

  /** Removes a member and tells every broker; the last member to leave shuts the instance down. */
  async unregister(member: { group: string }, kind: "producer" | "consumer"): Promise<void> {
    const map = kind === "producer" ? this.producers : this.consumers;
    if (!map.delete(member.group)) return;
    const header: Record<string, string> = { clientID: this.clientId };
    header[kind === "producer" ? "producerGroup" : "consumerGroup"] = member.group;
    await Promise.all(
      this.allBrokerAddrs(false).map((addr) =>
        this.remoting
          .invoke(addr, RemotingCommand.request(RequestCode.UNREGISTER_CLIENT, { ...header }), this.config.requestTimeoutMs)
          .catch((err) => this.log.warn(`unregister ${member.group} from ${addr} failed: ${errorText(err)}`)),
      ),
    );
    if (this.producers.size === 0 && this.consumers.size === 0) this.shutdown();
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    const every = (ms: number, fn: () => Promise<unknown>) => {
      const t = setInterval(() => void fn().catch((err) => this.log.warn(errorText(err))), ms);
      t.unref?.();
      this.timers.push(t);
    };
    every(this.config.pollNameServerIntervalMs, () => this.refreshAllRoutes());
    every(this.config.heartbeatBrokerIntervalMs, () => this.sendHeartbeatToAllBrokers());
    every(this.config.persistConsumerOffsetIntervalMs, () => this.persistAllOffsets());
    every(this.config.rebalanceIntervalMs, () => this.rebalanceNow());
    const first = setTimeout(() => void this.refreshAllRoutes().catch(() => {}), FIRST_TIMER_DELAY_MS);
    first.unref?.();
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.remoting.close();
    this.requests.failAll(new MQClientError(`client ${this.clientId} shut down before the reply came`));
    if (instances.get(this.clientId) === this) instances.delete(this.clientId);
  }

  // ---- NameServer -------------------------------------------------------------------------

  /** Sends to the current NameServer, failing over to the next on connection or timeout errors. */
  async invokeNamesrv(request: RemotingCommand, timeoutMs = this.config.requestTimeoutMs): Promise<RemotingCommand> {
    const addrs = this.config.namesrvAddrs;
    let lastError: unknown;
    for (let i = 0; i < addrs.length; i++) {
      const index = (this.namesrvIndex + i) % addrs.length;
      try {
        const response = await this.remoting.invoke(addrs[index]!, request, timeoutMs);
        this.namesrvIndex = index;
        return response;
      } catch (err) {
        if (!(err instanceof RemotingError)) throw err;
        lastError = err;
      }
    }
    throw new MQClientError(`NameServer unreachable (${addrs.join(";")}): ${errorText(lastError)}`, { retriable: true, cause: lastError });
  }

  /** Fetches a route from the NameServer; undefined when the topic has none (TOPIC_NOT_EXIST). */
  async fetchTopicRoute(topic: string): Promise<TopicRouteData | undefined> {
    const response = await this.invokeNamesrv(RemotingCommand.request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic }));
    if (response.code === ResponseCode.TOPIC_NOT_EXIST) return undefined;
    if (response.code !== ResponseCode.SUCCESS) throw new MQBrokerError(response.code, response.remark, "namesrv");
    try {
      return toTopicRouteData(decodeJsonBody(response.body, `route of ${topic}`));
    } catch (err) {
      throw new MQClientError(`bad route data for topic ${topic}: ${errorText(err)}`, { cause: err });
    }
  }

  /** Refreshes one topic's route and tells members when it changed. Returns the current route. */
  async updateTopicRoute(topic: string): Promise<TopicRouteData | undefined> {
    const route = await this.fetchTopicRoute(topic);
    if (!route) return undefined;
    const signature = routeSignature(route);
    const old = this.routes.get(topic);
    if (old && old.signature === signature) return old.route;
    if (!old && this.routes.size >= MAX_TOPICS_PER_INSTANCE) throw new MQClientError(`more than ${MAX_TOPICS_PER_INSTANCE} topics in use by one client`);
    this.routes.set(topic, { route, signature });
    let newBroker = false;
    for (const b of route.brokerDatas) {
      if (!this.brokerAddrs.has(b.brokerName)) newBroker = true;
      this.brokerAddrs.set(b.brokerName, { ...b.brokerAddrs });
    }
    // Register with a newly seen broker now rather than at the next heartbeat round.
    if (newBroker && this.started) void this.sendHeartbeatToAllBrokers();
    for (const p of this.producers.values()) p.onRouteChanged(topic, route);
    for (const c of this.consumers.values()) c.onRouteChanged(topic, route);
    return route;
  }

  cachedRoute(topic: string): TopicRouteData | undefined {
    return this.routes.get(topic)?.route;
  }

  async refreshAllRoutes(): Promise<void> {
    const topics = new Set<string>();
    for (const m of [...this.producers.values(), ...this.consumers.values()]) for (const t of m.topics()) topics.add(t);
    await Promise.all(
      [...topics].map((t) => this.updateTopicRoute(t).catch((err) => this.log.warn(`route refresh of ${t} failed: ${errorText(err)}`))),
    );
    this.dropStaleBrokers();
  }

  /** Forgets brokers that no cached route mentions any more (Java cleanOfflineBroker). */
  private dropStaleBrokers(): void {
    const live = new Set<string>();
    for (const { route } of this.routes.values()) for (const b of route.brokerDatas) live.add(b.brokerName);
    for (const name of [...this.brokerAddrs.keys()]) if (!live.has(name)) this.brokerAddrs.delete(name);
  }

  // ---- broker addresses ---------------------------------------------------------------------

  findMasterAddr(brokerName: string): string | undefined {
    return this.brokerAddrs.get(brokerName)?.[MASTER_ID];
  }

  /** Address for pulls/offsets: the suggested id, else the master, else any address of that broker. */
  findSubscribeAddr(brokerName: string, brokerId = 0): { addr: string; slave: boolean } | undefined {
    const addrs = this.brokerAddrs.get(brokerName);
    if (!addrs) return undefined;
    const exact = addrs[String(brokerId)];
    if (exact) return { addr: exact, slave: brokerId !== 0 };
    if (addrs[MASTER_ID]) return { addr: addrs[MASTER_ID], slave: false };
    const [id, addr] = Object.entries(addrs)[0] ?? [];
    return id === undefined || addr === undefined ? undefined : { addr, slave: id !== MASTER_ID };
  }

  /** Master (else any) address of a broker name, refreshing the given topic's route once if unknown. */
  async brokerAddrFor(brokerName: string, topic: string): Promise<string> {
    let found = this.findSubscribeAddr(brokerName);
    if (!found) {
      await this.updateTopicRoute(topic);
      found = this.findSubscribeAddr(brokerName);
    }
    if (!found) throw new MQClientError(`The broker[${brokerName}] not exist`, { retriable: true });
    return found.addr;
  }

  private allBrokerAddrs(mastersOnly: boolean): string[] {
    const out = new Set<string>();
    for (const addrs of this.brokerAddrs.values()) {
      for (const [id, addr] of Object.entries(addrs)) if (!mastersOnly || id === MASTER_ID) out.add(addr);
    }
    return [...out];
  }

  /** Invokes a broker and throws MQBrokerError unless the response code is one of `okCodes`. */
  async invokeBroker(addr: string, request: RemotingCommand, timeoutMs: number, okCodes: readonly number[] = [ResponseCode.SUCCESS]): Promise<RemotingCommand> {
    let response: RemotingCommand;
    try {
      response = await this.remoting.invoke(addr, request, timeoutMs);
    } catch (err) {
      // Like Java's closeSocketIfTimeout: a peer that stopped answering gets a fresh connection next time.
      if (err instanceof RemotingTimeoutError) this.remoting.closeConnection(addr);
      throw err;
    }
    if (!okCodes.includes(response.code)) throw new MQBrokerError(response.code, response.remark, addr);
    return response;
  }

  // ---- heartbeat, rebalance, offsets ------------------------------------------------------------

  heartbeatBody(): Uint8Array {
    return encodeJsonBody({
      clientID: this.clientId,
      consumerDataSet: [...this.consumers.values()].map((c) => c.consumerData()),
      producerDataSet: [...this.producers.keys()].map((groupName) => ({ groupName })),
    });
  }

  /** HEART_BEAT to every address of every known broker (masters only when there is no consumer). */
  async sendHeartbeatToAllBrokers(): Promise<void> {
    if (this.closed) return;
    const body = this.heartbeatBody();
    const addrs = this.allBrokerAddrs(this.consumers.size === 0);
    await Promise.all(
      addrs.map(async (addr) => {
        try {
          await this.invokeBroker(addr, RemotingCommand.request(RequestCode.HEART_BEAT, {}, body), this.config.requestTimeoutMs);
        } catch (err) {
          this.log.warn(`heartbeat to ${addr} failed: ${errorText(err)}`);
        }
      }),
    );
  }

  /** Rebalances every consumer now; concurrent calls coalesce into one extra round. */
  rebalanceNow(): Promise<void> {
    if (this.rebalancing) {
      this.rebalanceAgain = true;
      return this.rebalancing;
    }
    this.rebalancing = (async () => {
      try {
        do {
          this.rebalanceAgain = false;
          for (const c of this.consumers.values()) {
            await c.rebalance().catch((err) => this.log.warn(`rebalance of ${c.group} failed: ${errorText(err)}`));
          }
        } while (this.rebalanceAgain && !this.closed);
      } finally {
        this.rebalancing = undefined;
      }
    })();
    return this.rebalancing;
  }

  private async persistAllOffsets(): Promise<void> {
    for (const c of this.consumers.values()) await c.persistOffsets().catch((err) => this.log.warn(`offset persist of ${c.group} failed: ${errorText(err)}`));
  }

  /** Consumer-list of a group as known by one broker (GET_CONSUMER_LIST_BY_GROUP). */
  async consumerIdList(addr: string, group: string): Promise<string[]> {
    const response = await this.invokeBroker(
      addr,
      RemotingCommand.request(RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: group }),
      this.config.requestTimeoutMs,
    );
    const body = decodeJsonBody(response.body, "consumer list") as { consumerIdList?: unknown };
    if (!Array.isArray(body.consumerIdList)) throw new MQClientError("consumer list body lacks consumerIdList");
    return body.consumerIdList.map(String);
  }

  // ---- requests from brokers ------------------------------------------------------------------

  private async handleBrokerRequest(request: RemotingCommand, conn: Connection): Promise<RemotingCommand | null> {
    const h = request.extFields;
    switch (request.code) {
      case RequestCode.NOTIFY_CONSUMER_IDS_CHANGED:
        void this.rebalanceNow();
        return null;
      case RequestCode.RESET_CONSUMER_CLIENT_OFFSET: {
        const consumer = this.consumers.get(h.group ?? "");
        if (consumer && h.topic) await consumer.resetOffset(h.topic, parseResetOffsetBody(request.body, h.topic));
        return RemotingCommand.responseTo(request, ResponseCode.SUCCESS);
      }
      case RequestCode.GET_CONSUMER_RUNNING_INFO: {
        const consumer = this.consumers.get(h.consumerGroup ?? "");
        if (!consumer) return RemotingCommand.responseTo(request, ResponseCode.SYSTEM_ERROR, `The Consumer Group <${h.consumerGroup}> not exist in this consumer`);
        const response = RemotingCommand.responseTo(request, ResponseCode.SUCCESS);
        response.body = encodeJsonBody(consumer.runningInfo());
        return response;
      }
      case RequestCode.CONSUME_MESSAGE_DIRECTLY: {
        const consumer = this.consumers.get(h.consumerGroup ?? "");
        if (!consumer) return RemotingCommand.responseTo(request, ResponseCode.SYSTEM_ERROR, `The Consumer Group <${h.consumerGroup}> not exist in this consumer`);
        const response = RemotingCommand.responseTo(request, ResponseCode.SUCCESS);
        response.body = encodeJsonBody(await consumer.consumeDirectly(request));
        return response;
      }
      case RequestCode.CHECK_TRANSACTION_STATE: {
        // Java selects the producer by the message's PGROUP property.
        let group: string | undefined;
        try {
          group = request.body ? decodeRecord(request.body, false).properties[Prop.PGROUP] : undefined;
        } catch (err) {
          this.log.warn(`CHECK_TRANSACTION_STATE from ${conn.remoteAddress} with an undecodable body: ${errorText(err)}`);
          return null;
        }
        const p = group === undefined ? undefined : this.producers.get(group);
        if (p?.checkTransactionState) p.checkTransactionState(conn.remoteAddress, request);
        else this.log.warn(`CHECK_TRANSACTION_STATE from ${conn.remoteAddress} for producer group ${group} which has no transaction producer here`);
        return null;
      }
      case RequestCode.PUSH_REPLY_MESSAGE_TO_CLIENT:
        return this.receiveReply(request, conn);
      default:
        return RemotingCommand.responseTo(request, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, ` request type ${request.code} not supported`);
    }
  }

  /** A reply pushed by the broker (Java receiveReplyMessage): acknowledged even when nobody waits for it any more. */
  private receiveReply(request: RemotingCommand, conn: Connection): RemotingCommand {
    try {
      const reply = replyMessageFromPush(request, Date.now());
      if (!this.requests.complete(reply)) {
        this.log.warn(`receive reply message, but not matched any request, CorrelationId: ${reply.correlationId} , reply from host: ${reply.bornHost}`);
      }
      return RemotingCommand.responseTo(request, ResponseCode.SUCCESS);
    } catch (err) {
      this.log.warn(`bad reply message pushed by ${conn.remoteAddress}: ${errorText(err)}`);
      return RemotingCommand.responseTo(request, ResponseCode.SYSTEM_ERROR, "process reply message fail");
    }
  }
}

/** ResetOffsetBody: `{"offsetTable":{<MessageQueue>:offset}}` or the C list form (protocol doc 3.3.5). */
function parseResetOffsetBody(body: Uint8Array | undefined, topic: string): Array<{ brokerName: string; queueId: number; offset: number }> {
  if (!body || body.length === 0) return [];
  const parsed = decodeJsonBody(body, "reset offset body") as { offsetTable?: unknown };
  const out: Array<{ brokerName: string; queueId: number; offset: number }> = [];
  const table = parsed.offsetTable;
  if (Array.isArray(table)) {
    for (const e of table as Array<Record<string, unknown>>) {
      if (e.topic === topic) out.push({ brokerName: String(e.brokerName), queueId: Number(e.queueId), offset: Number(e.offset) });
    }
  } else if (table && typeof table === "object") {
    for (const [key, offset] of Object.entries(table as Record<string, unknown>)) {
      const mq = parseMqKey(key);
      if (mq && mq.topic === topic) out.push({ brokerName: mq.brokerName, queueId: mq.queueId, offset: Number(offset) });
    }
  }
  return out;
}
