// Package entry for Bun and Node users: the tsmq client library.

export { Producer, selectByHash, type ProducerOptions, type SendResult, type SendStatus, type MessageQueueSelector } from "./client/producer.ts";
export {
  PushConsumer,
  type PushConsumerOptions,
  type ConsumeFromWhere,
  type ConsumeConcurrentlyStatus,
  type ConsumeOrderlyStatus,
  type ConcurrentListener,
  type OrderlyListener,
  type ConcurrentContext,
  type OrderlyContext,
} from "./client/push-consumer.ts";
export { createReplyMessage, RequestTimeoutError, type ReplyMessage, type RequestCallback } from "./client/request-reply.ts";
export { PullConsumer, type PullConsumerOptions } from "./client/pull-consumer.ts";
export {
  TransactionProducer,
  type TransactionProducerOptions,
  type TransactionListener,
  type TransactionMessage,
  type TransactionSendResult,
  type LocalTransactionState,
} from "./client/transaction-producer.ts";
export { AdminClient, type ClusterInfo, type TopicConfigInput, type QueueStats, type ConsumeProgress } from "./client/admin.ts";
export { allocateAveragely, allocateByCircle, type AllocateStrategy } from "./client/allocate.ts";
export { MQClientError, MQBrokerError } from "./client/errors.ts";
export type { MessageInput } from "./client/message-builder.ts";
export type { ConsumedMessage } from "./client/consumed-message.ts";
export type { MessageQueue } from "./client/message-queue.ts";
export type { ClientConfig, ClientLogger } from "./client/client-config.ts";
export type { MessageModel } from "./client/rebalance.ts";
export type { PullResult, PullStatus } from "./client/broker-api.ts";
export { RemotingError, RemotingConnectError, RemotingTimeoutError, RemotingSendError } from "./remoting/errors.ts";
