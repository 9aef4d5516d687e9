// What the HA (master/slave replication) service needs from its surroundings: the broker.conf keys
// it reads (RocketMQ names and 4.9 defaults, storage doc §12.10) and the few commit-log operations
// of the message store (storage doc §12.9). MessageStore and BrokerConfig satisfy these structurally.

export interface HAConfig {
  /** Master: port the HA server listens on (Java forces it to listenPort + 1). 0 = any free port. */
  haListenPort: number;
  /** Slave: explicit master HA address `ip:port`; otherwise the broker passes REGISTER_BROKER's `haServerAddr`. */
  haMasterAddress?: string | null;
  /** Idle master sends a heartbeat frame, and the slave re-reports its offset, after this long (ms). */
  haSendHeartbeatInterval: number;
  /** A connection with nothing read for this long (ms) is closed. */
  haHousekeepingInterval: number;
  /** Largest data frame the master sends (bytes). */
  haTransferBatchSize: number;
  /** SYNC_MASTER answers SLAVE_NOT_AVAILABLE when the slaves lag this many bytes or more. */
  haSlaveFallbehindMax: number;
  /** SYNC_MASTER: how long a put waits for the slave's ack (ms) before FLUSH_SLAVE_TIMEOUT. */
  slaveTimeout: number;
  /** Commit-log segment size; a slave starting empty is fed from the start of the master's last segment. */
  mappedFileSizeCommitLog: number;
}

export const DEFAULT_HA_CONFIG: HAConfig = {
  haListenPort: 10912,
  haMasterAddress: null,
  haSendHeartbeatInterval: 5000,
  haHousekeepingInterval: 20000,
  haTransferBatchSize: 32 * 1024,
  haSlaveFallbehindMax: 256 * 1024 * 1024,
  slaveTimeout: 3000,
  mappedFileSizeCommitLog: 1024 * 1024 * 1024,
};

/** The commit-log operations replication uses (DefaultMessageStore's getCommitLogData / appendToCommitLog). */
export interface HAStore {
  /** End of the commit log (last segment start + write position). */
  getMaxPhyOffset(): number;
  /** Start of the oldest commit-log segment still on disk. */
  getMinPhyOffset(): number;
  /**
   * Master: a view of the written bytes from `offset` to the write position of the segment holding
   * it (never crosses a segment); undefined when no segment holds `offset` or nothing is written there.
   */
  getCommitLogData(offset: number): Uint8Array | undefined;
  /**
   * Slave: write `bytes` at commit-log offset `startOffset` (= current end, or the start of a new
   * segment when the store is empty), creating the segment if needed, then wake dispatch. Must copy
   * synchronously: `bytes` may be a reused receive buffer. False when it cannot.
   */
  appendToCommitLog(startOffset: number, bytes: Uint8Array): boolean;
}

/** Outcome of waiting for replication, with PutMessageStatus names. */
export type SlaveAckStatus = "PUT_OK" | "FLUSH_SLAVE_TIMEOUT" | "SLAVE_NOT_AVAILABLE";

/** One slave connection as seen by the master (names of RocketMQ 5's HARuntimeInfo.HAConnectionRuntimeInfo). */
export interface HAConnectionRuntimeInfo {
  addr: string;
  slaveAckOffset: number;
  /** masterPutWhere − slaveAckOffset, bytes. */
  diff: number;
  /** diff below haSlaveFallbehindMax. */
  inSync: boolean;
  transferFromWhere: number;
  /** Commit-log bytes sent to this slave since it connected. */
  transferredBytes: number;
}

/** The slave's client as seen by the slave (names of RocketMQ 5's HARuntimeInfo.HAClientRuntimeInfo). */
export interface HAClientRuntimeInfo {
  masterAddr: string;
  maxOffset: number;
  lastReadTimestamp: number;
  lastWriteTimestamp: number;
  isActivated: boolean;
}

/** Shape of RocketMQ 5's HARuntimeInfo (GET_BROKER_HA_STATUS); 4.9 has no HA keys in GET_BROKER_RUNTIME_INFO. */
export interface HARuntimeInfo {
  master: boolean;
  masterCommitLogMaxOffset: number;
  inSyncSlaveNums: number;
  haConnectionInfo: HAConnectionRuntimeInfo[];
  haClientRuntimeInfo: HAClientRuntimeInfo;
}
