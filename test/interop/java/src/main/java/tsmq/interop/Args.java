package tsmq.interop;

import java.util.HashMap;
import java.util.Map;

/** The scenario's {@code key=value} arguments; {@code namesrv} is always given by the driver. */
public final class Args {
    private final Map<String, String> values;

    private Args(Map<String, String> values) {
        this.values = values;
    }

    static Args parse(String[] argv) {
        Map<String, String> values = new HashMap<>();
        for (String a : argv) {
            int eq = a.indexOf('=');
            if (eq <= 0) throw new IllegalArgumentException("argument is not key=value: " + a);
            values.put(a.substring(0, eq), a.substring(eq + 1));
        }
        return new Args(values);
    }

    public String namesrv() {
        return str("namesrv");
    }

    public String str(String key) {
        String v = values.get(key);
        if (v == null) throw new IllegalArgumentException("missing argument " + key);
        return v;
    }

    public String str(String key, String fallback) {
        return values.getOrDefault(key, fallback);
    }

    public int integer(String key, int fallback) {
        String v = values.get(key);
        return v == null ? fallback : Integer.parseInt(v);
    }

    public long number(String key, long fallback) {
        String v = values.get(key);
        return v == null ? fallback : Long.parseLong(v);
    }

    public boolean flag(String key, boolean fallback) {
        String v = values.get(key);
        return v == null ? fallback : Boolean.parseBoolean(v);
    }
}
