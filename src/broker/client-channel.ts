// One client connection as the broker's client bookkeeping sees it (Java ClientChannelInfo).

import type { Connection } from "../remoting/connection.ts";

export interface ClientChannelInfo {
  conn: Connection;
  clientId: string;
  language: string;
  version: number;
  lastUpdateMs: number;
}

/** Channels without a heartbeat for this long are dropped and closed (Java ConsumerManager CHANNEL_EXPIRED_TIMEOUT). */
export const CHANNEL_EXPIRED_TIMEOUT_MS = 120_000;
