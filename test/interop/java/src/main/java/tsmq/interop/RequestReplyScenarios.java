package tsmq.interop;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyContext;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.RequestCallback;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.client.utils.MessageUtil;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;

/**
 * Request–reply (RocketMQ 4.6+): a requester's {@code DefaultMQProducer.request} and a replier that
 * answers each request with {@code MessageUtil.createReplyMessage}. A reply's body is "reply-" plus
 * the request's body, so each side can tell that every request got its own reply.
 */
final class RequestReplyScenarios {
    private RequestReplyScenarios() {}

    static final String REPLY_PREFIX = "reply-";

    static void register(Map<String, Scenario> all) {
        all.put("reply.replier", RequestReplyScenarios::replier);
        all.put("reply.requester", RequestReplyScenarios::requester);
    }

    /**
     * Answers every message of {@code topic} until the driver says "stop"; prints "subscribed" once
     * the consumer runs. Result: replies sent OK, failed reply sends, distinct request bodies seen.
     */
    static void replier(Args args, Out out) throws Exception {
        String topic = args.str("topic");
        DefaultMQProducer replyProducer = Clients.producer(args, "reply_producer");
        replyProducer.start();
        AtomicInteger replied = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        Set<String> requests = ConcurrentHashMap.newKeySet();
        DefaultMQPushConsumer consumer = Clients.pushConsumer(args, "reply_consumer");
        consumer.subscribe(topic, "*");
        consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        consumer.registerMessageListener((List<MessageExt> msgs, ConsumeConcurrentlyContext ctx) -> {
            for (MessageExt m : msgs) {
                String body = new String(m.getBody(), StandardCharsets.UTF_8);
                requests.add(body);
                try {
                    Message reply = MessageUtil.createReplyMessage(m, (REPLY_PREFIX + body).getBytes(StandardCharsets.UTF_8));
                    SendResult r = replyProducer.send(reply, 3000);
                    if (r.getSendStatus() == SendStatus.SEND_OK) replied.incrementAndGet();
                    else failed.incrementAndGet();
                } catch (Exception e) {
                    failed.incrementAndGet();
                    out.event("replyFailed", "body", body, "error", String.valueOf(e));
                }
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        consumer.start();
        out.event("subscribed");
        out.awaitWord("stop", args.number("timeoutMs", 120_000));
        // The requester has its reply once the broker pushed it, before this send returns: let the
        // sends in flight finish, as shutting the consumer down interrupts its threads.
        Waits.until("replies in flight", 10_000, () -> replied.get() + failed.get() >= requests.size());
        consumer.shutdown();
        replyProducer.shutdown();
        out.result(Out.map("replied", replied.get(), "failed", failed.get(), "requests", requests.size()));
    }

    /**
     * {@code count} requests to {@code topic}, {@code mode} "sync" (one after the other) or "async"
     * (all in flight, RequestCallback), bodies padded with {@code padBytes}. Result: requests, replies whose body matches their request,
     * mismatched replies, errors.
     */
    static void requester(Args args, Out out) throws Exception {
        String topic = args.str("topic");
        int count = args.integer("count", 20);
        long requestTimeoutMs = args.number("requestTimeoutMs", 5_000);
        DefaultMQProducer producer = Clients.producer(args, "request_producer");
        producer.start();
        Set<String> matched = ConcurrentHashMap.newKeySet();
        AtomicInteger mismatched = new AtomicInteger();
        AtomicInteger errors = new AtomicInteger();
        AtomicInteger nullSuccesses = new AtomicInteger();
        boolean async = args.str("mode", "sync").equals("async");
        // padBytes > 4 KiB makes both the request and its reply compressed on the wire.
        String pad = "x".repeat(args.integer("padBytes", 0));
        for (int i = 0; i < count; i++) {
            String body = "req-" + i + pad;
            Message msg = new Message(topic, "TagR", "k" + i, body.getBytes(StandardCharsets.UTF_8));
            if (async) {
                producer.request(msg, new RequestCallback() {
                    @Override
                    public void onSuccess(Message reply) {
                        // 4.9.8 also calls onSuccess(null) once the request is sent, before any reply.
                        if (reply == null) nullSuccesses.incrementAndGet();
                        else check(body, reply, matched, mismatched);
                    }

                    @Override
                    public void onException(Throwable e) {
                        errors.incrementAndGet();
                        out.event("requestFailed", "body", body, "error", String.valueOf(e));
                    }
                }, requestTimeoutMs);
            } else {
                try {
                    check(body, producer.request(msg, requestTimeoutMs), matched, mismatched);
                } catch (Exception e) {
                    errors.incrementAndGet();
                    out.event("requestFailed", "body", body, "error", String.valueOf(e));
                }
            }
        }
        Waits.until(count + " replies or errors", requestTimeoutMs * 2, () -> matched.size() + mismatched.get() + errors.get() >= count);
        producer.shutdown();
        out.result(Out.map("requests", count, "replies", matched.size(), "mismatched", mismatched.get(), "errors", errors.get()));
    }

    private static void check(String body, Message reply, Set<String> matched, AtomicInteger mismatched) {
        String replyBody = new String(reply.getBody(), StandardCharsets.UTF_8);
        if (replyBody.equals(REPLY_PREFIX + body)) matched.add(body);
        else mismatched.incrementAndGet();
    }
}
