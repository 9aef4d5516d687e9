package tsmq.interop;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.rocketmq.client.QueryResult;
import org.apache.rocketmq.common.admin.OffsetWrapper;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.MessageQueueSelector;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageClientExt;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/** Message queries: view by id (both ids), query by key within time ranges, reset offsets by time. */
final class QueryScenarios {
    /**
     * The index keeps store times in whole seconds from its file's first message, so a time range
     * is exact only to within a second: batches meant to fall on opposite sides of a range bound
     * are stored more than this far apart.
     */
    private static final long INDEX_TIME_RESOLUTION_GAP_MS = 2_100;

    private QueryScenarios() {}

    static void register(Map<String, Scenario> all) {
        all.put("query.viewMessage", QueryScenarios::viewMessage);
        all.put("query.byKeyTimeRange", QueryScenarios::byKeyTimeRange);
        all.put("query.resetOffsetByTimestamp", QueryScenarios::resetOffsetByTimestamp);
    }

    private static String body(MessageExt m) {
        return new String(m.getBody(), StandardCharsets.UTF_8);
    }

    /** The client decodes both answers as MessageClientExt: getMsgId() is the uniq key. */
    private static boolean sameMessage(MessageExt m, SendResult sent, String expectedBody) {
        return expectedBody.equals(body(m)) && sent.getMsgId().equals(m.getMsgId()) && sent.getOffsetMsgId().equals(((MessageClientExt) m).getOffsetMsgId());
    }

