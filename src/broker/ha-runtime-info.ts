// HA keys of GET_BROKER_RUNTIME_INFO. Java 4.9 reports none (its HA state is only logged, e.g.
// "Slave fall behind master: N bytes"); tsmq adds these so replication lag can be watched:
//   every role: haRole
//   master: haSlaveCount (connected slaves), haInSyncSlaveCount (less than haSlaveFallbehindMax
//           behind), haMasterPutWhere (commit-log end), haSlaveAckOffset (highest offset a slave
//           confirmed, Java push2SlaveMaxOffset), haSlaveFallBehindBytes (the difference)
//   slave:  haMasterAddress (HA address in use, "" before one is known), haMasterConnected,
//           haSlaveMaxOffset (own commit-log end), haLastReadTimestamp (ms of the last master frame)

import type { HAService } from "../store/ha/ha-service.ts";

export function haRuntimeInfo(ha: HAService): Record<string, string> {
  const info = ha.getRuntimeInfo();
  if (info.master) {
    return {
      haRole: ha.role,
      haSlaveCount: String(ha.connectionCount()),
      haInSyncSlaveCount: String(info.inSyncSlaveNums),
      haMasterPutWhere: String(info.masterCommitLogMaxOffset),
      haSlaveAckOffset: String(ha.getPush2SlaveMaxOffset()),
      haSlaveFallBehindBytes: String(ha.slaveFallBehindMuch()),
    };
  }
  const client = info.haClientRuntimeInfo;
  return {
    haRole: ha.role,
    haMasterAddress: client.masterAddr,
    haMasterConnected: String(client.isActivated),
    haSlaveMaxOffset: String(client.maxOffset),
    haLastReadTimestamp: String(client.lastReadTimestamp),
  };
}
