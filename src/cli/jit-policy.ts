// The executable starts with JavaScriptCore's tier-up thresholds scaled up (`jitPolicy` in
// scripts/build.ts), so run-once start-up code (config, store recovery, module
// set-up) stays in the interpreter instead of keeping the JIT threads busy and their code resident:
// a broker is ready sooner and idles in less memory. Work that needs the JIT goes back to the
// normal policy first: a server once it is ready, every other command before it runs.

/** JavaScriptCore's normal JIT policy (Bun.unsafe.setJITPolicy's scale). */
const NORMAL_JIT_POLICY = 1;

/** Restores the normal tier-up thresholds; a no-op when they are normal already (`bun src/cli.ts`, tests). */
export function useNormalJitPolicy(): void {
  Bun.unsafe.setJITPolicy(NORMAL_JIT_POLICY);
}
