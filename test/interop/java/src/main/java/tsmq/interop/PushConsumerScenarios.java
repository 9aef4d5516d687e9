package tsmq.interop;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.rocketmq.client.consumer.DefaultMQPullConsumer;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.PullResult;
import org.apache.rocketmq.client.consumer.PullStatus;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyContext;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.ConsumeOrderlyContext;
import org.apache.rocketmq.client.consumer.listener.ConsumeOrderlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.consumer.listener.MessageListenerOrderly;
import org.apache.rocketmq.client.consumer.store.ReadOffsetType;
import org.apache.rocketmq.client.impl.consumer.ProcessQueue;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.MessageQueueSelector;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.MixAll;
import org.apache.rocketmq.common.UtilAll;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageConst;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.common.protocol.heartbeat.MessageModel;

/** Push consumer scenarios: rebalance, broadcasting, orderly, retry and DLQ, start offsets, suspend, batches. */
final class PushConsumerScenarios {
    /** Queues of the scenarios' topics. */
    private static final int QUEUE_COUNT = 4;
    /** Bound on waits for a rebalance to settle (notify + rebalance + lock, on two busy cores). */
    private static final long REBALANCE_TIMEOUT_MS = 30_000;
    /** Orderly consumers that leave wait this long for in-flight consumes before persisting offsets. */
    private static final long AWAIT_TERMINATION_MS = 3_000;

    /** Route poll of consumers that must find a topic created after they started. */
    private static final int ROUTE_POLL_INTERVAL_MS = 1_000;

    private PushConsumerScenarios() {}

    static void register(Map<String, Scenario> all) {
        all.put("push.rebalance", PushConsumerScenarios::rebalance);
        all.put("push.broadcast", PushConsumerScenarios::broadcast);
        all.put("push.orderlyRebalance", PushConsumerScenarios::orderlyRebalance);
        all.put("push.retryDlq", PushConsumerScenarios::retryDlq);
        all.put("push.fromWhere", PushConsumerScenarios::fromWhere);
        all.put("push.suspend", PushConsumerScenarios::suspend);
        all.put("push.batchMax", PushConsumerScenarios::batchMax);
    }

    private static String text(MessageExt m) {
        return new String(m.getBody(), StandardCharsets.UTF_8);
    }

    private static Message message(String topic, String body) {
        return new Message(topic, "TagP", body, body.getBytes(StandardCharsets.UTF_8));
    }

    /** Creates {@code topic} with {@link #QUEUE_COUNT} queues on every broker and waits for its route. */
    private static void createTopic(DefaultMQProducer producer, String topic) throws Exception {
        producer.createTopic("TBW102", topic, QUEUE_COUNT);
        Waits.until("route of " + topic, 15_000, () -> {
            try {
                return !producer.fetchPublishMessageQueues(topic).isEmpty();
            } catch (Exception e) {
                return false;
            }
        });
    }

    private static DefaultMQPushConsumer consumer(Args args, String group, String instance, String topic) throws Exception {
        DefaultMQPushConsumer c = Clients.pushConsumer(args, group);
        c.setInstanceName(instance);
        c.subscribe(topic, "*");
        c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        return c;
    }

    /** The queues of {@code topic} this consumer holds now (not dropped). */
    private static Set<Integer> held(DefaultMQPushConsumer c, String topic) {
        Set<Integer> ids = new HashSet<>();
        for (Map.Entry<MessageQueue, ProcessQueue> e : c.getDefaultMQPushConsumerImpl().getRebalanceImpl().getProcessQueueTable().entrySet()) {
            if (e.getKey().getTopic().equals(topic) && !e.getValue().isDropped()) ids.add(e.getKey().getQueueId());
        }
        return ids;
    }

