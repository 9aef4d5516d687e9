// A slave's copy of its master's metadata (Java SlaveSynchronize, protocol doc 3.3.6): topics over
// the master's VIP port, consumer offsets, delay offsets and subscription groups, on a timer.
// Message data itself arrives over the HA connection (src/store/ha).

import { createLogger } from "../log.ts";
import { RequestCode, ResponseCode } from "../remoting/codes.ts";
import { RemotingCommand } from "../remoting/command.ts";
import { RemotingClient } from "../remoting/client.ts";
import { RemotingConnectError } from "../remoting/errors.ts";
import type { ConsumerOffsetManager } from "./consumer-offsets.ts";
import { parseJsonBody } from "./processors/json-body.ts";
import type { ScheduleMessageService } from "./schedule.ts";
import type { SubscriptionGroupManager } from "./subscription-group.ts";
import type { TopicConfigManager } from "./topic-config.ts";

const log = createLogger("broker");

/** Java BrokerOuterAPI: each GET_ALL_* call waits this long for the master. */
export const SLAVE_SYNC_TIMEOUT_MS = 3_000;
/** Java: the first sync runs this long after start (the registration has named the master by then). */
export const SLAVE_SYNC_FIRST_DELAY_MS = 3_000;
/** Java MixAll.brokerVIPChannel: the VIP port is the remoting port minus this. */
const VIP_PORT_OFFSET = 2;

export interface SlaveSyncTargets {
  topics: TopicConfigManager;
  offsets: ConsumerOffsetManager;
  groups: SubscriptionGroupManager;
  schedule: () => ScheduleMessageService;
  /** This broker's own address: a master address equal to it is never synced from. */
  selfAddr: () => string;
}

/** The VIP ("fast") channel of a broker address `ip:port` (Java brokerVIPChannel). */
export function vipChannelAddr(addr: string): string {
  const colon = addr.lastIndexOf(":");
  const port = Number(addr.slice(colon + 1));
  if (colon < 0 || !Number.isInteger(port) || port <= VIP_PORT_OFFSET) return addr;
  return `${addr.slice(0, colon)}:${port - VIP_PORT_OFFSET}`;
}

export class SlaveSynchronize {
  /** The master's remoting address from the last REGISTER_BROKER answer; undefined while it is down. */
  private masterAddr: string | undefined;
  private readonly client = new RemotingClient({ connectTimeoutMs: SLAVE_SYNC_TIMEOUT_MS });
  private firstTimer: ReturnType<typeof setTimeout> | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private syncing = false;
  /** Completed syncAll rounds (tests wait on it). */
  rounds = 0;

  constructor(private readonly targets: SlaveSyncTargets) {}

  /** Syncs after `firstDelayMs`, then every `intervalMs` (a round still running is not doubled up). */
  start(intervalMs: number, firstDelayMs = Math.min(SLAVE_SYNC_FIRST_DELAY_MS, intervalMs)): void {
    if (!(intervalMs > 0)) throw new Error(`slave sync interval must be positive, got ${intervalMs} ms`);
    if (this.firstTimer) throw new Error("slave sync already started");
    const tick = () => void this.syncAll();
    this.firstTimer = setTimeout(() => {
      tick();
      this.timer = setInterval(tick, intervalMs);
    }, firstDelayMs);
    // A master named by the registration before start is synced from at once (see setMaster).
    if (this.masterAddr !== undefined) tick();
  }

  /**
   * Records the master named by a registration. A newly named master is synced from at once, not
   * only on the next tick (Java waits for its timer): a master that dies before the first tick
   * would otherwise leave the slave without the topics it must serve.
   */
  setMaster(addr: string | undefined): void {
    const changed = addr !== undefined && addr !== this.masterAddr;
    this.masterAddr = addr;
    if (changed && this.firstTimer !== undefined) void this.syncAll();
  }

  stop(): void {
    clearTimeout(this.firstTimer);
    clearInterval(this.timer);
    this.client.close();
  }

  /** One round: each part independently, failures logged (Java syncAll). */
  async syncAll(): Promise<void> {
    const master = this.masterAddr;
    if (this.syncing || master === undefined || master === this.targets.selfAddr()) return;
    this.syncing = true;
    try {
      await this.part("topic config", master, async () => {
        if (this.targets.topics.replaceFromMaster(await this.fetchTopicConfig(master))) {
          log.info(`updated slave topic config from master ${master}`);
        }
      });
      await this.part("consumer offsets", master, async () => {
        this.targets.offsets.mergeFromMaster(await this.fetch(master, RequestCode.GET_ALL_CONSUMER_OFFSET));
      });
      await this.part("delay offsets", master, async () => {
        this.targets.schedule().replaceFromMaster(await this.fetch(master, RequestCode.GET_ALL_DELAY_OFFSET));
      });
      await this.part("subscription groups", master, async () => {
        if (this.targets.groups.replaceFromMaster(await this.fetch(master, RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG))) {
          log.info(`updated slave subscription groups from master ${master}`);
        }
      });
      this.rounds++;
    } finally {
      this.syncing = false;
    }
  }

  private async part(what: string, master: string, run: () => Promise<void>): Promise<void> {
    try {
      await run();
    } catch (err) {
      log.warn(`syncing ${what} from master ${master} failed: ${(err as Error).message}`);
    }
  }

  /**
   * GET_ALL_TOPIC_CONFIG goes to the VIP port like Java; a master whose VIP port is not listenPort - 2
   * (started with listenPort 0) is asked on its main port instead.
   */
  private async fetchTopicConfig(master: string): Promise<unknown> {
    try {
      return await this.fetch(vipChannelAddr(master), RequestCode.GET_ALL_TOPIC_CONFIG);
    } catch (err) {
      if (!(err instanceof RemotingConnectError)) throw err;
      return this.fetch(master, RequestCode.GET_ALL_TOPIC_CONFIG);
    }
  }

  /** The parsed JSON body of a GET_ALL_* answer; throws naming what went wrong. */
  private async fetch(addr: string, code: number): Promise<unknown> {
    const response = await this.client.invoke(addr, RemotingCommand.request(code, {}), SLAVE_SYNC_TIMEOUT_MS);
    if (response.code !== ResponseCode.SUCCESS) throw new Error(`request ${code} to ${addr} answered code ${response.code}: ${response.remark ?? ""}`);
    const body = parseJsonBody(response.body);
    if (!body.ok) throw new Error(`answer to request ${code} from ${addr}: body ${body.problem}`);
    return body.value;
  }
}