    /** {@code count} messages; each is found by viewMessage(topic, msgId) and by viewMessage(topic, offsetMsgId). */
    static void viewMessage(Args args, Out out) throws Exception {
        String topic = args.str("topic");
        int count = args.integer("count", 5);
        DefaultMQProducer producer = Clients.producer(args, "view_producer");
        producer.start();
        List<SendResult> sent = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            sent.add(producer.send(new Message(topic, "TagV", "view-" + i, ("view-body-" + i).getBytes(StandardCharsets.UTF_8))));
        }
        int byMsgId = 0;
        int byOffsetMsgId = 0;
        for (int i = 0; i < count; i++) {
            SendResult r = sent.get(i);
            String expected = "view-body-" + i;
            if (sameMessage(producer.viewMessage(topic, r.getMsgId()), r, expected)) byMsgId++;
            if (sameMessage(producer.viewMessage(topic, r.getOffsetMsgId()), r, expected)) byOffsetMsgId++;
        }
        producer.shutdown();
        out.result(Out.map("sent", count, "byMsgId", byMsgId, "byOffsetMsgId", byOffsetMsgId));
    }

    /** Sends {@code count} messages with {@code key} to {@code topic}; gives the largest store time among them. */
    private static long sendBatch(DefaultMQProducer producer, String topic, String key, String prefix, int count) throws Exception {
        for (int i = 0; i < count; i++) {
            SendResult r = producer.send(new Message(topic, "TagQ", key, (prefix + i).getBytes(StandardCharsets.UTF_8)));
            if (r.getSendStatus() != SendStatus.SEND_OK) throw new IllegalStateException("send " + prefix + i + ": " + r);
        }
        QueryResult all = producer.queryMessage(topic, key, 64, 0, Long.MAX_VALUE);
        long newest = 0;
        for (MessageExt m : all.getMessageList()) newest = Math.max(newest, m.getStoreTimestamp());
        return newest;
    }

    private static List<String> bodies(QueryResult r) {
        return new ArrayList<>(bodySet(r.getMessageList()));
    }

    private static TreeSet<String> bodySet(List<MessageExt> list) {
        TreeSet<String> s = new TreeSet<>();
        for (MessageExt m : list) s.add(body(m));
        return s;
    }

    /**
     * Batch "early-" then, more than the index's time resolution later, batch "late-", all under one
     * key; queryMessage over [0, end of early], [start of late, MAX] and [0, MAX] gives each batch
     * alone and both together.
     */
    static void byKeyTimeRange(Args args, Out out) throws Exception {
        String topic = args.str("topic");
        String key = args.str("key");
        int count = args.integer("count", 3);
        DefaultMQProducer producer = Clients.producer(args, "query_producer");
        producer.start();
        long earlyEnd = sendBatch(producer, topic, key, "early-", count);
        Waits.until("the clock to pass the early batch by the index resolution", 10_000, () -> System.currentTimeMillis() > earlyEnd + INDEX_TIME_RESOLUTION_GAP_MS);
        sendBatch(producer, topic, key, "late-", count);
        List<String> early = bodies(producer.queryMessage(topic, key, 64, 0, earlyEnd));
        List<String> late = bodies(producer.queryMessage(topic, key, 64, earlyEnd + INDEX_TIME_RESOLUTION_GAP_MS / 2, Long.MAX_VALUE));
        List<String> all = bodies(producer.queryMessage(topic, key, 64, 0, Long.MAX_VALUE));
        String noneError = "";
        try {
            producer.queryMessage(topic, "absent-" + key, 64, 0, Long.MAX_VALUE);
        } catch (org.apache.rocketmq.client.exception.MQClientException e) {
            noneError = "code " + e.getResponseCode();
        }
        producer.shutdown();
        out.result(Out.map("early", early, "late", late, "all", all, "absent", noneError));
    }

    private static long queue0ConsumerOffset(DefaultMQAdminExt admin, String group, String topic) {
        try {
            for (Map.Entry<MessageQueue, OffsetWrapper> e : admin.examineConsumeStats(group).getOffsetTable().entrySet()) {
                if (e.getKey().getTopic().equals(topic) && e.getKey().getQueueId() == 0) return e.getValue().getConsumerOffset();
            }
            return -1;
        } catch (Exception e) {
            return -1; // not known to the broker yet
        }
    }

    /**
     * {@code count} messages "before-" and, a moment later, {@code count} "after-", all on queue 0;
     * a push consumer takes all of them, then DefaultMQAdminExt.resetOffsetByTimestamp to the first
     * "after-" store time makes the live consumer get exactly the "after-" messages again, in order.
     */
    static void resetOffsetByTimestamp(Args args, Out out) throws Exception {
        String topic = args.str("topic");
        String group = Clients.group(args, "reset_consumer");
        int count = args.integer("count", 5);
        DefaultMQProducer producer = Clients.producer(args, "reset_producer");
        producer.start();
        // One queue keeps the order strict: a redelivered "before-" would come ahead of the "after-"s.
        MessageQueueSelector q0 = (mqs, msg, arg) -> mqs.stream().filter(q -> q.getQueueId() == 0).findFirst().orElseThrow();
        for (int i = 0; i < count; i++) producer.send(new Message(topic, ("before-" + i).getBytes(StandardCharsets.UTF_8)), q0, null);
        long lastBefore = System.currentTimeMillis();
        Waits.until("the clock to move past the first batch", 5_000, () -> System.currentTimeMillis() > lastBefore + 5);
        long resetTo = 0;
        for (int i = 0; i < count; i++) {
            SendResult r = producer.send(new Message(topic, ("after-" + i).getBytes(StandardCharsets.UTF_8)), q0, null);
            if (i == 0) resetTo = producer.viewMessage(topic, r.getOffsetMsgId()).getStoreTimestamp();
        }
        producer.shutdown();

        List<String> received = new CopyOnWriteArrayList<>();
        DefaultMQPushConsumer consumer = Clients.pushConsumer(args, group);
        consumer.subscribe(topic, "*");
        consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        consumer.setConsumeThreadMin(1);
        consumer.setConsumeThreadMax(1);
        consumer.setConsumeMessageBatchMaxSize(1);
        consumer.registerMessageListener((List<MessageExt> msgs, org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyContext ctx) -> {
            for (MessageExt m : msgs) received.add(body(m));
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        consumer.start();
        Waits.until(2 * count + " first deliveries", 30_000, () -> received.size() >= 2 * count);
        List<String> first = new ArrayList<>(received);
        consumer.getDefaultMQPushConsumerImpl().getOffsetStore().persistAll(consumer.getDefaultMQPushConsumerImpl().getRebalanceImpl().getProcessQueueTable().keySet());
        out.event("consumed", "count", first.size());

        DefaultMQAdminExt admin = new DefaultMQAdminExt();
        admin.setNamesrvAddr(args.namesrv());
        admin.setInstanceName("reset-admin-" + ProcessHandle.current().pid());
        admin.start();
        // Offset commits are oneway requests on the consumer's connection: the reset (on the
        // admin's) needs the group's offsets on the broker, and fails untouched until every queue has one.
        Waits.until("the group's committed offset on queue 0", 10_000, () -> queue0ConsumerOffset(admin, group, topic) == 2L * count);
        Map<MessageQueue, Long> table = new java.util.HashMap<>();
        long resetAt = resetTo;
        Waits.until("a reset with every queue's offset on the broker", 10_000, () -> {
            try {
                table.putAll(admin.resetOffsetByTimestamp(topic, group, resetAt, true));
                return true;
            } catch (org.apache.rocketmq.client.exception.MQBrokerException e) {
                if (e.getErrorMessage() != null && e.getErrorMessage().contains("not exist")) return false;
                throw new IllegalStateException(e);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        admin.shutdown();
        long q0Offset = -1;
        for (Map.Entry<MessageQueue, Long> e : table.entrySet()) if (e.getKey().getQueueId() == 0) q0Offset = e.getValue();
        Waits.until(count + " deliveries after the reset", 30_000, () -> received.size() >= 3 * count);
        List<String> again = new ArrayList<>(received.subList(first.size(), received.size()));
        consumer.shutdown();
        out.result(Out.map("first", first.size(), "resetQueue0Offset", q0Offset, "again", again));
    }
}
