// Queue allocation strategies for clustering consumers (protocol doc 6.7). Both inputs must be
// sorted the same way on every consumer, so every member computes the same disjoint split.

import type { MessageQueue } from "./message-queue.ts";

export type AllocateStrategy = (group: string, clientId: string, mqAll: MessageQueue[], cidAll: string[]) => MessageQueue[];

/** AllocateMessageQueueAveragely: contiguous blocks, the first `n % c` consumers get one extra. */
export const allocateAveragely: AllocateStrategy = (_group, clientId, mqAll, cidAll) => {
  const index = cidAll.indexOf(clientId);
  if (index < 0 || mqAll.length === 0) return [];
  const n = mqAll.length;
  const c = cidAll.length;
  const mod = n % c;
  const size = n <= c ? 1 : mod > 0 && index < mod ? Math.floor(n / c) + 1 : Math.floor(n / c);
  const start = mod > 0 && index < mod ? index * size : index * size + mod;
  const range = Math.min(size, n - start);
  const result: MessageQueue[] = [];
  for (let i = 0; i < range; i++) result.push(mqAll[(start + i) % n]!);
  return result;
};

/** AllocateMessageQueueAveragelyByCircle: queue k goes to consumer k % c. */
export const allocateByCircle: AllocateStrategy = (_group, clientId, mqAll, cidAll) => {
  const index = cidAll.indexOf(clientId);
  if (index < 0) return [];
  const result: MessageQueue[] = [];
  for (let i = index; i < mqAll.length; i += cidAll.length) result.push(mqAll[i]!);
  return result;
};
