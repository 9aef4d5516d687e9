// Live consumers per group (Java ConsumerManager / ConsumerGroupInfo, storage doc §12.2): channels
// from heartbeats, their subscriptions, expiry after 120 s without a heartbeat, and change events.

import type { Connection } from "../remoting/connection.ts";
import { CHANNEL_EXPIRED_TIMEOUT_MS, type ClientChannelInfo } from "./client-channel.ts";
import type { SubscriptionData } from "./subscription-data.ts";

export interface ConsumerGroupInfo {
  groupName: string;
  consumeType: string;
  messageModel: string;
  consumeFromWhere: string;
  subscriptionTable: Map<string, SubscriptionData>;
  channels: Map<Connection, ClientChannelInfo>;
  lastUpdateMs: number;
}

/** Called when a group's membership or subscriptions changed, with the group's remaining channels. */
export type ConsumerIdsChangeListener = (group: string, channels: ClientChannelInfo[]) => void;

/** Bound on subscriptions kept per group; a heartbeat listing more is cut to this many. */
export const MAX_SUBSCRIPTIONS_PER_GROUP = 10_000;
/** Bound on live consumer groups; heartbeats naming new groups beyond it are not registered. */
export const MAX_CONSUMER_GROUPS = 100_000;

export class ConsumerManager {
  readonly groups = new Map<string, ConsumerGroupInfo>();

  constructor(private readonly onIdsChanged: ConsumerIdsChangeListener) {}

  get(group: string): ConsumerGroupInfo | undefined {
    return this.groups.get(group);
  }

  findChannelByClientId(group: string, clientId: string): ClientChannelInfo | undefined {
    const info = this.groups.get(group);
    if (!info) return undefined;
    for (const c of info.channels.values()) if (c.clientId === clientId) return c;
    return undefined;
  }

  /**
   * Java registerConsumer: updates the channel and the subscriptions; a new channel or a changed
   * topic set fires the change listener when `notify` is on. Returns true when something changed.
   */
  register(
    group: string,
    channel: ClientChannelInfo,
    consumeType: string,
    messageModel: string,
    consumeFromWhere: string,
    subscriptions: SubscriptionData[],
    notify: boolean,
  ): boolean {
    let info = this.groups.get(group);
    if (!info) {
      if (this.groups.size >= MAX_CONSUMER_GROUPS) return false;
      info = {
        groupName: group,
        consumeType,
        messageModel,
        consumeFromWhere,
        subscriptionTable: new Map(),
        channels: new Map(),
        lastUpdateMs: Date.now(),
      };
      this.groups.set(group, info);
    }
    info.consumeType = consumeType;
    info.messageModel = messageModel;
    info.consumeFromWhere = consumeFromWhere;
    info.lastUpdateMs = Date.now();

    const old = info.channels.get(channel.conn);
    const channelAdded = old === undefined || old.clientId !== channel.clientId;
    info.channels.set(channel.conn, channel);

    let subscriptionChanged = false;
    const seen = new Set<string>();
    for (const sub of subscriptions.slice(0, MAX_SUBSCRIPTIONS_PER_GROUP)) {
      seen.add(sub.topic);
      const current = info.subscriptionTable.get(sub.topic);
      if (!current) {
        info.subscriptionTable.set(sub.topic, sub);
        subscriptionChanged = true;
      } else if (sub.subVersion > current.subVersion) {
        info.subscriptionTable.set(sub.topic, sub);
      }
    }
    for (const topic of [...info.subscriptionTable.keys()]) {
      if (!seen.has(topic)) {
        info.subscriptionTable.delete(topic);
        subscriptionChanged = true;
      }
    }
    const changed = channelAdded || subscriptionChanged;
    if (changed && notify) this.onIdsChanged(group, [...info.channels.values()]);
    return changed;
  }

  /** UNREGISTER_CLIENT for a consumer group. */
  unregister(group: string, conn: Connection, notify: boolean): void {
    const info = this.groups.get(group);
    if (!info || !info.channels.delete(conn)) return;
    if (info.channels.size === 0) this.groups.delete(group);
    if (notify) this.onIdsChanged(group, [...info.channels.values()]);
  }

  /** Connection closed: drop it from every group and notify the remaining members. */
  onConnectionClose(conn: Connection): void {
    for (const [group, info] of [...this.groups]) {
      if (!info.channels.delete(conn)) continue;
      if (info.channels.size === 0) this.groups.delete(group);
      this.onIdsChanged(group, [...info.channels.values()]);
    }
  }

  /** Drops and closes channels without a heartbeat for CHANNEL_EXPIRED_TIMEOUT_MS (run every 10 s). */
  scanNotActiveChannels(nowMs = Date.now()): void {
    for (const [group, info] of [...this.groups]) {
      let removed = false;
      for (const [conn, c] of [...info.channels]) {
        if (nowMs - c.lastUpdateMs > CHANNEL_EXPIRED_TIMEOUT_MS) {
          info.channels.delete(conn);
          conn.close();
          removed = true;
        }
      }
      if (!removed) continue;
      if (info.channels.size === 0) this.groups.delete(group);
      this.onIdsChanged(group, [...info.channels.values()]);
    }
  }

  /** Groups with a live subscription to `topic`. */
  groupsByTopic(topic: string): Set<string> {
    const groups = new Set<string>();
    for (const [group, info] of this.groups) if (info.subscriptionTable.has(topic)) groups.add(group);
    return groups;
  }
}
