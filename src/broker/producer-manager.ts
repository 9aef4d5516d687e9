// Live producers per group (Java ProducerManager, storage doc §12.2): used for
// GET_PRODUCER_CONNECTION_LIST and to find a channel for transaction check-backs.

import type { Connection } from "../remoting/connection.ts";
import { CHANNEL_EXPIRED_TIMEOUT_MS, type ClientChannelInfo } from "./client-channel.ts";

/** Bound on producer groups tracked; heartbeats naming more groups are ignored beyond it. */
export const MAX_PRODUCER_GROUPS = 100_000;

export class ProducerManager {
  readonly groups = new Map<string, Map<Connection, ClientChannelInfo>>();

  register(group: string, channel: ClientChannelInfo): void {
    let channels = this.groups.get(group);
    if (!channels) {
      if (this.groups.size >= MAX_PRODUCER_GROUPS) return;
      channels = new Map();
      this.groups.set(group, channels);
    }
    channels.set(channel.conn, channel);
  }

  unregister(group: string, conn: Connection): void {
    const channels = this.groups.get(group);
    if (!channels) return;
    channels.delete(conn);
    if (channels.size === 0) this.groups.delete(group);
  }

  onConnectionClose(conn: Connection): void {
    for (const group of [...this.groups.keys()]) this.unregister(group, conn);
  }

  scanNotActiveChannels(nowMs = Date.now()): void {
    for (const [group, channels] of [...this.groups]) {
      for (const [conn, c] of [...channels]) {
        if (nowMs - c.lastUpdateMs > CHANNEL_EXPIRED_TIMEOUT_MS) {
          conn.close();
          this.unregister(group, conn);
        }
      }
    }
  }

  /** A live channel of the group (for CHECK_TRANSACTION_STATE), undefined if none. */
  availableChannel(group: string): ClientChannelInfo | undefined {
    const channels = this.groups.get(group);
    if (!channels) return undefined;
    for (const c of channels.values()) if (!c.conn.closed) return c;
    return undefined;
  }
}
