// Every limit and default shared across modules, as a named constant with its unit in the name.
// Module-private limits live beside their code; these are the ones more than one module reads.

/** Largest frame accepted, length prefix included (Java `com.rocketmq.remoting.frameMaxLength`). */
export const FRAME_MAX_SIZE_BYTES = 16_777_216;

/** Connections with no read and no write for this long are closed (`serverChannelMaxIdleTimeSeconds`). */
export const CHANNEL_MAX_IDLE_MS = 120_000;

/** Default NameServer port. */
export const NAMESRV_DEFAULT_PORT = 9876;

/** Default broker main port; the VIP port is this minus 2, HA this plus 1. */
export const BROKER_DEFAULT_PORT = 10911;
