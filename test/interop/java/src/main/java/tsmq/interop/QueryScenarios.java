package tsmq.interop;

import java.util.Map;

final class QueryScenarios {
    private QueryScenarios() {}

    static void register(Map<String, Scenario> all) {
    }
}
