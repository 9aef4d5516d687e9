// Local host facts used as config defaults (Java: RemotingUtil.getLocalAddress, localHostName).

import os from "node:os";

/** First non-internal IPv4 address of this host, or undefined. */
export function localIPv4(): string | undefined {
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const a of addresses ?? []) {
      if (a.family === "IPv4" && !a.internal) return a.address;
    }
  }
  return undefined;
}

/** First non-internal IPv4 address, else 127.0.0.1 (what a broker and a client id use by default). */
export function localIPv4Address(): string {
  return localIPv4() ?? "127.0.0.1";
}

/** Host name, the Java default brokerName; "DEFAULT_BROKER" when unknown, like Java. */
export function localHostName(): string {
  return os.hostname() || "DEFAULT_BROKER";
}