    /** Waits until the consumers hold disjoint queue sets that cover the topic; gives their sizes, sorted. */
    private static List<Integer> settle(String topic, List<DefaultMQPushConsumer> live) throws InterruptedException {
        Waits.until("queues of " + topic + " split over " + live.size() + " consumers", REBALANCE_TIMEOUT_MS, () -> {
            int total = 0;
            Set<Integer> union = new HashSet<>();
            for (DefaultMQPushConsumer c : live) {
                Set<Integer> mine = held(c, topic);
                if (mine.isEmpty()) return false;
                total += mine.size();
                union.addAll(mine);
            }
            return total == QUEUE_COUNT && union.size() == QUEUE_COUNT;
        });
        List<Integer> sizes = new ArrayList<>();
        for (DefaultMQPushConsumer c : live) sizes.add(held(c, topic).size());
        Collections.sort(sizes);
        return sizes;
    }

    /** A producer thread sending {@code body-prefix + i} until stopped or {@code max} sent, pausing {@code intervalMs} between sends. */
    private static final class Feeder extends Thread {
        final AtomicInteger sent = new AtomicInteger();
        private final DefaultMQProducer producer;
        private final String topic;
        private final int max;
        private final long intervalMs;
        private final MessageQueueSelector selector;
        private final int keys;
        private volatile boolean stopped;
        volatile Throwable failure;

        Feeder(DefaultMQProducer producer, String topic, int max, long intervalMs, MessageQueueSelector selector, int keys) {
            this.producer = producer;
            this.topic = topic;
            this.max = max;
            this.intervalMs = intervalMs;
            this.selector = selector;
            this.keys = keys;
            setDaemon(true);
        }

        @Override
        public void run() {
            try {
                for (int i = 0; i < max && !stopped; i++) {
                    // With a selector: key = i mod keys, step = i / keys, so each key's steps go out in order.
                    String body = selector == null ? "m-" + i : (i % keys) + ":" + (i / keys);
                    boolean ok = selector == null
                        ? producer.send(message(topic, body)).getSendStatus() == SendStatus.SEND_OK
                        : producer.send(message(topic, body), selector, i % keys).getSendStatus() == SendStatus.SEND_OK;
                    if (!ok) throw new IllegalStateException("send of " + body + " not SEND_OK");
                    sent.incrementAndGet();
                    Thread.sleep(intervalMs);
                }
            } catch (Throwable t) {
                failure = t;
            }
        }

        int finish() throws InterruptedException {
            stopped = true;
            join();
            if (failure != null) throw new IllegalStateException("feeder failed", failure);
            return sent.get();
        }
    }

    /** Concurrent listener that records bodies per consumer. */
    private static final class Tally {
        final Set<String> distinct = ConcurrentHashMap.newKeySet();
        final AtomicInteger deliveries = new AtomicInteger();
        final Map<String, AtomicInteger> perConsumer = new ConcurrentHashMap<>();

        MessageListenerConcurrently listener(String name) {
            AtomicInteger mine = perConsumer.computeIfAbsent(name, k -> new AtomicInteger());
            return (List<MessageExt> msgs, ConsumeConcurrentlyContext ctx) -> {
                for (MessageExt m : msgs) {
                    distinct.add(text(m));
                    deliveries.incrementAndGet();
                    mine.incrementAndGet();
                }
                return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
            };
        }

        /** Waits until {@code more} further bodies arrived, so each phase carries traffic. */
        void flow(int more) throws InterruptedException {
            int target = distinct.size() + more;
            Waits.until(target + " distinct bodies", REBALANCE_TIMEOUT_MS, () -> distinct.size() >= target);
        }
    }

