package tsmq.interop;

import java.util.Map;

final class DelayTransactionScenarios {
    private DelayTransactionScenarios() {}

    static void register(Map<String, Scenario> all) {
    }
}
