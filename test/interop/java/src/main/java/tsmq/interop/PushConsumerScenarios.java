package tsmq.interop;

import java.util.Map;

final class PushConsumerScenarios {
    private PushConsumerScenarios() {}

    static void register(Map<String, Scenario> all) {
    }
}
