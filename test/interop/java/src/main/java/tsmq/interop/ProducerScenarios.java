package tsmq.interop;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyContext;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.ConsumeOrderlyContext;
import org.apache.rocketmq.client.consumer.listener.ConsumeOrderlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerOrderly;
import org.apache.rocketmq.client.hook.SendMessageContext;
import org.apache.rocketmq.client.hook.SendMessageHook;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.MessageQueueSelector;
import org.apache.rocketmq.client.producer.SendCallback;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.common.sysflag.MessageSysFlag;

/** Producer scenarios: send modes and message features, each checked by consuming what was sent. */
final class ProducerScenarios {
    /** Queues of an auto-created topic (the broker's defaultTopicQueueNums). */
    private static final int DEFAULT_QUEUE_COUNT = 4;

    private ProducerScenarios() {}

    static void register(Map<String, Scenario> all) {
        all.put("producer.sync", ProducerScenarios::sync);
        all.put("producer.async", ProducerScenarios::async);
        all.put("producer.oneway", ProducerScenarios::oneway);
        all.put("producer.batch", ProducerScenarios::batch);
        all.put("producer.orderly", ProducerScenarios::orderly);
        all.put("producer.properties", ProducerScenarios::properties);
        all.put("producer.compressed", ProducerScenarios::compressed);
        all.put("producer.failover", ProducerScenarios::failover);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(MessageExt m) {
        return new String(m.getBody(), StandardCharsets.UTF_8);
    }

    /**
     * A concurrent push consumer from the first offset that collects every delivery until
     * {@code distinct} different bodies arrived; gives all deliveries (duplicates included).
     */
    static List<MessageExt> consumeAll(Args args, String topic, String group, int distinct) throws Exception {
        Set<String> bodies = ConcurrentHashMap.newKeySet();
        ConcurrentLinkedQueue<MessageExt> deliveries = new ConcurrentLinkedQueue<>();
        DefaultMQPushConsumer consumer = Clients.pushConsumer(args, group);
        consumer.subscribe(topic, "*");
        consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        consumer.registerMessageListener((List<MessageExt> msgs, ConsumeConcurrentlyContext ctx) -> {
            for (MessageExt m : msgs) {
                deliveries.add(m);
                bodies.add(text(m) + "#" + Arrays.hashCode(m.getBody()));
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        consumer.start();
        try {
            Waits.until(distinct + " distinct bodies on " + topic, args.number("timeoutMs", 30_000), () -> bodies.size() >= distinct);
        } finally {
            consumer.shutdown();
        }
        return new ArrayList<>(deliveries);
    }

    /** The common outcome: sends that succeeded, distinct bodies consumed, deliveries in all. */
    private static Map<String, Object> counts(int sentOk, List<MessageExt> got) {
        Set<String> distinct = ConcurrentHashMap.newKeySet();
        for (MessageExt m : got) distinct.add(text(m));
        return Out.map("sentOk", sentOk, "distinct", distinct.size(), "deliveries", got.size());
    }

    /** {@code count} sync sends; a push consumer from the first offset gets each body exactly once. */
    static void sync(Args args, Out out) throws Exception {
        String topic = args.str("topic");
        int count = args.integer("count", 100);
        DefaultMQProducer producer = Clients.producer(args, "sync_producer");
        producer.start();
        int ok = 0;
        for (int i = 0; i < count; i++) {
            SendResult r = producer.send(new Message(topic, "TagA", "k" + i, utf8("body-" + i)));
            if (r.getSendStatus() == SendStatus.SEND_OK) ok++;
        }
        producer.shutdown();
        out.event("sent", "ok", ok);
        out.result(counts(ok, consumeAll(args, topic, "sync_consumer", count)));
    }

    /** {@code count} async sends in flight together; every callback is onSuccess and each body is consumed once. */
    static void async(Args args, Out out) throws Exception {
        String topic = args.str("topic");
        int count = args.integer("count", 100);
        DefaultMQProducer producer = Clients.producer(args, "async_producer");
        producer.start();
        AtomicInteger ok = new AtomicInteger();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        CountDownLatch done = new CountDownLatch(count);
        for (int i = 0; i < count; i++) {
            producer.send(new Message(topic, "TagA", "k" + i, utf8("async-" + i)), new SendCallback() {
                @Override
                public void onSuccess(SendResult r) {
                    if (r.getSendStatus() == SendStatus.SEND_OK) ok.incrementAndGet();
                    done.countDown();
                }

                @Override
                public void onException(Throwable e) {
                    failures.add(String.valueOf(e));
                    done.countDown();
                }
            });
        }
        if (!done.await(args.number("timeoutMs", 30_000), TimeUnit.MILLISECONDS)) throw new IllegalStateException("async callbacks missing: " + done.getCount());
        producer.shutdown();
        out.event("sent", "ok", ok.get(), "failures", failures);
        Map<String, Object> result = counts(ok.get(), consumeAll(args, topic, "async_consumer", count));
        result.put("failures", failures.size());
        out.result(result);
    }

    /** {@code count} oneway sends (no answer to wait for); the consumer gets each body once. */
    static void oneway(Args args, Out out) throws Exception {
        String topic = args.str("topic");
        int count = args.integer("count", 100);
        DefaultMQProducer producer = Clients.producer(args, "oneway_producer");
        producer.start();
        for (int i = 0; i < count; i++) producer.sendOneway(new Message(topic, "TagA", "k" + i, utf8("oneway-" + i)));
        out.event("sent", "count", count);
        List<MessageExt> got = consumeAll(args, topic, "oneway_consumer", count);
        producer.shutdown();
        out.result(counts(count, got));
    }

    /** {@code batches} × {@code batchSize} messages sent with send(Collection); one SEND_OK per batch, each body consumed once. */
    static void batch(Args args, Out out) throws Exception {
        String topic = args.str("topic");
        int batches = args.integer("batches", 10);
        int batchSize = args.integer("batchSize", 20);
        DefaultMQProducer producer = Clients.producer(args, "batch_producer");
        producer.start();
        int ok = 0;
        int ids = 0;
        for (int b = 0; b < batches; b++) {
            List<Message> msgs = new ArrayList<>();
            for (int i = 0; i < batchSize; i++) msgs.add(new Message(topic, "TagB", "k" + b + "-" + i, utf8("batch-" + b + "-" + i)));
            SendResult r = producer.send(msgs);
            if (r.getSendStatus() == SendStatus.SEND_OK) ok++;
            ids += r.getMsgId().split(",").length;
        }
        producer.shutdown();
        List<MessageExt> got = consumeAll(args, topic, "batch_consumer", batches * batchSize);
        Map<String, Object> result = counts(ok, got);
        result.put("msgIds", ids);
        // Members of one batch land in one queue at consecutive offsets.
        Map<String, Integer> queuesPerBatch = new HashMap<>();
        Map<String, Set<Integer>> seen = new HashMap<>();
        for (MessageExt m : got) {
            String batch = text(m).substring(0, text(m).lastIndexOf('-'));
            seen.computeIfAbsent(batch, k -> ConcurrentHashMap.newKeySet()).add(m.getQueueId());
        }
        seen.forEach((k, v) -> queuesPerBatch.put(k, v.size()));
        result.put("batchesInOneQueue", queuesPerBatch.values().stream().filter(n -> n == 1).count());
        out.result(result);
    }

    /**
     * {@code orders} × {@code steps} messages sent with a MessageQueueSelector (queue = order id mod
     * queue count), interleaved across orders; an orderly consumer must see every order's steps in
     * sending order, all in the selected queue.
     */
    static void orderly(Args args, Out out) throws Exception {
        String topic = args.str("topic");
        int orders = args.integer("orders", 8);
        int steps = args.integer("steps", 10);
        DefaultMQProducer producer = Clients.producer(args, "orderly_producer");
        producer.start();
        MessageQueueSelector byOrder = (List<MessageQueue> mqs, Message msg, Object arg) -> mqs.get((Integer) arg % mqs.size());
        int ok = 0;
        int wrongQueue = 0;
        for (int s = 0; s < steps; s++) {
            for (int o = 0; o < orders; o++) {
                SendResult r = producer.send(new Message(topic, "TagO", "order-" + o, utf8(o + ":" + s)), byOrder, o);
                if (r.getSendStatus() == SendStatus.SEND_OK) ok++;
                if (r.getMessageQueue().getQueueId() != o % DEFAULT_QUEUE_COUNT) wrongQueue++;
            }
        }
        producer.shutdown();

        Map<Integer, List<Integer>> stepsByOrder = new ConcurrentHashMap<>();
        Map<Integer, Set<Integer>> queuesByOrder = new ConcurrentHashMap<>();
        AtomicInteger deliveries = new AtomicInteger();
        DefaultMQPushConsumer consumer = Clients.pushConsumer(args, "orderly_consumer");
        consumer.subscribe(topic, "*");
        consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        consumer.registerMessageListener((MessageListenerOrderly) (List<MessageExt> msgs, ConsumeOrderlyContext ctx) -> {
            for (MessageExt m : msgs) {
                String[] parts = text(m).split(":");
                int o = Integer.parseInt(parts[0]);
                stepsByOrder.computeIfAbsent(o, k -> java.util.Collections.synchronizedList(new ArrayList<>())).add(Integer.parseInt(parts[1]));
                queuesByOrder.computeIfAbsent(o, k -> ConcurrentHashMap.newKeySet()).add(m.getQueueId());
                deliveries.incrementAndGet();
            }
            return ConsumeOrderlyStatus.SUCCESS;
        });
        consumer.start();
        Waits.until(orders * steps + " deliveries", args.number("timeoutMs", 30_000), () -> deliveries.get() >= orders * steps);
        consumer.shutdown();
        int inOrder = 0;
        int inOneQueue = 0;
        for (int o = 0; o < orders; o++) {
            List<Integer> seen = stepsByOrder.getOrDefault(o, List.of());
            List<Integer> expected = new ArrayList<>();
            for (int s = 0; s < steps; s++) expected.add(s);
            if (seen.equals(expected)) inOrder++;
            if (queuesByOrder.getOrDefault(o, Set.of()).equals(Set.of(o % DEFAULT_QUEUE_COUNT))) inOneQueue++;
        }
        out.result(Out.map("sentOk", ok, "wrongQueue", wrongQueue, "deliveries", deliveries.get(), "ordersInOrder", inOrder, "ordersInSelectedQueue", inOneQueue));
    }

    /** What a message carries besides its body, for comparing sent and consumed. */
    private static Map<String, Object> features(Message m) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("tags", m.getTags());
        f.put("keys", m.getKeys());
        f.put("user", new TreeMap<>(userProperties(m)));
        return f;
    }

    private static Map<String, String> userProperties(Message m) {
        Map<String, String> user = new TreeMap<>();
        for (Map.Entry<String, String> e : m.getProperties().entrySet()) {
            if (e.getKey().startsWith("u.")) user.put(e.getKey(), e.getValue());
        }
        return user;
    }

    /**
     * {@code count} messages each with its own tag, several keys and user properties (spaces,
     * punctuation, non-ASCII); the consumer sees the same tags, keys and properties.
     */
    static void properties(Args args, Out out) throws Exception {
        String topic = args.str("topic");
        int count = args.integer("count", 20);
        DefaultMQProducer producer = Clients.producer(args, "props_producer");
        producer.start();
        Map<String, Map<String, Object>> sent = new HashMap<>();
        int ok = 0;
        for (int i = 0; i < count; i++) {
            Message m = new Message(topic, "tag-" + i, utf8("props-" + i));
            m.setKeys(List.of("key-" + i, "order-" + (i % 3), "ключ-" + i));
            m.putUserProperty("u.index", Integer.toString(i));
            m.putUserProperty("u.text", "a b=c:d;e,f/" + i);
            m.putUserProperty("u.unicode", "größe-大小-" + i);
            sent.put("props-" + i, features(m));
            if (producer.send(m).getSendStatus() == SendStatus.SEND_OK) ok++;
        }
        producer.shutdown();
        List<MessageExt> got = consumeAll(args, topic, "props_consumer", count);
        int matching = 0;
        List<Object> mismatches = new ArrayList<>();
        for (MessageExt m : got) {
            Map<String, Object> expected = sent.get(text(m));
            if (features(m).equals(expected)) matching++;
            else mismatches.add(Out.map("body", text(m), "expected", expected, "got", features(m)));
        }
        Map<String, Object> result = counts(ok, got);
        result.put("matching", matching);
        result.put("mismatches", mismatches);
        out.result(result);
    }

    /** A body of {@code size} bytes that zlib shrinks (words from a small vocabulary), different per seed. */
    private static byte[] compressibleBody(int size, long seed) {
        String[] words = {"alpha ", "beta ", "gamma ", "delta ", "epsilon ", "zeta ", "eta ", "theta "};
        Random rnd = new Random(seed);
        StringBuilder sb = new StringBuilder(size + 16);
        sb.append(seed).append(':');
        while (sb.length() < size) sb.append(words[rnd.nextInt(words.length)]);
        return Arrays.copyOf(utf8(sb.toString()), size);
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    /**
     * Bodies over the producer's compressMsgBodyOverHowmuch (4 KiB) go out zlib-compressed with the
     * compressed sysFlag; the consumer must get the exact original bytes back.
     */
    static void compressed(Args args, Out out) throws Exception {
        String topic = args.str("topic");
        int[] sizes = {4097, 16 * 1024, 256 * 1024, 1024 * 1024};
        DefaultMQProducer producer = Clients.producer(args, "compress_producer");
        producer.start();
        Map<String, String> sentDigests = new HashMap<>();
        int ok = 0;
        for (int i = 0; i < sizes.length; i++) {
            byte[] body = compressibleBody(sizes[i], i);
            sentDigests.put(Integer.toString(i), sha256(body));
            Message m = new Message(topic, "TagZ", Integer.toString(i), body);
            if (producer.send(m).getSendStatus() == SendStatus.SEND_OK) ok++;
        }
        producer.shutdown();
        List<MessageExt> got = consumeAll(args, topic, "compress_consumer", sizes.length);
        int exact = 0;
        int flagged = 0;
        int storedSmaller = 0;
        for (MessageExt m : got) {
            if (sha256(m.getBody()).equals(sentDigests.get(m.getKeys()))) exact++;
            if ((m.getSysFlag() & MessageSysFlag.COMPRESSED_FLAG) != 0) flagged++;
            if (m.getStoreSize() < m.getBody().length) storedSmaller++;
        }
        out.result(Out.map("sentOk", ok, "deliveries", got.size(), "exactBodies", exact, "compressedFlag", flagged, "storedSmaller", storedSmaller));
    }

    /**
     * Sync sends over a topic on two brokers; after {@code count}/2 sends the driver stops
     * {@code stopBroker} (we wait for "stopped"), the rest must all succeed on the other broker
     * through the producer's retries within sendMsgTimeout. After the driver restarts the stopped
     * broker ("restarted"), a consumer gets every message exactly once. A send hook counts the
     * attempts that failed (and were retried), per broker.
     */
    static void failover(Args args, Out out) throws Exception {
        String topic = args.str("topic");
        int count = args.integer("count", 100);
        String stopBroker = args.str("stopBroker");
        DefaultMQProducer producer = Clients.producer(args, "failover_producer");
        producer.setSendMsgTimeout(args.integer("sendMsgTimeout", 3_000));
        producer.setRetryTimesWhenSendFailed(args.integer("retries", 2));
        Map<String, Integer> failedAttempts = new ConcurrentHashMap<>();
        producer.getDefaultMQProducerImpl().registerSendMessageHook(new SendMessageHook() {
            @Override
            public String hookName() {
                return "failedAttempts";
            }

            @Override
            public void sendMessageBefore(SendMessageContext ctx) {}

            @Override
            public void sendMessageAfter(SendMessageContext ctx) {
                if (ctx.getException() != null) failedAttempts.merge(ctx.getMq().getBrokerName(), 1, Integer::sum);
            }
        });
        producer.start();
        // Create the topic on every broker that serves TBW102, so both brokers get half of it.
        producer.createTopic("TBW102", topic, DEFAULT_QUEUE_COUNT);
        Waits.until("route of " + topic + " on two brokers", 15_000, () -> brokersOf(producer, topic) == 2);
        Map<String, Integer> before = new TreeMap<>();
        Map<String, Integer> after = new TreeMap<>();
        int ok = 0;
        for (int i = 0; i < count; i++) {
            if (i == count / 2) {
                out.event("half", "sent", i);
                out.awaitWord("stopped", 30_000);
            }
            SendResult r = producer.send(new Message(topic, "TagF", "k" + i, utf8("failover-" + i)));
            if (r.getSendStatus() == SendStatus.SEND_OK) ok++;
            (i < count / 2 ? before : after).merge(r.getMessageQueue().getBrokerName(), 1, Integer::sum);
        }
        producer.shutdown();
        out.event("sent", "ok", ok, "before", before, "after", after);
        out.awaitWord("restarted", 30_000);
        Map<String, Object> result = counts(ok, consumeAll(args, topic, "failover_consumer", count));
        result.put("before", before);
        result.put("after", after);
        result.put("failedAttempts", new TreeMap<>(failedAttempts));
        out.result(result);
    }

    private static int brokersOf(DefaultMQProducer producer, String topic) {
        try {
            Set<String> names = ConcurrentHashMap.newKeySet();
            for (MessageQueue mq : producer.fetchPublishMessageQueues(topic)) names.add(mq.getBrokerName());
            return names.size();
        } catch (Exception e) {
            return 0;
        }
    }
}
