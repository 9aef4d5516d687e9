package tsmq.interop;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;

/** Producer scenarios: send modes and message features, each checked by consuming what was sent. */
final class ProducerScenarios {
    private ProducerScenarios() {}

    static void register(Map<String, Scenario> all) {
        all.put("producer.sync", ProducerScenarios::sync);
    }

    /** {@code count} sync sends; a push consumer from the first offset gets each body exactly once. */
    static void sync(Args args, Out out) throws Exception {
        String topic = args.str("topic");
        int count = args.integer("count", 100);
        DefaultMQProducer producer = Clients.producer(args, "sync_producer");
        producer.start();
        int ok = 0;
        for (int i = 0; i < count; i++) {
            SendResult r = producer.send(new Message(topic, "TagA", "k" + i, ("body-" + i).getBytes(StandardCharsets.UTF_8)));
            if (r.getSendStatus() == SendStatus.SEND_OK) ok++;
        }
        producer.shutdown();
        out.event("sent", "ok", ok);

        Set<String> seen = ConcurrentHashMap.newKeySet();
        AtomicInteger deliveries = new AtomicInteger();
        DefaultMQPushConsumer consumer = Clients.pushConsumer(args, "sync_consumer");
        consumer.subscribe(topic, "*");
        consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        consumer.registerMessageListener((java.util.List<MessageExt> msgs, org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyContext ctx) -> {
            for (MessageExt m : msgs) {
                deliveries.incrementAndGet();
                seen.add(new String(m.getBody(), StandardCharsets.UTF_8));
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        consumer.start();
        Waits.until(count + " distinct bodies", args.number("timeoutMs", 30_000), () -> seen.size() >= count);
        consumer.shutdown();
        out.result(Out.map("sentOk", ok, "distinct", seen.size(), "deliveries", deliveries.get()));
    }
}
