package tsmq.interop;

import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * Entry point of the Java interop peer: {@code java -cp ... tsmq.interop.Main <scenario> key=value ...}.
 * Each scenario talks to the broker under test with the official RocketMQ client, prints progress
 * events and ends with one {@code RESULT {json}} line that the TypeScript test checks.
 * Exit code 0 when the scenario ran to its end, 1 when it threw, 2 for a usage error.
 */
public final class Main {
    private Main() {}

    /** Every scenario by name; one line per family, each family registers its own scenarios. */
    static Map<String, Scenario> registry() {
        Map<String, Scenario> all = new TreeMap<>();
        ProducerScenarios.register(all);
        PushConsumerScenarios.register(all);
        PullConsumerScenarios.register(all);
        DelayTransactionScenarios.register(all);
        QueryScenarios.register(all);
        RequestReplyScenarios.register(all);
        AdminScenarios.register(all);
        return all;
    }

    public static void main(String[] argv) {
        Map<String, Scenario> all = registry();
        if (argv.length == 0 || !all.containsKey(argv[0])) {
            System.err.println("usage: Main <scenario> [key=value ...]; scenarios: " + all.keySet());
            System.exit(2);
        }
        Args args = Args.parse(Arrays.copyOfRange(argv, 1, argv.length));
        Out out = new Out();
        try {
            all.get(argv[0]).run(args, out);
            out.flush();
            // Client threads (netty, rebalance, timers) are not all daemons: exit explicitly.
            System.exit(0);
        } catch (Throwable t) {
            out.error(t);
            out.flush();
            System.exit(1);
        }
    }
}
