// mqadmin 4.9.8 `updateBrokerConfig` against the compiled ./tsmq (issue 13, item 2): an allow-listed
// key changes and is written back to the broker's -c file; a path key is refused with
// NO_PERMISSION (16) and the file keeps its content.

import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describeJava, ensureJavaPeer, runJavaMain, stopAllJava } from "./java-peer.ts";
import { startTsmqCluster, type TsmqCluster } from "./tsmq-cluster.ts";

const MQADMIN = "org.apache.rocketmq.tools.command.MQAdminStartup";
/** MQAdminStartup configures logback from <rocketmq.home.dir>/conf/logback_tools.xml; a quiet one. */
const LOGBACK_TOOLS = '<configuration><root level="OFF"/></configuration>\n';

describeJava("mqadmin updateBrokerConfig against tsmq", () => {
  let cluster: TsmqCluster;
  const rocketmqHome = fs.mkdtempSync(path.join(os.tmpdir(), "tsmq-mqadmin-home-"));
  const mqadmin = (argv: string[]) => runJavaMain(MQADMIN, argv, { systemProperties: { "rocketmq.home.dir": rocketmqHome } });

  beforeAll(async () => {
    fs.mkdirSync(path.join(rocketmqHome, "conf"));
    fs.writeFileSync(path.join(rocketmqHome, "conf", "logback_tools.xml"), LOGBACK_TOOLS);
    await ensureJavaPeer();
    cluster = await startTsmqCluster({ brokers: [{ name: "broker-a" }] });
  }, 600_000);

  afterAll(async () => {
    await stopAllJava();
    await cluster?.stop();
    fs.rmSync(rocketmqHome, { recursive: true, force: true });
  });

  test("an allowed key is applied and persisted; a path key is refused with 16", async () => {
    const broker = cluster.broker("broker-a");
    const update = (key: string, value: string) => mqadmin(["updateBrokerConfig", "-n", cluster.namesrvAddr, "-b", broker.addr, "-k", key, "-v", value]);
    const ok = await update("brokerPermission", "4");
    expect(ok.stdout).toContain(`update broker config success, ${broker.addr}`);
    expect(fs.readFileSync(broker.confPath, "utf8")).toContain("brokerPermission=4\n");
    const shown = await mqadmin(["getBrokerConfig", "-n", cluster.namesrvAddr, "-b", broker.addr]);
    expect(shown.stdout).toMatch(/brokerPermission\s+=\s+4/);

    const before = fs.readFileSync(broker.confPath, "utf8");
    const refused = await update("storePathCommitLog", "/tmp/evil");
    expect(refused.stdout + refused.stderr).toMatch(/CODE: 16 .*Can not update config storePathCommitLog/);
    expect(fs.readFileSync(broker.confPath, "utf8")).toBe(before);
  }, 120_000);
});