    /**
     * Clustering: while a feeder sends, c1 starts, c2 and c3 join, then c1 and c2 leave; after each
     * step the queues are split over the live consumers and messages flow. Every message sent is
     * consumed (duplicates across a rebalance are allowed in clustering and reported).
     */
    static void rebalance(Args args, Out out) throws Exception {
        String topic = args.str("topic");
        String group = Clients.group(args, "rebalance_consumer");
        int perPhase = args.integer("perPhase", 20);
        DefaultMQProducer producer = Clients.producer(args, "rebalance_producer");
        producer.start();
        createTopic(producer, topic);
        Tally tally = new Tally();
        List<DefaultMQPushConsumer> live = new ArrayList<>();
        List<List<Integer>> phases = new ArrayList<>();
        Feeder feeder = new Feeder(producer, topic, Integer.MAX_VALUE, args.number("intervalMs", 5), null, 0);
        feeder.start();
        for (String name : List.of("c1", "c2", "c3")) {
            DefaultMQPushConsumer c = consumer(args, group, name, topic);
            c.registerMessageListener(tally.listener(name));
            c.start();
            live.add(c);
            phases.add(settle(topic, live));
            tally.flow(perPhase);
            out.event("joined", "consumer", name, "sizes", phases.get(phases.size() - 1));
        }
        for (int i = 0; i < 2; i++) {
            live.remove(0).shutdown();
            phases.add(settle(topic, live));
            tally.flow(perPhase);
            out.event("left", "sizes", phases.get(phases.size() - 1));
        }
        int sent = feeder.finish();
        producer.shutdown();
        Waits.until(sent + " distinct bodies", args.number("timeoutMs", 30_000), () -> tally.distinct.size() >= sent);
        live.get(0).shutdown();
        Map<String, Integer> per = new TreeMap<>();
        tally.perConsumer.forEach((k, v) -> per.put(k, v.get() > 0 ? 1 : 0));
        out.result(Out.map("sent", sent, "distinct", tally.distinct.size(), "duplicates", tally.deliveries.get() - tally.distinct.size(), "phases", phases, "consumedSome", per));
    }

    /** Broadcasting: two consumers of one group each get every one of {@code count} messages, once. */
    static void broadcast(Args args, Out out) throws Exception {
        String topic = args.str("topic");
        String group = Clients.group(args, "broadcast_consumer");
        int count = args.integer("count", 100);
        DefaultMQProducer producer = Clients.producer(args, "broadcast_producer");
        producer.start();
        createTopic(producer, topic);
        Map<String, Tally> tallies = new TreeMap<>();
        List<DefaultMQPushConsumer> consumers = new ArrayList<>();
        for (String name : List.of("b1", "b2")) {
            DefaultMQPushConsumer c = consumer(args, group, name, topic);
            c.setMessageModel(MessageModel.BROADCASTING);
            Tally t = new Tally();
            c.registerMessageListener(t.listener(name));
            c.start();
            tallies.put(name, t);
            consumers.add(c);
        }
        for (DefaultMQPushConsumer c : consumers) Waits.until("all queues held", REBALANCE_TIMEOUT_MS, () -> held(c, topic).size() == QUEUE_COUNT);
        int ok = 0;
        for (int i = 0; i < count; i++) if (producer.send(message(topic, "m-" + i)).getSendStatus() == SendStatus.SEND_OK) ok++;
        producer.shutdown();
        Map<String, Object> per = new TreeMap<>();
        for (Map.Entry<String, Tally> e : tallies.entrySet()) {
            Tally t = e.getValue();
            Waits.until(count + " bodies at " + e.getKey(), args.number("timeoutMs", 30_000), () -> t.distinct.size() >= count);
        }
        for (DefaultMQPushConsumer c : consumers) c.shutdown();
        tallies.forEach((k, t) -> per.put(k, Out.map("distinct", t.distinct.size(), "deliveries", t.deliveries.get())));
        out.result(Out.map("sentOk", ok, "consumers", per));
    }

    /** Orderly listener recording, per sharding key, the steps in global delivery order. */
    private static MessageListenerOrderly orderlyRecorder(Map<Integer, List<Integer>> stepsByKey, Set<String> distinct, AtomicInteger mine) {
        return (List<MessageExt> msgs, ConsumeOrderlyContext ctx) -> {
            for (MessageExt m : msgs) {
                String[] parts = text(m).split(":");
                synchronized (stepsByKey) {
                    stepsByKey.computeIfAbsent(Integer.parseInt(parts[0]), k -> new ArrayList<>()).add(Integer.parseInt(parts[1]));
                }
                distinct.add(text(m));
                mine.incrementAndGet();
            }
            return ConsumeOrderlyStatus.SUCCESS;
        };
    }

