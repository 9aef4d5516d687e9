package tsmq.interop;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyContext;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.exception.MQBrokerException;
import org.apache.rocketmq.client.impl.consumer.DefaultMQPushConsumerImpl;
import org.apache.rocketmq.client.impl.factory.MQClientInstance;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.common.protocol.header.QueryConsumerOffsetRequestHeader;

/**
 * Live clients for mqadmin's connection and progress commands: a producer and a push consumer stay
 * online (heartbeating) until the driver says "stop", so consumerConnection, producerConnection,
 * consumerProgress and resetOffsetByTime see them.
 */
final class AdminScenarios {
    /** How long the clients stay online at most while the driver runs mqadmin commands. */
    private static final long ONLINE_MAX_MS = 900_000;
    /** Between offset commits and broker reads while waiting for the commits to land. */
    private static final long OFFSET_POLL_INTERVAL_MS = 200;
    private static final long BROKER_CALL_TIMEOUT_MS = 3_000;

    private AdminScenarios() {}

    static void register(Map<String, Scenario> all) {
        all.put("admin.liveClients", AdminScenarios::liveClients);
    }

    /**
     * Sends {@code count} keyed messages, consumes them all, prints EVENT ready with the first
     * message's ids, then keeps both clients online until the driver writes "stop".
     */
    static void liveClients(Args args, Out out) throws Exception {
        String topic = args.str("topic");
        int count = args.integer("count", 10);
        DefaultMQProducer producer = Clients.producer(args, args.str("producerGroup"));
        producer.start();
        SendResult first = null;
        int ok = 0;
        for (int i = 0; i < count; i++) {
            SendResult r = producer.send(new Message(topic, "TagA", "key-" + i, ("body-" + i).getBytes(StandardCharsets.UTF_8)));
            if (r.getSendStatus() == SendStatus.SEND_OK) ok++;
            if (first == null) first = r;
        }
        AtomicInteger consumed = new AtomicInteger();
        DefaultMQPushConsumer consumer = Clients.pushConsumer(args, args.str("consumerGroup"));
        consumer.subscribe(topic, "*");
        consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        consumer.registerMessageListener((List<MessageExt> msgs, ConsumeConcurrentlyContext ctx) -> {
            consumed.addAndGet(msgs.size());
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        consumer.start();
        Waits.until(count + " messages consumed", args.number("timeoutMs", 30_000), () -> consumed.get() >= count);
        awaitOffsetsCommitted(consumer, topic, count, args.number("timeoutMs", 30_000));
        out.event("ready",
            "sentOk", ok,
            "offsetMsgId", first.getOffsetMsgId(),
            "uniqKey", first.getMsgId(),
            "key", "key-0",
            "brokerName", first.getMessageQueue().getBrokerName(),
            "queueId", first.getMessageQueue().getQueueId(),
            "queueOffset", first.getQueueOffset());
        out.awaitWord("stop", ONLINE_MAX_MS);
        consumer.shutdown();
        producer.shutdown();
        out.result(Out.map("sentOk", ok, "consumed", consumed.get()));
    }

    /**
     * consumerProgress lists the queues the broker holds offsets for: commit now (the client does
     * it only every 5 s) and wait until the broker has an offset for every assigned queue, retry
     * queue included, and the topic's offsets add up to {@code count}.
     */
    private static void awaitOffsetsCommitted(DefaultMQPushConsumer consumer, String topic, int count, long timeoutMs) throws Exception {
        DefaultMQPushConsumerImpl impl = consumer.getDefaultMQPushConsumerImpl();
        MQClientInstance factory = impl.getmQClientFactory();
        long deadline = System.currentTimeMillis() + timeoutMs;
        for (;;) {
            Set<MessageQueue> mqs = new HashSet<>(impl.getRebalanceImpl().getProcessQueueTable().keySet());
            impl.getOffsetStore().persistAll(mqs);
            long sum = 0;
            boolean all = !mqs.isEmpty();
            for (MessageQueue mq : mqs) {
                long offset = brokerOffset(factory, consumer.getConsumerGroup(), mq);
                if (offset < 0) all = false;
                else if (mq.getTopic().equals(topic)) sum += offset;
            }
            if (all && sum == count) return;
            if (System.currentTimeMillis() > deadline) throw new IllegalStateException("consumer offsets not committed within " + timeoutMs + " ms (topic sum " + sum + ")");
            Thread.sleep(OFFSET_POLL_INTERVAL_MS);
        }
    }

    /** The broker's committed offset of one queue, -1 when it has none. */
    private static long brokerOffset(MQClientInstance factory, String group, MessageQueue mq) throws Exception {
        String addr = factory.findBrokerAddressInPublish(mq.getBrokerName());
        QueryConsumerOffsetRequestHeader header = new QueryConsumerOffsetRequestHeader();
        header.setConsumerGroup(group);
        header.setTopic(mq.getTopic());
        header.setQueueId(mq.getQueueId());
        try {
            return factory.getMQClientAPIImpl().queryConsumerOffset(addr, header, BROKER_CALL_TIMEOUT_MS);
        } catch (MQBrokerException notFound) {
            return -1;
        }
    }
}
