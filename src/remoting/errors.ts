// Errors raised by the remoting layer. Callers branch on the class (and on `retriable`),
// never on message text.

/** Base of every error an invoke can fail with. */
export class RemotingError extends Error {
  override name = "RemotingError";
  /** True when trying again (possibly on another address) may succeed. */
  readonly retriable: boolean;

  constructor(message: string, options: { retriable: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retriable = options.retriable;
  }
}

/** The TCP connection could not be established (refused, unreachable, connect timeout). */
export class RemotingConnectError extends RemotingError {
  override name = "RemotingConnectError";
  constructor(message: string, cause?: unknown) {
    super(message, { retriable: true, cause });
  }
}

/** No response arrived within the invoke's timeout. */
export class RemotingTimeoutError extends RemotingError {
  override name = "RemotingTimeoutError";
  constructor(message: string, cause?: unknown) {
    super(message, { retriable: true, cause });
  }
}

/** The request could not be sent or its response can no longer arrive: connection closed or outbound cap hit. */
export class RemotingSendError extends RemotingError {
  override name = "RemotingSendError";
  constructor(message: string, cause?: unknown) {
    super(message, { retriable: true, cause });
  }
}

/** The byte stream is not a valid frame sequence (oversized or negative length); the connection must close. */
export class FrameError extends Error {
  override name = "FrameError";
}

/**
 * A request refused for what it carries (a bad name, a missing header field): answered with `code`
 * and the message as remark, logged as one warning line, not as a failure of the server.
 */
export class RequestRefusedError extends Error {
  override name = "RequestRefusedError";
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}
