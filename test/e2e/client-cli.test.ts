// `tsmq produce`, `tsmq consume` and `tsmq admin` as subprocesses of the compiled binary against
// `./tsmq standalone`: output lines, committed offsets, exit codes and error messages.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ensureBinary, spawnTsmq, stopAllTsmq } from "./helpers.ts";
import { Producer } from "../../src/client/producer.ts";
import { type Standalone, startStandalone, waitUntil } from "../client/standalone-fixture.ts";

let sa: Standalone;
let bin: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function tsmq(args: string[], stdin?: string): Promise<Run> {
  const proc = Bun.spawn([bin, ...args], {
    // Broadcasting offsets go to the test's temp dir, not ~/.rocketmq_offsets.
    env: { ...process.env, NAMESRV_ADDR: sa.namesrvAddr, ROCKETMQ_CLIENT_LOCAL_OFFSET_STORE_DIR: `${sa.dir}/offsets` },
    stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

const jsonLines = (s: string) => s.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);

beforeAll(async () => {
  bin = await ensureBinary();
  sa = await startStandalone();
}, 180_000);

afterAll(async () => {
  await sa?.stop();
  await stopAllTsmq();
});

describe("tsmq produce / consume", () => {
  test("produce prints one result per message; consume prints them back and commits", async () => {
    const p = await tsmq(["produce", "-t", "CliTopic", "--tag", "TagA", "--keys", "k1 k2", "--props", "a=1,b=2", "--body", "hi there", "--count", "3", "--json"]);
    expect(p.code).toBe(0);
    const sent = jsonLines(p.stdout);
    expect(sent).toHaveLength(3);
    for (const r of sent) expect(r).toMatchObject({ sendStatus: "SEND_OK", topic: "CliTopic", brokerName: "broker-a" });

    const b = await tsmq(["produce", "-t", "CliTopic", "--tag", "TagB", "--batch", "2"], "line one\nline two\nline three\n");
    expect(b.code).toBe(0);
    expect(b.stdout.trim().split("\n")).toHaveLength(3);
    expect(b.stdout).toMatch(/^SEND_OK msgId=[0-9A-F]{32} offsetMsgId=[0-9A-F]{32} queue=broker-a:\d offset=\d+$/m);

    const c = await tsmq(["consume", "-t", "CliTopic", "-g", "cli_group", "--from", "first", "--count", "6", "--json"]);
    expect(c.code).toBe(0);
    const got = jsonLines(c.stdout);
    expect(got).toHaveLength(6);
    const a = got.filter((m) => m.tags === "TagA");
    expect(a).toHaveLength(3);
    for (const m of a) {
      expect(m).toMatchObject({ topic: "CliTopic", keys: "k1 k2", body: "hi there" });
      expect(m.properties).toMatchObject({ a: "1", b: "2" });
    }
    expect(got.filter((m) => m.tags === "TagB").map((m) => m.body).sort()).toEqual(["line one", "line three", "line two"]);
    expect(new Set(got.map((m) => m.msgId))).toEqual(new Set([...sent.map((r) => r.msgId), ...b.stdout.match(/msgId=[0-9A-F]{32}/g)!.map((s) => s.slice(6))]));

    // The offsets were committed on exit: no lag left.
    const progress = await tsmq(["admin", "consumerProgress", "-g", "cli_group", "-t", "CliTopic", "--json"]);
    expect(progress.code).toBe(0);
    expect(JSON.parse(progress.stdout).diffTotal).toBe(0);
  });

  test("produce --async, then consume --orderly --broadcast", async () => {
    const p = await tsmq(["produce", "-t", "CliAsync", "--body", "a", "--count", "50", "--async"]);
    expect(p.code).toBe(0);
    expect(p.stdout.match(/^SEND_OK /gm)).toHaveLength(50);
    const c = await tsmq(["consume", "-t", "CliAsync", "-g", "cli_orderly", "--from", "first", "--count", "50", "--orderly"]);
    expect(c.code).toBe(0);
    // Within each queue, offsets come in order.
    const last = new Map<string, number>();
    for (const line of c.stdout.trim().split("\n")) {
      const [, queue, offset] = /queue=(\S+) offset=(\d+)/.exec(line)!;
      expect(Number(offset)).toBeGreaterThan(last.get(queue!) ?? -1);
      last.set(queue!, Number(offset));
    }
    const b = await tsmq(["consume", "-t", "CliAsync", "-g", "cli_bc", "--from", "first", "--count", "50", "--broadcast"]);
    expect(b.code).toBe(0);
    expect(b.stdout.trim().split("\n")).toHaveLength(50);
  });

  test("consume --filter, and Ctrl-C exits 0", async () => {
    await tsmq(["produce", "-t", "CliFilter", "--tag", "X", "--body", "x"]);
    await tsmq(["produce", "-t", "CliFilter", "--tag", "Y", "--body", "y"]);
    const c = await spawnTsmq(["consume", "-n", sa.namesrvAddr, "-t", "CliFilter", "-g", "cli_filter", "--from", "first", "--filter", "Y"]);
    await c.waitForOutput(/body="y"/, 20_000);
    c.proc.kill("SIGINT");
    expect(await c.proc.exited).toBe(0);
    expect(c.output()).not.toContain('body="x"');
  });

  test("failures exit 1 with a clear message", async () => {
    const noRoute = await tsmq(["consume", "-t", "NoSuchTopic", "-g", "g1", "--count", "1"]);
    expect(noRoute.code).toBe(1);
    expect(noRoute.stderr).toContain("No topic route info in name server for the topic: NoSuchTopic");
    const unreachable = await tsmq(["admin", "topicList", "-n", "127.0.0.1:1"]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain("NameServer unreachable");
    const badTopic = await tsmq(["produce", "-t", "bad topic", "--body", "x"]);
    expect(badTopic.code).toBe(1);
    expect(badTopic.stderr).toContain("illegal characters");
    const help = await tsmq(["produce", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--delay-level");
  });
});

describe("tsmq admin", () => {
  test("topics, groups, messages and brokers", async () => {
    const ok = async (...args: string[]) => {
      const r = await tsmq(["admin", ...args]);
      if (r.code !== 0) throw new Error(`admin ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
      return r.stdout;
    };
    expect(await ok("clusterList")).toMatch(/DefaultCluster\s+broker-a\s+0\s+127\.0\.0\.1:\d+\s+V4_9_8/);
    expect(await ok("updateTopic", "-t", "AdminTopic", "-c", "DefaultCluster", "-r", "2", "-w", "2")).toContain("success");
    expect((await ok("topicList")).split("\n")).toContain("AdminTopic");
    expect(JSON.parse(await ok("topicRoute", "-t", "AdminTopic")).queueDatas[0]).toMatchObject({ brokerName: "broker-a", readQueueNums: 2, writeQueueNums: 2, perm: 6 });

    const sent = jsonLines((await tsmq(["produce", "-t", "AdminTopic", "--keys", "admin-key", "--body", "admin body", "--json"])).stdout)[0]!;
    expect(JSON.parse(await ok("topicStatus", "-t", "AdminTopic", "--json")).reduce((s: number, q: { maxOffset: number }) => s + q.maxOffset, 0)).toBe(1);
    expect(JSON.parse(await ok("queryMsgById", "-i", sent.offsetMsgId, "--json"))).toMatchObject({ body: "admin body", keys: "admin-key", msgId: sent.msgId });
    expect(JSON.parse(await ok("queryMsgByKey", "-t", "AdminTopic", "-k", "admin-key", "--json"))).toHaveLength(1);
    expect(await ok("queryMsgByOffset", "-t", "AdminTopic", "-b", "broker-a", "-i", String(sent.queueId), "-o", "0")).toContain("admin body");

    expect(await ok("updateSubGroup", "-g", "admin_group", "-b", sa.brokerAddr, "-q", "3")).toContain("success");
    expect(await ok("deleteSubGroup", "-g", "admin_group", "-b", "broker-a")).toContain("success");

    const status = JSON.parse(await ok("brokerStatus", "-b", "broker-a", "--json"));
    expect(Object.values(status)[0]).toHaveProperty("brokerVersionDesc", "V4_9_8");
    expect(await ok("getBrokerConfig", "-b", sa.brokerAddr)).toMatch(/brokerName\s+=\s+broker-a/);

    const consumer = await spawnTsmq(["consume", "-n", sa.namesrvAddr, "-t", "AdminTopic", "-g", "admin_live", "--from", "first"]);
    await consumer.waitForOutput(/admin body/, 20_000);
    const conn = JSON.parse(await ok("consumerConnection", "-g", "admin_live", "--json"));
    expect(conn.connectionSet).toHaveLength(1);
    await consumer.stop();
    expect(JSON.parse(await ok("consumerProgress", "-g", "admin_live", "-t", "AdminTopic", "--json")).diffTotal).toBe(0);
    // No live consumer: offsets are computed and written by the admin client itself.
    const reset = JSON.parse(await ok("resetOffsetByTime", "-g", "admin_live", "-t", "AdminTopic", "-s", "0", "--json"));
    expect(reset.map((r: { offset: number }) => r.offset)).toEqual([0, 0]);
    expect(JSON.parse(await ok("consumerProgress", "-g", "admin_live", "-t", "AdminTopic", "--json")).diffTotal).toBe(1);

    const producer = new Producer({ namesrvAddr: sa.namesrvAddr, instanceName: "admin-pc", groupName: "admin_pg", logger: { warn() {}, info() {} } }).start();
    try {
      await producer.send({ topic: "AdminTopic", body: "from a live producer" });
      await waitUntil("the producer's heartbeat", async () => (await tsmq(["admin", "producerConnection", "-g", "admin_pg", "-t", "AdminTopic"])).code === 0);
      expect(JSON.parse(await ok("producerConnection", "-g", "admin_pg", "-t", "AdminTopic", "--json")).connectionSet).toHaveLength(1);
    } finally {
      await producer.shutdown();
    }

    expect(await ok("deleteTopic", "-t", "AdminTopic", "-c", "DefaultCluster")).toContain("success");
    const gone = await tsmq(["admin", "topicRoute", "-t", "AdminTopic"]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("No topic route info");
  });
});