    /**
     * Orderly across a rebalance: a feeder sends {@code keys} sharding keys × {@code steps} steps
     * through a selector; o1 consumes alone, o2 joins after a third, o1 leaves after two thirds.
     * Each key's steps must arrive complete and never go backwards (a replay of the in-flight
     * message at a hand-over is allowed by the client's design and counted as a duplicate).
     */
    static void orderlyRebalance(Args args, Out out) throws Exception {
        String topic = args.str("topic");
        String group = Clients.group(args, "orderly_rebalance_consumer");
        int keys = args.integer("keys", 8);
        int steps = args.integer("steps", 30);
        int total = keys * steps;
        DefaultMQProducer producer = Clients.producer(args, "orderly_rebalance_producer");
        producer.start();
        createTopic(producer, topic);
        Map<Integer, List<Integer>> stepsByKey = new TreeMap<>();
        Set<String> distinct = ConcurrentHashMap.newKeySet();
        Map<String, AtomicInteger> per = new TreeMap<>();
        List<DefaultMQPushConsumer> live = new ArrayList<>();
        List<List<Integer>> phases = new ArrayList<>();
        MessageQueueSelector byKey = (List<MessageQueue> mqs, Message msg, Object arg) -> mqs.get((Integer) arg % mqs.size());
        Feeder feeder = new Feeder(producer, topic, total, args.number("intervalMs", 10), byKey, keys);
        for (String name : List.of("o1", "o2")) {
            DefaultMQPushConsumer c = consumer(args, group, name, topic);
            c.setAwaitTerminationMillisWhenShutdown(AWAIT_TERMINATION_MS);
            per.put(name, new AtomicInteger());
            c.registerMessageListener(orderlyRecorder(stepsByKey, distinct, per.get(name)));
            c.start();
            live.add(c);
            phases.add(settle(topic, live));
            if (name.equals("o1")) feeder.start();
            Waits.until("a third more sent", REBALANCE_TIMEOUT_MS, () -> feeder.sent.get() >= total * live.size() / 3);
        }
        live.remove(0).shutdown();
        phases.add(settle(topic, live));
        Waits.until("all " + total + " sent", REBALANCE_TIMEOUT_MS, () -> feeder.sent.get() >= total || feeder.failure != null);
        feeder.finish();
        producer.shutdown();
        Waits.until(total + " distinct bodies", args.number("timeoutMs", 30_000), () -> distinct.size() >= total);
        live.get(0).shutdown();
        int inOrder = 0;
        int complete = 0;
        int deliveries = 0;
        for (int k = 0; k < keys; k++) {
            List<Integer> seen = stepsByKey.getOrDefault(k, List.of());
            deliveries += seen.size();
            boolean monotonic = true;
            for (int i = 1; i < seen.size(); i++) monotonic &= seen.get(i) >= seen.get(i - 1);
            if (monotonic) inOrder++;
            if (new HashSet<>(seen).size() == steps) complete++;
        }
        Map<String, Integer> consumedSome = new TreeMap<>();
        per.forEach((k, v) -> consumedSome.put(k, v.get() > 0 ? 1 : 0));
        out.result(Out.map("sent", total, "distinct", distinct.size(), "keysInOrder", inOrder, "keysComplete", complete, "duplicates", deliveries - distinct.size(), "phases", phases, "consumedSome", consumedSome));
    }

