package tsmq.interop;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.rocketmq.client.consumer.DefaultLitePullConsumer;
import org.apache.rocketmq.client.consumer.DefaultMQPullConsumer;
import org.apache.rocketmq.client.consumer.PullResult;
import org.apache.rocketmq.client.consumer.PullStatus;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.MixAll;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.remoting.RemotingClient;
import org.apache.rocketmq.remoting.protocol.RemotingCommand;

/** Pull consumers: DefaultLitePullConsumer (subscribe, assign, seek, commits) and DefaultMQPullConsumer. */
final class PullConsumerScenarios {
    /** Queues the scenarios write to (an auto-created topic has at least this many). */
    private static final int QUEUES = 4;
    private static final long POLL_TIMEOUT_MS = 200;
    private static final int PULL_BATCH_MAX = 32;

    private PullConsumerScenarios() {}

    static void register(Map<String, Scenario> all) {
        all.put("pull.liteSubscribeRestart", PullConsumerScenarios::liteSubscribeRestart);
        all.put("pull.liteAssignSeek", PullConsumerScenarios::liteAssignSeek);
        all.put("pull.defaultPull", PullConsumerScenarios::defaultPull);
        all.put("pull.sendPollWire", PullConsumerScenarios::sendPollWire);
    }

    private static String body(MessageExt m) {
        return new String(m.getBody(), StandardCharsets.UTF_8);
    }

    /** {@code perQueue} messages "prefix-q-i" to each of queues 0..QUEUES-1, tags alternating TagA/TagB. */
    private static void sendPerQueue(Args args, String topic, String prefix, int perQueue) throws Exception {
        DefaultMQProducer producer = Clients.producer(args, "pull_producer");
        producer.setInstanceName("pull-producer-" + prefix + "-" + ProcessHandle.current().pid());
        producer.start();
        for (int i = 0; i < perQueue; i++) {
            for (int q = 0; q < QUEUES; q++) {
                Message m = new Message(topic, i % 2 == 0 ? "TagA" : "TagB", (prefix + "-" + q + "-" + i).getBytes(StandardCharsets.UTF_8));
                SendResult r = producer.send(m, (mqs, msg, arg) -> mqs.get((Integer) arg), q);
                if (r.getSendStatus() != SendStatus.SEND_OK || r.getMessageQueue().getQueueId() != q) throw new IllegalStateException("send " + prefix + ": " + r);
            }
        }
        producer.shutdown();
    }

    private static List<MessageQueue> firstQueues(Collection<MessageQueue> all) {
        List<MessageQueue> out = new ArrayList<>();
        for (MessageQueue mq : all) if (mq.getQueueId() < QUEUES) out.add(mq);
        out.sort(MessageQueue::compareTo);
        return out;
    }

    private static DefaultLitePullConsumer liteConsumer(Args args, String group, boolean autoCommit, String instance) {
        DefaultLitePullConsumer c = new DefaultLitePullConsumer(group);
        c.setNamesrvAddr(args.namesrv());
        c.setVipChannelEnabled(args.flag("vipChannel", false));
        c.setInstanceName(instance + "-" + ProcessHandle.current().pid());
        c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        c.setAutoCommit(autoCommit);
        c.setAutoCommitIntervalMillis(1_000); // the client's minimum
        return c;
    }

    /** Polls until {@code want} bodies starting with {@code prefix} arrived; every polled body is added to {@code seen}. */
    private static void pollUntil(DefaultLitePullConsumer c, List<String> seen, String prefix, int want, long timeoutMs) throws InterruptedException {
        Waits.until(want + " " + prefix + " messages", timeoutMs, () -> {
            for (MessageExt m : c.poll(POLL_TIMEOUT_MS)) seen.add(body(m));
            return seen.stream().filter(b -> b.startsWith(prefix)).count() >= want;
        });
    }

    private static long committedSum(DefaultLitePullConsumer c, String topic) throws Exception {
        long sum = 0;
        for (MessageQueue mq : c.fetchMessageQueues(topic)) sum += Math.max(0, c.committed(mq));
        return sum;
    }

