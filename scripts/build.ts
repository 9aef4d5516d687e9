// Builds the single executable ./tsmq (package.json "build"; --outfile PATH builds elsewhere).
//
// - Bytecode (CommonJS output): start-up skips parsing; Node built-ins load when first used.
// - --bytecode-order: the functions one `tsmq standalone` start runs are laid out first (fewer
//   pages read and kept resident); re-record it after large changes, see src/cli.ts.
// - JIT policy 8: start-up code stays in the interpreter until a server is ready (src/cli/jit-policy.ts).
// - src/store/segment-worker.ts is a second entrypoint: the store's segment preparation thread.
// - citty's logger `consola` is replaced by src/cli/consola-lite.ts (why: see that file).
// - .env and bunfig.toml in the working directory are not loaded by the executable.

import path from "node:path";

const REPO_ROOT = path.resolve(import.meta.dir, "..");
/** Tier-up thresholds scaled this much until start-up is over (src/cli/jit-policy.ts). */
const STARTUP_JIT_POLICY = 8;
const at = process.argv.indexOf("--outfile");
const outfile = at >= 0 ? path.resolve(process.argv[at + 1]!) : path.join(REPO_ROOT, "tsmq");

const result = await Bun.build({
  entrypoints: [path.join(REPO_ROOT, "src/cli.ts"), path.join(REPO_ROOT, "src/store/segment-worker.ts")],
  root: path.join(REPO_ROOT, "src"),
  compile: {
    outfile,
    autoloadDotenv: false,
    autoloadBunfig: false,
    bytecodeOrder: path.join(REPO_ROOT, "src/cli/startup.bytecode-order"),
    jitPolicy: STARTUP_JIT_POLICY,
  },
  bytecode: true,
  format: "cjs",
  plugins: [
    {
      name: "consola-lite",
      setup(build) {
        build.onResolve({ filter: /^consola(\/utils)?$/ }, () => ({ path: path.join(REPO_ROOT, "src/cli/consola-lite.ts") }));
      },
    },
  ],
});
if (!result.success) {
  for (const message of result.logs) console.error(String(message));
  process.exit(1);
}
console.log(`built ${outfile}`);
