// Consumer group settings (Java SubscriptionGroupManager, storage doc §11.4): built-in groups,
// auto-creation on first use, persistence to config/subscriptionGroup.json on every change.

import path from "node:path";
import { groupNameProblem } from "../common/topic.ts";
import { nextDataVersion } from "./data-version.ts";
import { VersionedConfigTable, type VersionedTableShape } from "./versioned-config-table.ts";

/** Java SubscriptionGroupConfig (JSON property names). */
export interface SubscriptionGroupConfig {
  groupName: string;
  consumeEnable: boolean;
  consumeFromMinEnable: boolean;
  consumeBroadcastEnable: boolean;
  retryQueueNums: number;
  retryMaxTimes: number;
  brokerId: number;
  whichBrokerWhenConsumeSlowly: number;
  notifyConsumerIdsChangedEnable: boolean;
}

export function newSubscriptionGroupConfig(groupName: string): SubscriptionGroupConfig {
  return {
    groupName,
    consumeEnable: true,
    consumeFromMinEnable: true,
    consumeBroadcastEnable: true,
    retryQueueNums: 1,
    retryMaxTimes: 16,
    brokerId: 0,
    whichBrokerWhenConsumeSlowly: 1,
    notifyConsumerIdsChangedEnable: true,
  };
}

/** Alphabetical keys like fastjson. */
export function subscriptionGroupToJson(c: SubscriptionGroupConfig): Record<string, unknown> {
  return {
    brokerId: c.brokerId,
    consumeBroadcastEnable: c.consumeBroadcastEnable,
    consumeEnable: c.consumeEnable,
    consumeFromMinEnable: c.consumeFromMinEnable,
    groupName: c.groupName,
    notifyConsumerIdsChangedEnable: c.notifyConsumerIdsChangedEnable,
    retryMaxTimes: c.retryMaxTimes,
    retryQueueNums: c.retryQueueNums,
    whichBrokerWhenConsumeSlowly: c.whichBrokerWhenConsumeSlowly,
  };
}

/** Reads a config from parsed JSON over the defaults; undefined without a usable groupName. */
export function subscriptionGroupFromJson(raw: unknown, fallbackName?: string): SubscriptionGroupConfig | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  const name = typeof r.groupName === "string" && r.groupName.length > 0 ? r.groupName : fallbackName;
  if (!name) return undefined;
  const c = newSubscriptionGroupConfig(name);
  const bool = (v: unknown, d: boolean) => (typeof v === "boolean" ? v : typeof v === "string" ? v.toLowerCase() === "true" : d);
  const int = (v: unknown, d: number) => (typeof v === "number" && Number.isInteger(v) ? v : typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : d);
  c.consumeEnable = bool(r.consumeEnable, c.consumeEnable);
  c.consumeFromMinEnable = bool(r.consumeFromMinEnable, c.consumeFromMinEnable);
  c.consumeBroadcastEnable = bool(r.consumeBroadcastEnable, c.consumeBroadcastEnable);
  c.retryQueueNums = int(r.retryQueueNums, c.retryQueueNums);
  c.retryMaxTimes = int(r.retryMaxTimes, c.retryMaxTimes);
  c.brokerId = int(r.brokerId, c.brokerId);
  c.whichBrokerWhenConsumeSlowly = int(r.whichBrokerWhenConsumeSlowly, c.whichBrokerWhenConsumeSlowly);
  c.notifyConsumerIdsChangedEnable = bool(r.notifyConsumerIdsChangedEnable, c.notifyConsumerIdsChangedEnable);
  return c;
}

const BUILT_IN_GROUPS = [
  "TOOLS_CONSUMER",
  "FILTERSRV_CONSUMER",
  "SELF_TEST_C_GROUP",
  "CID_ONS-HTTP-PROXY",
  "CID_ONSAPI_PULL",
  "CID_ONSAPI_PERMISSION",
  "CID_ONSAPI_OWNER",
];

/** Groups with this prefix are created even when auto-creation is off (Java MixAll.CID_SYS_RMQ_TRANS prefix). */
const SYSTEM_GROUP_PREFIX = "CID_RMQ_SYS_";

/** Upper bound on groups one broker keeps, so auto-creation by clients stays bounded. */
export const MAX_SUBSCRIPTION_GROUPS = 100_000;

const TABLE_SHAPE: VersionedTableShape<SubscriptionGroupConfig, "subscriptionGroupTable"> = {
  tableKey: "subscriptionGroupTable",
  entriesName: "subscription groups",
  maxEntries: MAX_SUBSCRIPTION_GROUPS,
  fromJson: (name, raw) => subscriptionGroupFromJson(raw, name),
  toJson: subscriptionGroupToJson,
  nameOf: (c) => c.groupName,
};

export class SubscriptionGroupManager extends VersionedConfigTable<SubscriptionGroupConfig, "subscriptionGroupTable"> {

  constructor(
    private readonly autoCreateSubscriptionGroup: () => boolean,
    storePathRootDir: string,
  ) {
    super(path.join(storePathRootDir, "config", "subscriptionGroup.json"), TABLE_SHAPE);
    for (const g of BUILT_IN_GROUPS) this.table.set(g, newSubscriptionGroupConfig(g));
  }





  get(group: string): SubscriptionGroupConfig | undefined {
    return this.table.get(group);
  }

  /** Java findSubscriptionGroupConfig: the group, auto-created when allowed; undefined otherwise. */
  findOrCreate(group: string): SubscriptionGroupConfig | undefined {
    const existing = this.table.get(group);
    if (existing) return existing;
    if (!this.autoCreateSubscriptionGroup() && !group.startsWith(SYSTEM_GROUP_PREFIX)) return undefined;
    if (this.table.size >= MAX_SUBSCRIPTION_GROUPS) return undefined;
    const c = newSubscriptionGroupConfig(group);
    this.update(c);
    return c;
  }

  update(c: SubscriptionGroupConfig): void {
    // Invariant: request handlers validate names where they enter; a group names %RETRY% / %DLQ% topics.
    const problem = groupNameProblem(c.groupName);
    if (problem) throw new Error(`subscription group table: refusing an invalid group name: ${problem}`);
    this.table.set(c.groupName, c);
    nextDataVersion(this.dataVersion);
    this.persist();
  }

  delete(group: string): boolean {
    if (!this.table.delete(group)) return false;
    nextDataVersion(this.dataVersion);
    this.persist();
    return true;
  }
}
