// Outbound side of an HA socket. Bun's socket.write is unbuffered (it returns how much the kernel
// took), so unwritten bytes wait here, as views (no copies), until the `drain` handler resumes them.
// The queue is capped: HA senders produce the next frame only when the previous one is out, so the
// cap is never reached by a healthy peer.

import type { Socket } from "bun";

/** Most chunks held per connection: a frame is a header and a data view, reports are single chunks. */
const QUEUE_MAX_CHUNKS = 64;

export class HASocketWriter {
  private readonly queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private closed = false;

  constructor(
    private readonly socket: Socket<unknown>,
    /** Unwritten bytes allowed before write() refuses (the caller then closes the connection). */
    private readonly maxQueuedBytes: number,
    /** Called with the byte count each time the kernel takes some. */
    private readonly onWritten: (bytes: number) => void,
  ) {}

  /** True when every byte handed over has reached the kernel. */
  isIdle(): boolean {
    return this.queue.length === 0;
  }

  /** Sends `bytes` or queues what the kernel did not take; false when closed or over the cap. */
  write(bytes: Uint8Array): boolean {
    if (this.closed) return false;
    if (bytes.length === 0) return true;
    if (this.queue.length > 0) return this.enqueue(bytes);
    const written = this.socket.write(bytes);
    if (written < 0) {
      this.closed = true;
      return false;
    }
    if (written > 0) this.onWritten(written);
    return written === bytes.length || this.enqueue(bytes.subarray(written));
  }

  /** From the socket's drain handler: pushes queued bytes; false when the socket is closed. */
  drain(): boolean {
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      const written = this.socket.write(head);
      if (written < 0) {
        this.closed = true;
        return false;
      }
      if (written > 0) this.onWritten(written);
      this.queuedBytes -= written;
      if (written < head.length) {
        this.queue[0] = head.subarray(written);
        return true;
      }
      this.queue.shift();
    }
    return true;
  }

  /** Drops queued bytes (their views may pin mapped segments) and refuses further writes. */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.queuedBytes = 0;
  }

  private enqueue(bytes: Uint8Array): boolean {
    if (this.queue.length >= QUEUE_MAX_CHUNKS || this.queuedBytes + bytes.length > this.maxQueuedBytes) return false;
    this.queue.push(bytes);
    this.queuedBytes += bytes.length;
    return true;
  }
}
