package tsmq.interop;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.LocalTransactionState;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.client.producer.TransactionListener;
import org.apache.rocketmq.client.producer.TransactionMQProducer;
import org.apache.rocketmq.client.producer.TransactionSendResult;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;

/** Delayed messages (delay levels) and transactional messages (commit, rollback, check-back). */
final class DelayTransactionScenarios {
    private DelayTransactionScenarios() {}

    static void register(Map<String, Scenario> all) {
        all.put("delay.levels", DelayTransactionScenarios::delayLevels);
        all.put("tx.outcomes", DelayTransactionScenarios::transactionOutcomes);
    }

    private static String body(MessageExt m) {
        return new String(m.getBody(), StandardCharsets.UTF_8);
    }

    /** A push consumer from the first offset that records each message as it arrives. */
    private static DefaultMQPushConsumer recordingConsumer(Args args, String group, String topic, List<MessageExt> arrived, Map<String, Long> arrivedAtMs) throws Exception {
        DefaultMQPushConsumer consumer = Clients.pushConsumer(args, group);
        consumer.subscribe(topic, "*");
        consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        consumer.registerMessageListener((List<MessageExt> msgs, org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyContext ctx) -> {
            long now = System.currentTimeMillis();
            for (MessageExt m : msgs) {
                arrivedAtMs.putIfAbsent(body(m), now);
                arrived.add(m);
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        consumer.start();
        return consumer;
    }

    /**
     * One message per delay level in {@code levels} (comma separated), sent in one burst; per level
     * the result gives the time from just before its send to its arrival at a push consumer and to
     * its store time in the real topic, and the arrival order. The driver checks them against the
     * broker's messageDelayLevel.
     */
    static void delayLevels(Args args, Out out) throws Exception {
        String topic = args.str("topic");
        List<Integer> levels = new ArrayList<>();
        for (String s : args.str("levels").split(",")) levels.add(Integer.parseInt(s.trim()));
        List<MessageExt> arrived = new CopyOnWriteArrayList<>();
        Map<String, Long> arrivedAtMs = new ConcurrentHashMap<>();
        DefaultMQProducer producer = Clients.producer(args, "delay_producer");
        producer.start();
        // A first plain message creates the topic, so the consumer's rebalance owns its queues before the delayed ones are due.
        producer.send(new Message(topic, "warmup".getBytes(StandardCharsets.UTF_8)));
        DefaultMQPushConsumer consumer = recordingConsumer(args, Clients.group(args, "delay_consumer"), topic, arrived, arrivedAtMs);
        Waits.until("the warm-up message", 30_000, () -> arrivedAtMs.containsKey("warmup"));

        Map<String, Long> sentAtMs = new TreeMap<>();
        for (int level : levels) {
            Message m = new Message(topic, ("level-" + level).getBytes(StandardCharsets.UTF_8));
            m.setDelayTimeLevel(level);
            long before = System.currentTimeMillis();
            SendResult r = producer.send(m);
            if (r.getSendStatus() != SendStatus.SEND_OK) throw new IllegalStateException("send level " + level + ": " + r);
            sentAtMs.put("level-" + level, before);
        }
        out.event("sent", "levels", levels.size());
        Waits.until(levels.size() + " delayed messages", args.number("timeoutMs", 60_000), () -> arrived.size() >= levels.size() + 1);
        consumer.shutdown();
        producer.shutdown();

        Map<String, Long> arrivalDelayMs = new TreeMap<>();
        Map<String, Long> storeDelayMs = new TreeMap<>();
        List<String> order = new ArrayList<>();
        for (MessageExt m : arrived) {
            String b = body(m);
            if (b.equals("warmup")) continue;
            order.add(b);
            arrivalDelayMs.put(b, arrivedAtMs.get(b) - sentAtMs.get(b));
            storeDelayMs.put(b, m.getStoreTimestamp() - sentAtMs.get(b));
        }
        out.result(Out.map("received", arrived.size() - 1, "order", order, "arrivalDelayMs", arrivalDelayMs, "storeDelayMs", storeDelayMs));
    }

    /** Local transaction outcome by the message's key prefix; the check-back commits "unknown-" ones. */
    private static final class KeyedOutcomes implements TransactionListener {
        final Set<String> checkedKeys = ConcurrentHashMap.newKeySet();
        final AtomicInteger checks = new AtomicInteger();

        @Override
        public LocalTransactionState executeLocalTransaction(Message msg, Object arg) {
            String key = msg.getKeys();
            if (key.startsWith("commit-")) return LocalTransactionState.COMMIT_MESSAGE;
            if (key.startsWith("rollback-")) return LocalTransactionState.ROLLBACK_MESSAGE;
            return LocalTransactionState.UNKNOW;
        }

        @Override
        public LocalTransactionState checkLocalTransaction(MessageExt msg) {
            checks.incrementAndGet();
            checkedKeys.add(msg.getKeys());
            return msg.getKeys().startsWith("rollback-") ? LocalTransactionState.ROLLBACK_MESSAGE : LocalTransactionState.COMMIT_MESSAGE;
        }
    }

    private static long topicMessageCount(DefaultMQProducer producer, String topic) throws Exception {
        long sum = 0;
        for (MessageQueue mq : producer.fetchPublishMessageQueues(topic)) sum += producer.maxOffset(mq) - producer.minOffset(mq);
        return sum;
    }

    /**
     * {@code perOutcome} transactions each of commit, rollback and unknown (resolved by the broker's
     * check-back as commit), interleaved. Delivered: exactly the commit and unknown ones. Rollback is
     * proven by the topic's offsets: once every committed message arrived, the topic holds exactly
     * those, and the broker's check pass (in half-queue order) has already gone past the rolled-back halves.
     */
    static void transactionOutcomes(Args args, Out out) throws Exception {
        String topic = args.str("topic");
        int perOutcome = args.integer("perOutcome", 3);
        KeyedOutcomes listener = new KeyedOutcomes();
        TransactionMQProducer producer = new TransactionMQProducer(Clients.group(args, "tx_producer"));
        producer.setNamesrvAddr(args.namesrv());
        producer.setVipChannelEnabled(args.flag("vipChannel", false));
        producer.setInstanceName("tx-producer-" + ProcessHandle.current().pid());
        ExecutorService checkPool = Executors.newFixedThreadPool(2);
        producer.setExecutorService(checkPool);
        producer.setTransactionListener(listener);
        producer.start();
        // A plain message first: the topic exists before the consumer subscribes.
        producer.send(new Message(topic, "plain", "plain-0", "plain-0".getBytes(StandardCharsets.UTF_8)));
        List<MessageExt> arrived = new CopyOnWriteArrayList<>();
        DefaultMQPushConsumer consumer = recordingConsumer(args, Clients.group(args, "tx_consumer"), topic, arrived, new ConcurrentHashMap<>());

        Map<String, Integer> localStates = new TreeMap<>();
        for (int i = 0; i < perOutcome; i++) {
            for (String outcome : new String[] {"commit", "rollback", "unknown"}) {
                String key = outcome + "-" + i;
                TransactionSendResult r = producer.sendMessageInTransaction(new Message(topic, "TagT", key, key.getBytes(StandardCharsets.UTF_8)), null);
                if (r.getSendStatus() != SendStatus.SEND_OK) throw new IllegalStateException("half " + key + ": " + r);
                localStates.merge(r.getLocalTransactionState().name(), 1, Integer::sum);
            }
        }
        int expected = 1 + 2 * perOutcome; // the plain message, commits, unknowns committed at check-back
        Waits.until(expected + " delivered messages", args.number("timeoutMs", 60_000), () -> arrived.size() >= expected);
        long inTopic = topicMessageCount(producer, topic);
        consumer.shutdown();
        producer.shutdown();
        checkPool.shutdown();

        Set<String> delivered = new TreeSet<>();
        for (MessageExt m : arrived) delivered.add(body(m));
        out.result(Out.map("localStates", localStates, "deliveries", arrived.size(), "delivered", new ArrayList<>(delivered),
            "messagesInTopic", inTopic, "checkedKeys", new ArrayList<>(new TreeSet<>(listener.checkedKeys)), "checks", listener.checks.get()));
    }
}
