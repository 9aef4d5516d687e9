// Live producers per group (Java ProducerManager, storage doc §12.2): used for
// GET_PRODUCER_CONNECTION_LIST, to find a channel for transaction check-backs, and the channel of
// a client id for pushing replies (request–reply).

import type { Connection } from "../remoting/connection.ts";
import { CHANNEL_EXPIRED_TIMEOUT_MS, type ClientChannelInfo } from "./client-channel.ts";

/** Bound on producer groups tracked; heartbeats naming more groups are ignored beyond it. */
export const MAX_PRODUCER_GROUPS = 100_000;

export class ProducerManager {
  readonly groups = new Map<string, Map<Connection, ClientChannelInfo>>();
  /**
   * Client id → its latest channel (Java clientChannelTable). Bounded by the registered channels:
   * an entry is added only with one and removed with it.
   */
  private readonly byClientId = new Map<string, ClientChannelInfo>();

  register(group: string, channel: ClientChannelInfo): void {
    let channels = this.groups.get(group);
    if (!channels) {
      if (this.groups.size >= MAX_PRODUCER_GROUPS) return;
      channels = new Map();
      this.groups.set(group, channels);
    }
    channels.set(channel.conn, channel);
    this.byClientId.set(channel.clientId, channel);
  }

  unregister(group: string, conn: Connection): void {
    const channels = this.groups.get(group);
    if (!channels) return;
    const channel = channels.get(conn);
    channels.delete(conn);
    if (channels.size === 0) this.groups.delete(group);
    // Like Java, leaving one group forgets the client id; its next heartbeat brings it back.
    if (channel && this.byClientId.get(channel.clientId)?.conn === conn) this.byClientId.delete(channel.clientId);
  }

  /** The live channel of a client id (the REPLY_TO_CLIENT of a reply), undefined if none. */
  findChannel(clientId: string): ClientChannelInfo | undefined {
    const channel = this.byClientId.get(clientId);
    return channel && !channel.conn.closed ? channel : undefined;
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
