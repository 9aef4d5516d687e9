package tsmq.interop;

import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.producer.DefaultMQProducer;

/**
 * Client construction shared by the scenarios: the namesrv from the driver, a group name made
 * unique per run ({@code group} argument, else the scenario's default), and the driver-chosen
 * {@code vipChannel} setting (the serialize type comes in as -Drocketmq.serialize.type).
 */
public final class Clients {
    private Clients() {}

    public static String group(Args args, String fallback) {
        return args.str("group", fallback);
    }

    public static DefaultMQProducer producer(Args args, String defaultGroup) {
        DefaultMQProducer p = new DefaultMQProducer(group(args, defaultGroup));
        p.setNamesrvAddr(args.namesrv());
        p.setVipChannelEnabled(args.flag("vipChannel", false));
        p.setInstanceName(args.str("instance", "producer-" + ProcessHandle.current().pid()));
        return p;
    }

    public static DefaultMQPushConsumer pushConsumer(Args args, String defaultGroup) {
        DefaultMQPushConsumer c = new DefaultMQPushConsumer(group(args, defaultGroup));
        c.setNamesrvAddr(args.namesrv());
        c.setVipChannelEnabled(args.flag("vipChannel", false));
        c.setInstanceName(args.str("instance", "consumer-" + ProcessHandle.current().pid()));
        return c;
    }
}
