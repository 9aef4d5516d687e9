package tsmq.interop;

import java.util.Map;

final class RequestReplyScenarios {
    private RequestReplyScenarios() {}

    static void register(Map<String, Scenario> all) {
    }
}
