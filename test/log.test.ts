import { expect, test } from "bun:test";

// The level is read from TSMQ_LOG_LEVEL at start-up, so each case runs in a fresh process.
async function logLines(level: string | undefined): Promise<string[]> {
  const script = 'import { createLogger } from "./src/log.ts"; const l = createLogger("t"); l.debug("d"); l.info("i"); l.warn("w"); l.error("e", new Error("boom"));';
  const env: Record<string, string | undefined> = { ...process.env, TSMQ_LOG_LEVEL: level };
  const proc = Bun.spawn(["bun", "-e", script], { cwd: `${import.meta.dir}/..`, env, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect(stdout).toBe(""); // logs never go to stdout
  return stderr.split("\n").filter((l) => /^\d{4}-\d\d-\d\dT/.test(l));
}

test("default level info: timestamped lines on stderr with level and scope", async () => {
  const lines = await logLines(undefined);
  expect(lines.map((l) => l.replace(/^\S+ /, ""))).toEqual(["INFO  [t] i", "WARN  [t] w", "ERROR [t] e: Error: boom"]);
});

test("TSMQ_LOG_LEVEL filters", async () => {
  expect((await logLines("debug")).length).toBe(4);
  expect((await logLines("error")).map((l) => l.replace(/^\S+ /, ""))).toEqual(["ERROR [t] e: Error: boom"]);
});
