// Replication for one broker (Java HAService): on a master the HA server and the SYNC_MASTER
// ack waiters, on a slave the HA client. The broker owns one and calls the methods below.

import type { MaybePromise } from "../../common/maybe-promise.ts";
import { createLogger } from "../../log.ts";
import { TRANSFER_FRAME_MAX_SIZE_BYTES } from "./ha-codec.ts";
import { HAClient } from "./ha-client.ts";
import { HAServer } from "./ha-server.ts";
import { SlaveAckWaiters } from "./ha-sync-wait.ts";
import type { BrokerRole } from "../store-config.ts";
import type { PutMessageResult } from "../store-types.ts";
import type { HAConfig, HARuntimeInfo, HAStore, SlaveAckStatus } from "./ha-types.ts";

const log = createLogger("ha");

export interface HAServiceOptions {
  /** Interface the master's HA server binds (Java binds all). */
  listenHostname?: string;
}

/** Throws an error naming the first HA key whose value cannot work. */
export function validateHAConfig(config: HAConfig): void {
  const positive: Array<keyof HAConfig> = [
    "haSendHeartbeatInterval",
    "haHousekeepingInterval",
    "haTransferBatchSize",
    "haSlaveFallbehindMax",
    "slaveTimeout",
    "mappedFileSizeCommitLog",
  ];
  for (const key of positive) {
    const value = config[key];
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) throw new Error(`${key} must be a positive integer, got ${value}`);
  }
  if (config.haTransferBatchSize > TRANSFER_FRAME_MAX_SIZE_BYTES) {
    // Slaves (Java's included) read a frame into a 4 MiB buffer.
    throw new Error(`haTransferBatchSize ${config.haTransferBatchSize} exceeds ${TRANSFER_FRAME_MAX_SIZE_BYTES} bytes`);
  }
  if (!Number.isInteger(config.haListenPort) || config.haListenPort < 0 || config.haListenPort > 65535) {
    throw new Error(`haListenPort must be 0..65535, got ${config.haListenPort}`);
  }
}

export class HAService {
  private readonly waiters = new SlaveAckWaiters();
  private readonly server: HAServer | undefined;
  private readonly client: HAClient | undefined;

  constructor(
    private readonly store: HAStore,
    private readonly config: HAConfig,
    readonly role: BrokerRole,
    private readonly options: HAServiceOptions = {},
  ) {
    validateHAConfig(config);
    if (role === "SLAVE") this.client = new HAClient(store, config);
    else this.server = new HAServer(store, config, (offset) => this.waiters.ack(offset));
  }

  /** Master: starts listening (returns the bound HA port). Slave: starts connecting (returns 0). */
  start(): number {
    this.client?.start();
    const port = this.server?.start(this.options.listenHostname) ?? 0;
    log.info(`HA service started as ${this.role}`);
    return port;
  }

  shutdown(): void {
    this.client?.shutdown();
    this.server?.shutdown();
    this.waiters.cancelAll();
  }

  /** Slave: the master's HA address (`ip:port`) from REGISTER_BROKER's haServerAddr or haMasterAddress. */
  updateMasterAddress(address: string): void {
    this.client?.updateMasterAddress(address);
  }

  /** Master: new commit-log data was appended; push it to the slaves now (else within 100 ms). */
  notifyAppended(): void {
    this.server?.wakeup();
  }

  /** Slaves connected to this master (Java connectionCount). */
  connectionCount(): number {
    return this.server?.connectionCount() ?? 0;
  }

  /** Highest commit-log offset any slave acknowledged (Java push2SlaveMaxOffset). */
  getPush2SlaveMaxOffset(): number {
    return this.waiters.getAckedOffset();
  }

  /** A slave is connected and less than haSlaveFallbehindMax behind `masterPutWhere` (Java isSlaveOK). */
  isSlaveOK(masterPutWhere: number): boolean {
    return this.connectionCount() > 0 && masterPutWhere - this.waiters.getAckedOffset() < this.config.haSlaveFallbehindMax;
  }

  /** Bytes the slaves are behind the commit-log end (Java slaveFallBehindMuch). */
  slaveFallBehindMuch(): number {
    return this.store.getMaxPhyOffset() - this.waiters.getAckedOffset();
  }

  /**
   * SYNC_MASTER, after a put with WAIT=true stored its record(s) ending at `nextOffset`
   * (wroteOffset + wroteBytes): SLAVE_NOT_AVAILABLE at once without a usable slave, else PUT_OK when
   * a slave acks `nextOffset` or FLUSH_SLAVE_TIMEOUT after `timeoutMs` (default slaveTimeout).
   */
  waitForSlaveAck(nextOffset: number, timeoutMs: number = this.config.slaveTimeout): Promise<SlaveAckStatus> {
    if (this.server === undefined) throw new Error("waitForSlaveAck on a slave");
    if (!this.isSlaveOK(nextOffset)) return Promise.resolve("SLAVE_NOT_AVAILABLE");
    const status = this.waiters.wait(nextOffset, timeoutMs);
    this.server.wakeup();
    return status;
  }

  /**
   * What a master does after every put (Java CommitLog.submitReplicaRequest): wake the transfer and,
   * on a SYNC_MASTER when the producer waits (WAIT != "false"), wait for a slave's ack. A failed
   * replication status replaces PUT_OK or FLUSH_DISK_TIMEOUT, as Java's thenCombine does. Puts
   * that did not append, and everything on a slave, pass through unchanged.
   */
  awaitReplication(result: PutMessageResult, waitStoreMsgOK: boolean): MaybePromise<PutMessageResult> {
    if (this.server === undefined || result.wroteBytes <= 0) return result;
    if (result.status !== "PUT_OK" && result.status !== "FLUSH_DISK_TIMEOUT") return result;
    if (this.role !== "SYNC_MASTER" || !waitStoreMsgOK) {
      this.server.wakeup();
      return result;
    }
    return this.waitForSlaveAck(result.wroteOffset + result.wroteBytes).then((status) => this.withReplicationStatus(result, status));
  }

  /** A failed replication status replaces the put's status, with a remark saying the message is stored. */
  private withReplicationStatus(result: PutMessageResult, status: SlaveAckStatus): PutMessageResult {
    if (status === "SLAVE_NOT_AVAILABLE") {
      return { ...result, status, remark: "no slave is connected, or it is more than haSlaveFallbehindMax behind; the message is stored on the master" };
    }
    if (status === "FLUSH_SLAVE_TIMEOUT") {
      return { ...result, status, remark: `no slave acknowledged within slaveTimeout ${this.config.slaveTimeout} ms; the message is stored on the master` };
    }
    return result;
  }

  getRuntimeInfo(): HARuntimeInfo {
    const masterPutWhere = this.store.getMaxPhyOffset();
    const connections = this.server?.runtimeInfo(masterPutWhere) ?? [];
    return {
      master: this.role !== "SLAVE",
      masterCommitLogMaxOffset: this.role !== "SLAVE" ? masterPutWhere : 0,
      inSyncSlaveNums: connections.filter((connection) => connection.inSync).length,
      haConnectionInfo: connections,
      haClientRuntimeInfo: this.client?.runtimeInfo() ?? {
        masterAddr: "",
        maxOffset: 0,
        lastReadTimestamp: 0,
        lastWriteTimestamp: 0,
        isActivated: false,
      },
    };
  }
}
