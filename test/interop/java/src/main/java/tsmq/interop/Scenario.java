package tsmq.interop;

/** One interop scenario: uses the official client against {@code args.namesrv()} and reports through {@code out}. */
@FunctionalInterface
public interface Scenario {
    void run(Args args, Out out) throws Exception;
}
