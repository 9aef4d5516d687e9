// What the consume services (concurrent, orderly) need from their push consumer.

import type { ClientInstance } from "./instance.ts";
import type { OffsetStore } from "./offset-store.ts";
import type { MessageModel } from "./rebalance.ts";
import type { RetrySender } from "./retry-sender.ts";

export interface ConsumeHost {
  readonly group: string;
  readonly messageModel: MessageModel;
  readonly inst: ClientInstance;
  readonly offsetStore: OffsetStore;
  readonly retry: RetrySender;
  /** False once shutdown began. */
  isRunning(): boolean;
  /** Sleeps, waking early at shutdown. */
  pause(ms: number): Promise<void>;
}
