package tsmq.interop;

import com.alibaba.fastjson.JSON;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The line protocol with the TypeScript driver. Stdout: {@code EVENT <name> {json}} while running,
 * one {@code RESULT {json}} at the end, {@code ERROR <stack>} when the scenario threw. Stdin: the
 * driver writes a word per line when the scenario waits for it ({@link #awaitWord}), e.g. after it
 * stopped a broker.
 */
public final class Out {
    private final BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));

    /** A progress event the driver may wait for (for example "subscribed" before it starts producing). */
    public synchronized void event(String name, Object... keyValues) {
        System.out.println("EVENT " + name + " " + JSON.toJSONString(map(keyValues)));
        System.out.flush();
    }

    /** The scenario's outcome: exactly one per run. */
    public synchronized void result(Map<String, ?> values) {
        System.out.println("RESULT " + JSON.toJSONString(values));
        System.out.flush();
    }

    public synchronized void error(Throwable t) {
        StringWriter sw = new StringWriter();
        t.printStackTrace(new PrintWriter(sw));
        System.out.println("ERROR " + sw.toString().replace('\n', ' '));
    }

    public void flush() {
        System.out.flush();
    }

    /** Blocks until the driver writes {@code word} on a line of stdin (other lines are ignored). */
    public void awaitWord(String word, long timeoutMs) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (System.nanoTime() < deadline) {
            if (stdin.ready()) {
                String line = stdin.readLine();
                if (line == null) break;
                if (line.trim().equals(word)) return;
            } else {
                Thread.sleep(5);
            }
        }
        throw new IllegalStateException("driver did not send '" + word + "' within " + timeoutMs + " ms");
    }

    /** A map from alternating keys and values, in order. */
    public static Map<String, Object> map(Object... keyValues) {
        if (keyValues.length % 2 != 0) throw new IllegalArgumentException("odd number of key/values");
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) m.put((String) keyValues[i], keyValues[i + 1]);
        return m;
    }
}
