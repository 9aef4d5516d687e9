package tsmq.interop;

import java.util.Map;

final class PullConsumerScenarios {
    private PullConsumerScenarios() {}

    static void register(Map<String, Scenario> all) {
    }
}