    /**
     * Subscribe mode: a lite pull consumer polls every "first" message and commits (commitSync, or
     * with {@code autoCommit=true} the next polls' automatic commit), shuts down; "second" messages
     * are sent and a new consumer of the group polls exactly them: it resumed at the committed offsets.
     */
    static void liteSubscribeRestart(Args args, Out out) throws Exception {
        String topic = args.str("topic");
        String group = Clients.group(args, "lite_subscribe");
        boolean autoCommit = args.flag("autoCommit", false);
        int perQueue = args.integer("perQueue", 3);
        int total = perQueue * QUEUES;
        sendPerQueue(args, topic, "first", perQueue);

        DefaultLitePullConsumer c1 = liteConsumer(args, group, autoCommit, "lite-1");
        c1.subscribe(topic, "*");
        c1.start();
        List<String> seen1 = new ArrayList<>();
        pollUntil(c1, seen1, "first", total, 30_000);
        if (autoCommit) {
            // The automatic commit runs inside poll once the interval passed.
            Waits.until("the automatic commit of " + total + " offsets", 10_000, () -> {
                c1.poll(POLL_TIMEOUT_MS);
                try {
                    return committedSum(c1, topic) >= total;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
        } else {
            c1.commitSync();
        }
        long committed = committedSum(c1, topic);
        c1.shutdown();
        out.event("firstConsumed", "count", seen1.size(), "committed", committed);

        sendPerQueue(args, topic, "second", perQueue);
        DefaultLitePullConsumer c2 = liteConsumer(args, group, autoCommit, "lite-2");
        c2.subscribe(topic, "*");
        c2.start();
        List<String> seen2 = new ArrayList<>();
        // Each queue's "first" messages precede its "second" ones: all of "second" means none of "first" is left behind.
        pollUntil(c2, seen2, "second", total, 30_000);
        c2.shutdown();
        long firstAgain = seen2.stream().filter(b -> b.startsWith("first")).count();
        out.result(Out.map("first", new TreeSet<>(seen1).size(), "committed", committed, "second", new TreeSet<>(seen2).size(), "firstAgain", firstAgain));
    }

    /**
     * Assign mode: the consumer takes queues 0..3 itself, seeks each to {@code seekTo}, polls exactly
     * the messages from there on, commitSync, and committed(mq) is each queue's end.
     */
    static void liteAssignSeek(Args args, Out out) throws Exception {
        String topic = args.str("topic");
        int perQueue = args.integer("perQueue", 5);
        long seekTo = args.number("seekTo", 2);
        sendPerQueue(args, topic, "assign", perQueue);

        DefaultLitePullConsumer c = liteConsumer(args, Clients.group(args, "lite_assign"), false, "lite-assign");
        c.start();
        List<MessageQueue> queues = firstQueues(c.fetchMessageQueues(topic));
        c.assign(queues);
        for (MessageQueue mq : queues) c.seek(mq, seekTo);
        long want = (perQueue - seekTo) * QUEUES;
        List<MessageExt> got = new ArrayList<>();
        Waits.until(want + " messages after the seek", 30_000, () -> {
            got.addAll(c.poll(POLL_TIMEOUT_MS));
            return got.size() >= want;
        });
        long belowSeek = got.stream().filter(m -> m.getQueueOffset() < seekTo).count();
        c.commitSync();
        Map<String, Long> committed = new TreeMap<>(); // string keys: fastjson writes integer keys unquoted
        for (MessageQueue mq : queues) committed.put(String.valueOf(mq.getQueueId()), c.committed(mq));
        c.shutdown();
        Set<String> distinct = new TreeSet<>();
        for (MessageExt m : got) distinct.add(body(m));
        out.result(Out.map("received", got.size(), "distinct", distinct.size(), "belowSeek", belowSeek, "committed", committed));
    }

    /** Pulls one queue from {@code offset} to its end; gives the bodies and the next offset. */
    private static long pullToEnd(DefaultMQPullConsumer c, MessageQueue mq, String subExpression, long offset, List<String> bodies) throws Exception {
        for (int round = 0; round < 1_000; round++) {
            PullResult r = c.pull(mq, subExpression, offset, PULL_BATCH_MAX);
            if (r.getPullStatus() == PullStatus.FOUND) {
                for (MessageExt m : r.getMsgFoundList()) bodies.add(body(m));
            } else if (r.getPullStatus() != PullStatus.NO_MATCHED_MSG) {
                return r.getNextBeginOffset();
            }
            offset = r.getNextBeginOffset();
        }
        throw new IllegalStateException("queue " + mq + " did not end within 1000 pulls");
    }

    /**
     * DefaultMQPullConsumer: fetchConsumeOffset of a new group, pull each queue to its end ("*" and
     * "TagA"), updateConsumeOffset + persist, and a second consumer's fetchConsumeOffset(mq, true)
     * reads the stored offsets from the broker.
     */
    static void defaultPull(Args args, Out out) throws Exception {
        String topic = args.str("topic");
        String group = Clients.group(args, "default_pull");
        int perQueue = args.integer("perQueue", 4);
        sendPerQueue(args, topic, "pull", perQueue);

        DefaultMQPullConsumer c = new DefaultMQPullConsumer(group);
        c.setNamesrvAddr(args.namesrv());
        c.setInstanceName("pull-1-" + ProcessHandle.current().pid());
        c.start();
        List<MessageQueue> queues = firstQueues(c.fetchSubscribeMessageQueues(topic));
        long initialOffsetSum = 0;
        List<String> all = new ArrayList<>();
        List<String> tagA = new ArrayList<>();
        for (MessageQueue mq : queues) {
            initialOffsetSum += c.fetchConsumeOffset(mq, true);
            pullToEnd(c, mq, "TagA", 0, tagA);
            long next = pullToEnd(c, mq, "*", 0, all);
            c.updateConsumeOffset(mq, next);
            c.persist(mq);
        }
        c.shutdown();

        DefaultMQPullConsumer c2 = new DefaultMQPullConsumer(group);
        c2.setNamesrvAddr(args.namesrv());
        c2.setInstanceName("pull-2-" + ProcessHandle.current().pid());
        c2.start();
        Map<String, Long> stored = new TreeMap<>();
        // persist is a oneway request: wait until the broker has every queue's offset.
        Waits.until("the stored offsets", 10_000, () -> {
            try {
                for (MessageQueue mq : queues) stored.put(String.valueOf(mq.getQueueId()), c2.fetchConsumeOffset(mq, true));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            return stored.values().stream().allMatch(o -> o == perQueue);
        });
        c2.shutdown();
        out.result(Out.map("queues", queues.size(), "initialOffsetSum", initialOffsetSum, "pulled", new TreeSet<>(all).size(),
            "tagA", tagA.size(), "tagAOnly", tagA.stream().allMatch(b -> Integer.parseInt(b.substring(b.lastIndexOf('-') + 1)) % 2 == 0), "stored", stored));
    }

    /**
     * The addresses the client has channels to, named "namesrv", "broker" (listenPort) or "vip"
     * (listenPort - 2). NettyRemotingClient keeps them in a private table: read it reflectively.
     */
    private static List<String> channelKinds(RemotingClient client, String namesrv, String brokerAddr) throws Exception {
        java.lang.reflect.Field f = client.getClass().getDeclaredField("channelTables");
        f.setAccessible(true);
        String vipAddr = MixAll.brokerVIPChannel(true, brokerAddr);
        TreeSet<String> kinds = new TreeSet<>();
        for (Object key : ((Map<?, ?>) f.get(client)).keySet()) {
            if (key.equals(namesrv)) kinds.add("namesrv");
            else if (key.equals(brokerAddr)) kinds.add("broker");
            else if (key.equals(vipAddr)) kinds.add("vip");
            else kinds.add("other " + key);
        }
        return new ArrayList<>(kinds);
    }

    /**
     * {@code count} sync sends and a lite pull consumer that polls each body once, under the JVM's
     * -Drocketmq.serialize.type and the {@code vipChannel} argument; the result names the header
     * serialization the client used and the broker ports the producer connected to.
     */
    static void sendPollWire(Args args, Out out) throws Exception {
        String topic = args.str("topic");
        int count = args.integer("count", 20);
        DefaultMQProducer producer = Clients.producer(args, "wire_producer");
        producer.start();
        int ok = 0;
        String brokerName = null;
        for (int i = 0; i < count; i++) {
            SendResult r = producer.send(new Message(topic, "TagW", ("wire-" + i).getBytes(StandardCharsets.UTF_8)));
            if (r.getSendStatus() == SendStatus.SEND_OK) ok++;
            brokerName = r.getMessageQueue().getBrokerName();
        }
        var factory = producer.getDefaultMQProducerImpl().getmQClientFactory();
        List<String> producerChannels = channelKinds(factory.getMQClientAPIImpl().getRemotingClient(), args.namesrv(), factory.findBrokerAddressInPublish(brokerName));
        producer.shutdown();

        DefaultLitePullConsumer c = liteConsumer(args, Clients.group(args, "wire_consumer"), true, "wire-consumer");
        c.subscribe(topic, "*");
        c.start();
        List<String> seen = new ArrayList<>();
        pollUntil(c, seen, "wire-", count, 30_000);
        c.shutdown();
        out.result(Out.map("serializeType", RemotingCommand.getSerializeTypeConfigInThisServer().name(), "sentOk", ok,
            "received", seen.size(), "distinct", new TreeSet<>(seen).size(), "producerChannels", producerChannels));
    }
}
