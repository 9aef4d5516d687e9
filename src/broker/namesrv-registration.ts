// Broker → NameServer registration (protocol doc 3.3.1 and 6.1): REGISTER_BROKER to every
// configured namesrv in parallel over one persistent RemotingClient, UNREGISTER_BROKER on shutdown.

import { crc32 } from "node:zlib";
import { createLogger } from "../log.ts";
import { encodeRegisterBrokerBody } from "../namesrv/register-body.ts";
import { RequestCode } from "../remoting/codes.ts";
import { RemotingCommand } from "../remoting/command.ts";
import type { RemotingClient } from "../remoting/client.ts";
import type { TopicConfigManager } from "./topic-config.ts";

const log = createLogger("broker");

/** Java registerNameServerPeriod is clamped into this range. */
const MIN_REGISTER_PERIOD_MS = 10_000;
const MAX_REGISTER_PERIOD_MS = 60_000;

/** Bound on namesrv addresses taken from namesrvAddr. */
const MAX_NAMESRV_ADDRS = 64;

export interface RegistrationIdentity {
  brokerName: string;
  brokerAddr: string;
  clusterName: string;
  haServerAddr: string;
  brokerId: number;
  /** Read at each registration: UPDATE_BROKER_CONFIG may change it. */
  brokerPermission: () => number;
  compressed: boolean;
  timeoutMs: number;
}

/** What a namesrv tells a slave in the REGISTER_BROKER response (Java RegisterBrokerResult). */
export interface RegisterBrokerResult {
  /** The live master's remoting address; absent when the group has no live master. */
  masterAddr: string | undefined;
  /** The live master's HA address. */
  haServerAddr: string | undefined;
}

export function parseNamesrvAddrs(namesrvAddr: string): string[] {
  return namesrvAddr
    .split(";")
    .map((a) => a.trim())
    .filter((a) => a.length > 0)
    .slice(0, MAX_NAMESRV_ADDRS);
}

export function clampRegisterPeriodMs(periodMs: number): number {
  return Math.min(Math.max(periodMs, MIN_REGISTER_PERIOD_MS), MAX_REGISTER_PERIOD_MS);
}

export class NamesrvRegistration {
  constructor(
    private readonly client: RemotingClient,
    private readonly addrs: string[],
    private readonly identity: RegistrationIdentity,
    private readonly topics: TopicConfigManager,
    /** Called with every successful synchronous registration's answer (slaves learn their master from it). */
    private readonly onRegistered: (result: RegisterBrokerResult) => void = () => {},
  ) {}

  private body(): Uint8Array {
    const permission = this.identity.brokerPermission();
    const topicConfigs = [...this.topics.table.values()].map((tc) => ({
      ...tc,
      // A broker that is not read-write registers every topic with its own permission (protocol doc 4.4).
      perm: permission === 6 ? tc.perm : permission,
    }));
    return encodeRegisterBrokerBody({ dataVersion: { ...this.topics.dataVersion }, topicConfigs, filterServerList: [] }, this.identity.compressed);
  }

  private request(body: Uint8Array): RemotingCommand {
    const id = this.identity;
    return RemotingCommand.request(
      RequestCode.REGISTER_BROKER,
      {
        brokerName: id.brokerName,
        brokerAddr: id.brokerAddr,
        clusterName: id.clusterName,
        haServerAddr: id.haServerAddr,
        brokerId: String(id.brokerId),
        compressed: String(id.compressed),
        bodyCrc32: String(crc32(body) & 0x7fffffff),
      },
      body,
    );
  }

  /** Registers with every namesrv; resolves when all answered or failed (failures are logged). */
  async registerAll(): Promise<void> {
    const body = this.body();
    await Promise.all(
      this.addrs.map(async (addr) => {
        try {
          const response = await this.client.invoke(addr, this.request(body), this.identity.timeoutMs);
          if (response.code !== 0) {
            log.warn(`register to namesrv ${addr} answered code ${response.code}: ${response.remark ?? ""}`);
            return;
          }
          const masterAddr = response.extFields.masterAddr || undefined;
          const haServerAddr = response.extFields.haServerAddr || undefined;
          this.onRegistered({ masterAddr, haServerAddr });
        } catch (err) {
          log.warn(`register to namesrv ${addr} failed: ${(err as Error).message}`);
        }
      }),
    );
  }

  /** Oneway registration after a topic was auto-created (Java registerBrokerAll with oneway=true). */
  registerAllOneway(): void {
    const body = this.body();
    for (const addr of this.addrs) {
      this.client.invokeOneway(addr, this.request(body)).catch((err: Error) => log.warn(`oneway register to namesrv ${addr} failed: ${err.message}`));
    }
  }

  async unregisterAll(): Promise<void> {
    const id = this.identity;
    await Promise.all(
      this.addrs.map(async (addr) => {
        const request = RemotingCommand.request(RequestCode.UNREGISTER_BROKER, {
          brokerName: id.brokerName,
          brokerAddr: id.brokerAddr,
          clusterName: id.clusterName,
          brokerId: String(id.brokerId),
        });
        try {
          await this.client.invoke(addr, request, id.timeoutMs);
        } catch (err) {
          log.warn(`unregister from namesrv ${addr} failed: ${(err as Error).message}`);
        }
      }),
    );
  }
}