    /**
     * RECONSUME_LATER on every delivery with maxReconsumeTimes {@code maxReconsume}: each of
     * {@code count} messages is delivered maxReconsume + 1 times (reconsumeTimes 0..max) through
     * %RETRY%group, then lands in %DLQ%group. Once the retry queue is consumed to its end and the DLQ
     * holds every message, no further delivery can come: the counts are final.
     */
    static void retryDlq(Args args, Out out) throws Exception {
        String topic = args.str("topic");
        String group = Clients.group(args, "retry_consumer");
        String brokerName = args.str("brokerName");
        int count = args.integer("count", 3);
        int maxReconsume = args.integer("maxReconsume", 2);
        DefaultMQProducer producer = Clients.producer(args, "retry_producer");
        producer.start();
        createTopic(producer, topic);
        Map<String, List<Integer>> reconsumeTimesByBody = new ConcurrentHashMap<>();
        DefaultMQPushConsumer c = consumer(args, group, "r1", topic);
        c.setMaxReconsumeTimes(maxReconsume);
        // A new group's %RETRY% topic is created by its first heartbeat, after the consumer looked up
        // its routes at start; it is found at the next route poll (30 s by default) and its queue
        // taken at the next rebalance (rocketmq.client.rebalance.waitInterval, set by the driver).
        c.setPollNameServerInterval(ROUTE_POLL_INTERVAL_MS);
        c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) reconsumeTimesByBody.computeIfAbsent(text(m), k -> Collections.synchronizedList(new ArrayList<>())).add(m.getReconsumeTimes());
            return ConsumeConcurrentlyStatus.RECONSUME_LATER;
        });
        c.start();
        int ok = 0;
        for (int i = 0; i < count; i++) if (producer.send(message(topic, "r-" + i)).getSendStatus() == SendStatus.SEND_OK) ok++;
        producer.shutdown();
        MessageQueue retryQueue = new MessageQueue(MixAll.getRetryTopic(group), brokerName, 0);
        MessageQueue dlqQueue = new MessageQueue(MixAll.getDLQTopic(group), brokerName, 0);
        long retryMessages = (long) count * maxReconsume;
        Waits.until("DLQ holds " + count + " and the retry queue consumed to " + retryMessages, args.number("timeoutMs", 60_000), () -> {
            try {
                return c.maxOffset(dlqQueue) >= count && c.maxOffset(retryQueue) >= retryMessages
                    && c.getDefaultMQPushConsumerImpl().getOffsetStore().readOffset(retryQueue, ReadOffsetType.READ_FROM_MEMORY) >= retryMessages;
            } catch (Exception e) {
                return false;
            }
        });
        long retryMax = c.maxOffset(retryQueue);
        long dlqMax = c.maxOffset(dlqQueue);
        c.shutdown();
        Map<String, Object> result = Out.map("sentOk", ok, "retryQueueMessages", retryMax, "dlqMessages", dlqMax,
            "reconsumeTimes", new TreeMap<>(reconsumeTimesByBody), "dlq", readDlq(args, dlqQueue, count));
        out.result(result);
    }

    /** The DLQ's messages as body, original topic (RETRY_TOPIC) and reconsumeTimes, sorted by body. */
    private static List<Map<String, Object>> readDlq(Args args, MessageQueue dlqQueue, int count) throws Exception {
        DefaultMQPullConsumer pull = new DefaultMQPullConsumer(Clients.group(args, "retry_consumer") + "_dlq_reader");
        pull.setNamesrvAddr(args.namesrv());
        pull.setInstanceName("dlq-reader");
        pull.start();
        try {
            PullResult r = pull.pull(dlqQueue, "*", 0, count * 2);
            List<Map<String, Object>> got = new ArrayList<>();
            if (r.getPullStatus() == PullStatus.FOUND) {
                for (MessageExt m : r.getMsgFoundList()) {
                    got.add(Out.map("body", text(m), "retryTopic", m.getProperty(MessageConst.PROPERTY_RETRY_TOPIC), "reconsumeTimes", m.getReconsumeTimes()));
                }
            }
            got.sort((a, b) -> ((String) a.get("body")).compareTo((String) b.get("body")));
            return got;
        } finally {
            pull.shutdown();
        }
    }

    /** Sends {@code n} messages {@code prefix-i}; gives the time after the last was stored. */
    private static long sendBatch(DefaultMQProducer producer, String topic, String prefix, int n) throws Exception {
        for (int i = 0; i < n; i++) {
            if (producer.send(message(topic, prefix + "-" + i)).getSendStatus() != SendStatus.SEND_OK) throw new IllegalStateException("send not SEND_OK");
        }
        return System.currentTimeMillis();
    }

    /**
     * consumeFromWhere for new groups on a topic with history (the broker must treat its messages
     * as on disk, accessMessageInMemoryMaxRatio=0, or every new group starts at 0): "old" messages,
     * then a whole second T at least 1.5 s later, then "mid" messages 200 ms after T. Groups FIRST,
     * LAST and TIMESTAMP(T) start; then "new" messages. FIRST gets all, LAST only new, TIMESTAMP mid
     * and new (the timestamp search picks the message stored closest to T, and mid is closer).
     */
    static void fromWhere(Args args, Out out) throws Exception {
        String topic = args.str("topic");
        int n = args.integer("count", 20);
        DefaultMQProducer producer = Clients.producer(args, "from_where_producer");
        producer.start();
        createTopic(producer, topic);
        long lastOld = sendBatch(producer, topic, "old", n);
        long t = (lastOld + 1_500) / 1_000 * 1_000 + 1_000;
        Waits.until("clock past T + 200 ms", 5_000, () -> System.currentTimeMillis() >= t + 200);
        sendBatch(producer, topic, "mid", n);
        Map<String, ConsumeFromWhere> modes = new LinkedHashMap<>();
        modes.put("first", ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        modes.put("last", ConsumeFromWhere.CONSUME_FROM_LAST_OFFSET);
        modes.put("timestamp", ConsumeFromWhere.CONSUME_FROM_TIMESTAMP);
        Map<String, Tally> tallies = new LinkedHashMap<>();
        List<DefaultMQPushConsumer> consumers = new ArrayList<>();
        for (Map.Entry<String, ConsumeFromWhere> e : modes.entrySet()) {
            DefaultMQPushConsumer c = consumer(args, Clients.group(args, "from_where") + "_" + e.getKey(), e.getKey(), topic);
            c.setConsumeFromWhere(e.getValue());
            c.setConsumeTimestamp(UtilAll.timeMillisToHumanString3(t));
            Tally tally = new Tally();
            c.registerMessageListener(tally.listener(e.getKey()));
            c.start();
            tallies.put(e.getKey(), tally);
            consumers.add(c);
        }
        // The start offsets are computed before a queue enters the process queue table.
        for (DefaultMQPushConsumer c : consumers) Waits.until("start offsets computed", REBALANCE_TIMEOUT_MS, () -> held(c, topic).size() == QUEUE_COUNT);
        sendBatch(producer, topic, "new", n);
        producer.shutdown();
        int[] expected = {3 * n, n, 2 * n};
        int i = 0;
        for (Tally tally : tallies.values()) {
            int want = expected[i++];
            Waits.until(want + " bodies", args.number("timeoutMs", 30_000), () -> tally.distinct.size() >= want);
        }
        for (DefaultMQPushConsumer c : consumers) c.shutdown();
        Map<String, Object> result = new LinkedHashMap<>();
        tallies.forEach((mode, tally) -> result.put(mode, countByPrefix(tally.distinct, tally.deliveries.get())));
        out.result(result);
    }

    private static Map<String, Object> countByPrefix(Set<String> bodies, int deliveries) {
        Map<String, Object> m = new TreeMap<>();
        for (String b : bodies) m.merge(b.substring(0, b.indexOf('-')), 1, (x, y) -> (Integer) x + (Integer) y);
        m.put("deliveries", deliveries);
        return m;
    }

    /**
     * Orderly SUSPEND_CURRENT_QUEUE_A_MOMENT: {@code count} messages into one queue; the first
     * delivery of step {@code suspendAt} answers SUSPEND. The queue pauses for
     * suspendCurrentQueueTimeMillis, then the same message comes again (reconsumeTimes 1) before
     * any later one.
     */
    static void suspend(Args args, Out out) throws Exception {
        String topic = args.str("topic");
        int count = args.integer("count", 10);
        int suspendAt = args.integer("suspendAt", 4);
        long suspendMs = args.number("suspendMs", 700);
        DefaultMQProducer producer = Clients.producer(args, "suspend_producer");
        producer.start();
        createTopic(producer, topic);
        MessageQueueSelector first = (List<MessageQueue> mqs, Message msg, Object arg) -> mqs.get(0);
        for (int i = 0; i < count; i++) producer.send(message(topic, Integer.toString(i)), first, null);
        producer.shutdown();
        List<Integer> sequence = Collections.synchronizedList(new ArrayList<>());
        List<Integer> reconsumeTimes = Collections.synchronizedList(new ArrayList<>());
        List<Long> suspendedAt = Collections.synchronizedList(new ArrayList<>());
        DefaultMQPushConsumer c = consumer(args, Clients.group(args, "suspend_consumer"), "s1", topic);
        c.setSuspendCurrentQueueTimeMillis(suspendMs);
        c.registerMessageListener((MessageListenerOrderly) (msgs, ctx) -> {
            MessageExt m = msgs.get(0);
            int step = Integer.parseInt(text(m));
            sequence.add(step);
            reconsumeTimes.add(m.getReconsumeTimes());
            if (step == suspendAt) suspendedAt.add(System.nanoTime());
            return step == suspendAt && suspendedAt.size() == 1 ? ConsumeOrderlyStatus.SUSPEND_CURRENT_QUEUE_A_MOMENT : ConsumeOrderlyStatus.SUCCESS;
        });
        c.start();
        Waits.until(count + 1 + " deliveries", args.number("timeoutMs", 30_000), () -> sequence.size() >= count + 1);
        c.shutdown();
        long pauseMs = suspendedAt.size() == 2 ? (suspendedAt.get(1) - suspendedAt.get(0)) / 1_000_000 : -1;
        out.result(Out.map("sequence", new ArrayList<>(sequence), "reconsumeTimes", new ArrayList<>(reconsumeTimes), "pausedAtLeastSuspendMs", pauseMs >= suspendMs));
    }

    /**
     * consumeMessageBatchMaxSize {@code batchMax}: {@code count} messages wait before the consumer
     * starts, so pulls of 32 are split into listener calls of at most batchMax, full ones among them.
     */
    static void batchMax(Args args, Out out) throws Exception {
        String topic = args.str("topic");
        int count = args.integer("count", 100);
        int batchMax = args.integer("batchMax", 8);
        DefaultMQProducer producer = Clients.producer(args, "batch_max_producer");
        producer.start();
        createTopic(producer, topic);
        sendBatch(producer, topic, "b", count);
        producer.shutdown();
        Set<String> distinct = ConcurrentHashMap.newKeySet();
        AtomicInteger deliveries = new AtomicInteger();
        ConcurrentLinkedQueue<Integer> sizes = new ConcurrentLinkedQueue<>();
        DefaultMQPushConsumer c = consumer(args, Clients.group(args, "batch_max_consumer"), "bm1", topic);
        c.setConsumeMessageBatchMaxSize(batchMax);
        c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            sizes.add(msgs.size());
            for (MessageExt m : msgs) distinct.add(text(m));
            deliveries.addAndGet(msgs.size());
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        c.start();
        Waits.until(count + " bodies", args.number("timeoutMs", 30_000), () -> distinct.size() >= count);
        c.shutdown();
        int largest = sizes.stream().mapToInt(Integer::intValue).max().orElse(0);
        out.result(Out.map("distinct", distinct.size(), "deliveries", deliveries.get(), "largestBatch", largest, "fullBatches", sizes.stream().filter(s -> s == batchMax).count() > 0));
    }
}
