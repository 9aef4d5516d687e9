// The compiled `./tsmq` command line (citty, bytecode build, lazily loaded subcommands): version, usage,
// and bad input answered with exit 1 and a message naming the problem.

import { beforeAll, describe, expect, test } from "bun:test";
import { ensureBinary, REPO_ROOT } from "./helpers.ts";

let binary: string;

/** Runs the binary to completion. */
async function tsmq(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn([binary, ...args], { cwd: REPO_ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

describe("tsmq command line (compiled binary)", () => {
  beforeAll(async () => {
    binary = await ensureBinary();
  }, 300_000);

  test("--version", async () => {
    expect(await tsmq(["--version"])).toEqual({ code: 0, stdout: "0.1.0\n", stderr: "" });
  });

  test("no command: usage on stdout, exit 1", async () => {
    const r = await tsmq([]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("USAGE `tsmq namesrv|broker|standalone|produce|consume|admin|bench`");
    expect(r.stdout).toMatch(/`standalone` +Run a NameServer and a broker in one process/);
    expect(r.stderr).toContain("No command specified.");
  });

  test("a nested subcommand's usage lists its options", async () => {
    const r = await tsmq(["admin", "topicRoute", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("USAGE `admin topicRoute [OPTIONS] -t, --topic`");
    expect(r.stdout).toMatch(/`-n, --namesrvAddr` +NameServer address/);
  });

  test("bad input exits 1 naming the problem", async () => {
    const unknown = await tsmq(["nosuch"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("Unknown command `nosuch`");
    const missing = await tsmq(["consume", "-t", "T"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("Missing required argument: --group");
    // A server option without its value must not fall back to the working directory or port 0.
    const noValue = await tsmq(["standalone", "--store"]);
    expect(noValue.code).toBe(1);
    expect(noValue.stderr).toContain("option --store needs a value");
    for (const command of ["standalone", "broker", "namesrv"]) {
      const badBind = await tsmq([command, "--bind", "example.com"]);
      expect({ command, code: badBind.code }).toEqual({ command, code: 1 });
      expect(badBind.stderr).toContain('option --bind needs an IP address to listen on, got "example.com"');
    }
  });
});
