// `tsmq bench produce|consume` as real subprocesses (bun src/cli.ts) against an in-process broker:
// --json summaries, live lines, bad arguments, and Ctrl-C ending a run with its summary.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import path from "node:path";
import { startTestBroker, waitUntil, type TestBroker } from "./broker-fixture.ts";

const CLI = path.resolve(import.meta.dir, "../../src/cli.ts");

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker?.stop();
});

async function runCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const proc = Bun.spawn(["bun", CLI, "bench", ...args], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, out, err };
}

describe("tsmq bench", () => {
  test("produce --json then consume --first --json over the same topic", async () => {
    const p = await runCli(["produce", "-n", broker.namesrvAddr, "-t", "CliBench", "-w", "8", "-s", "256", "-k", "-l", "2", "-c", "300", "--json"]);
    expect(p.code).toBe(0);
    const produced = JSON.parse(p.out.trim().split("\n").at(-1)!) as Record<string, number>;
    expect(produced.sent).toBe(300);
    expect(produced.sendFailed).toBe(0);
    expect(produced.p99RtMs).toBeGreaterThan(0);

    const c = await runCli(["consume", "-n", broker.namesrvAddr, "-t", "CliBench", "--first", "-b", "16", "-c", "301", "--json"]);
    expect(c.code).toBe(0);
    const consumed = JSON.parse(c.out.trim().split("\n").at(-1)!) as Record<string, number>;
    expect(consumed.consumed).toBe(301);
  });

  test("bad arguments exit 1 naming the flag", async () => {
    const r = await runCli(["produce", "-n", broker.namesrvAddr, "-w", "zero"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("--senders must be an integer >= 1, got zero");
    const s = await runCli(["produce", "-n", broker.namesrvAddr, "--serialize-type", "XML", "-c", "1"]);
    expect(s.code).toBe(1);
    expect(s.err).toContain("--serialize-type must be JSON or ROCKETMQ, got XML");
  });

  test("Ctrl-C ends an open-ended consume run with its summary", async () => {
    const proc = Bun.spawn(["bun", CLI, "bench", "consume", "-n", broker.namesrvAddr, "-t", "CliBench", "--interval", "1"], { stdout: "pipe", stderr: "pipe" });
    let out = "";
    const reading = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of proc.stdout) out += decoder.decode(chunk, { stream: true });
    })();
    try {
      await waitUntil("a live line", () => /Consume TPS: \d+/.test(out), 15_000);
      proc.kill("SIGINT");
      expect(await proc.exited).toBe(0);
      await reading;
      expect(out).toMatch(/\[Complete\] Consumed: \d+ Elapsed\(ms\): \d+ Consume TPS: \d+/);
    } finally {
      proc.kill("SIGKILL");
    }
  });

  test("Ctrl-C ends an open-ended run with live lines and the final summary", async () => {
    const proc = Bun.spawn(["bun", CLI, "bench", "produce", "-n", broker.namesrvAddr, "-t", "CliBenchSigint", "-w", "4", "--interval", "1"], { stdout: "pipe", stderr: "pipe" });
    let out = "";
    const reading = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of proc.stdout) out += decoder.decode(chunk, { stream: true });
    })();
    try {
      await waitUntil("a live line", () => /Send TPS: \d+/.test(out), 15_000);
      proc.kill("SIGINT");
      expect(await proc.exited).toBe(0);
      await reading;
      expect(out).toMatch(/\[Complete\] Send Total: \d+ Send TPS: \d+ .*p50\(ms\): [\d.]+ p99\(ms\): [\d.]+ p999\(ms\): [\d.]+ Send Failed: 0 Response Failed: 0/);
    } finally {
      proc.kill("SIGKILL");
    }
  });
});
