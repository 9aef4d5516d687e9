// `tsmq admin <command>`: the mqadmin commands tsmq supports, readable tables or --json.

import { type ArgsDef, defineCommand } from "citty";
import { AdminClient } from "../client/admin.ts";
import { fail, failWith, formatTable, intArg, namesrvArg, namesrvOrExit } from "../client/cli-support.ts";
import type { ConsumedMessage } from "../client/consumed-message.ts";

const jsonArg = { json: { type: "boolean", description: "print JSON" } } as const;
const brokerArg = { broker: { type: "string", alias: "b", description: "broker address host:port or broker name" } } as const;
const clusterArg = { cluster: { type: "string", alias: "c", description: "cluster name" } } as const;

function print(json: boolean, value: unknown, text: () => string): void {
  process.stdout.write(json ? JSON.stringify(value, null, 2) + "\n" : text());
}

function time(ms: number): string {
  return ms > 0 ? new Date(ms).toISOString() : "-";
}

/** Defines one admin subcommand: creates the client, runs, prints, maps failures to exit 1. */
function adminCommand<A extends ArgsDef>(name: string, description: string, args: A, run: (admin: AdminClient, args: Record<string, any>) => Promise<void>) {
  return defineCommand({
    meta: { name, description },
    args: { ...namesrvArg, ...jsonArg, ...args },
    async run({ args: parsed }) {
      const a = parsed as Record<string, any>;
      const command = `admin ${name}`;
      const admin = new AdminClient({ namesrvAddr: namesrvOrExit(command, a.namesrvAddr), logger: { warn: () => {}, info: () => {} } });
      try {
        await run(admin, a);
      } catch (err) {
        admin.close();
        failWith(command, err);
      }
      admin.close();
      process.exit(0);
    },
  });
}

/** Masters selected by -b or -c (all clusters when neither is given). */
async function targets(admin: AdminClient, a: Record<string, any>): Promise<Array<{ brokerName: string; addr: string }>> {
  if (a.broker) return [{ brokerName: a.broker, addr: await admin.resolveBroker(a.broker) }];
  const masters = await admin.masterAddrs(a.cluster);
  if (masters.length === 0) throw new Error(a.cluster ? `cluster ${a.cluster} has no master broker` : "no broker is registered with the NameServer");
  return masters;
}

function messageDetails(m: ConsumedMessage): string {
  const rows: Array<[string, string | number]> = [
    ["OffsetID", m.offsetMsgId],
    ["MsgId", m.msgId],
    ["Topic", m.topic],
    ["Tags", m.tags ?? ""],
    ["Keys", m.keys ?? ""],
    ["Queue ID", m.queueId],
    ["Queue Offset", m.queueOffset],
    ["CommitLog Offset", m.commitLogOffset],
    ["Reconsume Times", m.reconsumeTimes],
    ["Born Timestamp", time(m.bornTimestamp)],
    ["Store Timestamp", time(m.storeTimestamp)],
    ["Born Host", m.bornHost],
    ["Store Host", m.storeHost],
    ["System Flag", m.sysFlag],
    ["Properties", JSON.stringify(m.properties)],
    ["Body", JSON.stringify(new TextDecoder().decode(m.body))],
  ];
  return rows.map(([k, v]) => `${k.padEnd(18)}: ${v}`).join("\n") + "\n";
}

function messageJson(m: ConsumedMessage): Record<string, unknown> {
  const { body, propertiesString: _p, ...rest } = m;
  return { ...rest, body: new TextDecoder().decode(body) };
}

function parseTimestamp(command: string, value: string): number {
  if (value === "now") return Date.now();
  if (/^-?\d+$/.test(value)) return Number(value);
  // mqadmin's yyyy-MM-dd#HH:mm:ss:SSS
  const m = /^(\d{4})-(\d{2})-(\d{2})#(\d{2}):(\d{2}):(\d{2}):(\d{3})$/.exec(value);
  if (m) return new Date(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, +m[7]!).getTime();
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) fail(command, `timestamp ${value} is not ms epoch, now, -1, yyyy-MM-dd#HH:mm:ss:SSS or an ISO date`);
  return parsed;
}

const clusterList = adminCommand("clusterList", "List brokers of every cluster with version and TPS", {}, async (admin, a) => {
  const info = await admin.clusterInfo();
  const rows: Array<Record<string, string | number>> = [];
  for (const [cluster, names] of Object.entries(info.clusterAddrTable).sort()) {
    for (const name of [...names].sort()) {
      for (const [id, addr] of Object.entries(info.brokerAddrTable[name]?.brokerAddrs ?? {})) {
        let rt: Record<string, string> = {};
        try {
          rt = await admin.brokerRuntimeInfo(addr);
        } catch {
          // unreachable broker: show it without stats
        }
        rows.push({ cluster, brokerName: name, brokerId: Number(id), addr, version: rt.brokerVersionDesc ?? "", putTps: (rt.putTps ?? "").split(" ")[0] ?? "", getTps: (rt.getTransferedTps ?? "").split(" ")[0] ?? "" });
      }
    }
  }
  print(a.json, rows, () => formatTable(["#Cluster Name", "#Broker Name", "#BID", "#Addr", "#Version", "#InTPS", "#OutTPS"], rows.map((r) => [r.cluster!, r.brokerName!, r.brokerId!, r.addr!, r.version!, r.putTps!, r.getTps!])));
});

const topicList = adminCommand("topicList", "List every topic known to the NameServer", {}, async (admin, a) => {
  const topics = await admin.topicList();
  print(a.json, topics, () => topics.map((t) => t + "\n").join(""));
});

const topicRoute = adminCommand("topicRoute", "Show the route of a topic", { topic: { type: "string", alias: "t", required: true, description: "topic" } }, async (admin, a) => {
  const route = await admin.topicRoute(a.topic);
  process.stdout.write(JSON.stringify(route, null, 2) + "\n");
});

const updateTopic = adminCommand(
  "updateTopic",
  "Create or update a topic on a broker (-b) or every master of a cluster (-c)",
  {
    ...brokerArg,
    ...clusterArg,
    topic: { type: "string", alias: "t", required: true, description: "topic" },
    readQueueNums: { type: "string", alias: "r", description: "read queues (default 8)" },
    writeQueueNums: { type: "string", alias: "w", description: "write queues (default 8)" },
    perm: { type: "string", alias: "p", description: "permission 2 W, 4 R, 6 RW (default 6)" },
    order: { type: "boolean", alias: "o", description: "ordered topic" },
  },
  async (admin, a) => {
    const cmd = "admin updateTopic";
    const config = {
      topic: a.topic,
      readQueueNums: intArg(cmd, "readQueueNums", a.readQueueNums, 8),
      writeQueueNums: intArg(cmd, "writeQueueNums", a.writeQueueNums, 8),
      perm: intArg(cmd, "perm", a.perm, 6),
      order: Boolean(a.order),
    };
    const done: string[] = [];
    for (const t of await targets(admin, a)) {
      await admin.createTopic(t.addr, config);
      done.push(t.addr);
    }
    print(a.json, { ...config, brokers: done }, () => done.map((addr) => `create topic to ${addr} success.\n`).join("") + `${JSON.stringify(config)}\n`);
  },
);

const deleteTopic = adminCommand("deleteTopic", "Delete a topic from the brokers of a cluster and the NameServers", { ...clusterArg, topic: { type: "string", alias: "t", required: true, description: "topic" } }, async (admin, a) => {
  await admin.deleteTopic(a.topic, a.cluster);
  print(a.json, { deleted: a.topic }, () => `delete topic [${a.topic}] from cluster [${a.cluster ?? "*"}] success.\n`);
});

const topicStatus = adminCommand("topicStatus", "Min/max offsets of every queue of a topic", { topic: { type: "string", alias: "t", required: true, description: "topic" } }, async (admin, a) => {
  const stats = await admin.topicStats(a.topic);
  print(a.json, stats, () => formatTable(["#Broker Name", "#QID", "#Min Offset", "#Max Offset", "#Last Updated"], stats.map((s) => [s.mq.brokerName, s.mq.queueId, s.minOffset, s.maxOffset, time(s.lastUpdateTimestamp)])));
});

const updateSubGroup = adminCommand(
  "updateSubGroup",
  "Create or update a subscription group",
  {
    ...brokerArg,
    ...clusterArg,
    group: { type: "string", alias: "g", required: true, description: "consumer group" },
    retryMaxTimes: { type: "string", alias: "q", description: "retries before the DLQ (default 16)" },
    retryQueueNums: { type: "string", description: "retry queues (default 1)" },
    consumeEnable: { type: "string", alias: "s", description: "true|false (default true)" },
    consumeBroadcastEnable: { type: "string", alias: "d", description: "true|false (default true)" },
  },
  async (admin, a) => {
    const cmd = "admin updateSubGroup";
    const fields: Record<string, unknown> = {};
    if (a.retryMaxTimes !== undefined) fields.retryMaxTimes = intArg(cmd, "retryMaxTimes", a.retryMaxTimes, 0, 0);
    if (a.retryQueueNums !== undefined) fields.retryQueueNums = intArg(cmd, "retryQueueNums", a.retryQueueNums, 1, 0);
    if (a.consumeEnable !== undefined) fields.consumeEnable = a.consumeEnable === "true";
    if (a.consumeBroadcastEnable !== undefined) fields.consumeBroadcastEnable = a.consumeBroadcastEnable === "true";
    const done: string[] = [];
    for (const t of await targets(admin, a)) {
      await admin.createSubscriptionGroup(t.addr, a.group, fields);
      done.push(t.addr);
    }
    print(a.json, { group: a.group, ...fields, brokers: done }, () => done.map((addr) => `create subscription group to ${addr} success.\n`).join(""));
  },
);

const deleteSubGroup = adminCommand(
  "deleteSubGroup",
  "Delete a subscription group",
  { ...brokerArg, ...clusterArg, group: { type: "string", alias: "g", required: true, description: "consumer group" }, removeOffset: { type: "boolean", alias: "r", description: "also remove its offsets" } },
  async (admin, a) => {
    const done: string[] = [];
    for (const t of await targets(admin, a)) {
      await admin.deleteSubscriptionGroup(t.addr, a.group, Boolean(a.removeOffset));
      done.push(t.addr);
    }
    print(a.json, { group: a.group, brokers: done }, () => done.map((addr) => `delete subscription group [${a.group}] from broker [${addr}] success.\n`).join(""));
  },
);

const consumerProgress = adminCommand(
  "consumerProgress",
  "Broker offset, consumer offset and lag per queue of a group",
  { group: { type: "string", alias: "g", required: true, description: "consumer group" }, topic: { type: "string", alias: "t", description: "only this topic" } },
  async (admin, a) => {
    const { consumeTps, progress } = await admin.consumeStats(a.group, a.topic);
    const diff = progress.reduce((s, p) => s + (p.brokerOffset - p.consumerOffset), 0);
    print(a.json, { consumeTps, diffTotal: diff, progress }, () =>
      formatTable(["#Topic", "#Broker Name", "#QID", "#Broker Offset", "#Consumer Offset", "#Diff", "#LastTime"], progress.map((p) => [p.mq.topic, p.mq.brokerName, p.mq.queueId, p.brokerOffset, p.consumerOffset, p.brokerOffset - p.consumerOffset, time(p.lastTimestamp)])) +
      `\nConsume TPS: ${consumeTps.toFixed(2)}\nDiff Total: ${diff}\n`,
    );
  },
);

const consumerConnection = adminCommand("consumerConnection", "Live connections and subscriptions of a consumer group", { group: { type: "string", alias: "g", required: true, description: "consumer group" } }, async (admin, a) => {
  const cc = await admin.consumerConnection(a.group);
  const conns = (cc.connectionSet as Array<Record<string, unknown>> | undefined) ?? [];
  const subs = Object.values((cc.subscriptionTable as Record<string, Record<string, unknown>> | undefined) ?? {});
  print(a.json, cc, () =>
    formatTable(["#ClientId", "#ClientAddr", "#Language", "#Version"], conns.map((c) => [String(c.clientId), String(c.clientAddr), String(c.language), String(c.version)])) +
    "\n" + formatTable(["#Topic", "#SubExpression"], subs.map((s) => [String(s.topic), String(s.subString)])) +
    `\nConsumeType: ${cc.consumeType}\nMessageModel: ${cc.messageModel}\nConsumeFromWhere: ${cc.consumeFromWhere}\n`,
  );
});

const producerConnection = adminCommand(
  "producerConnection",
  "Live connections of a producer group",
  { group: { type: "string", alias: "g", required: true, description: "producer group" }, topic: { type: "string", alias: "t", required: true, description: "a topic the group sends to" } },
  async (admin, a) => {
    const pc = await admin.producerConnection(a.group, a.topic);
    const conns = (pc.connectionSet as Array<Record<string, unknown>> | undefined) ?? [];
    print(a.json, pc, () => formatTable(["#ClientId", "#ClientAddr", "#Language", "#Version"], conns.map((c) => [String(c.clientId), String(c.clientAddr), String(c.language), String(c.version)])));
  },
);

const brokerStatus = adminCommand("brokerStatus", "Runtime statistics of a broker", { ...brokerArg, ...clusterArg }, async (admin, a) => {
  const out: Record<string, Record<string, string>> = {};
  for (const t of await targets(admin, a)) out[t.addr] = await admin.brokerRuntimeInfo(t.addr);
  print(a.json, out, () =>
    Object.entries(out)
      .map(([addr, table]) => Object.keys(table).sort().map((k) => `${addr.padEnd(22)} ${k.padEnd(40)}: ${table[k]}`).join("\n"))
      .join("\n") + "\n",
  );
});

const queryMsgById = adminCommand("queryMsgById", "Show a message by its offset message id", { msgId: { type: "string", alias: "i", required: true, description: "offset msgId" } }, async (admin, a) => {
  const m = await admin.viewMessage(a.msgId);
  print(a.json, messageJson(m), () => messageDetails(m));
});

const queryMsgByKey = adminCommand(
  "queryMsgByKey",
  "Find messages of a topic by key",
  { topic: { type: "string", alias: "t", required: true, description: "topic" }, key: { type: "string", alias: "k", required: true, description: "message key" } },
  async (admin, a) => {
    const msgs = await admin.queryMessageByKey(a.topic, a.key);
    print(a.json, msgs.map(messageJson), () => formatTable(["#Message ID", "#Offset ID", "#QID", "#Offset"], msgs.map((m) => [m.msgId, m.offsetMsgId, m.queueId, m.queueOffset])));
  },
);

const queryMsgByOffset = adminCommand(
  "queryMsgByOffset",
  "Show the message at a queue offset",
  {
    topic: { type: "string", alias: "t", required: true, description: "topic" },
    brokerName: { type: "string", alias: "b", required: true, description: "broker name" },
    queueId: { type: "string", alias: "i", required: true, description: "queue id" },
    offset: { type: "string", alias: "o", required: true, description: "queue offset" },
  },
  async (admin, a) => {
    const cmd = "admin queryMsgByOffset";
    const mq = { topic: a.topic, brokerName: a.brokerName, queueId: intArg(cmd, "queueId", a.queueId, 0, 0) };
    await admin.topicRoute(a.topic);
    const m = await admin.queryMessageByOffset(mq, intArg(cmd, "offset", a.offset, 0, 0));
    if (!m) throw new Error(`no message at ${a.topic}/${a.brokerName}/${a.queueId} offset ${a.offset}`);
    print(a.json, messageJson(m), () => messageDetails(m));
  },
);

const resetOffsetByTime = adminCommand(
  "resetOffsetByTime",
  "Reset a group's offsets on a topic to a point in time",
  {
    group: { type: "string", alias: "g", required: true, description: "consumer group" },
    topic: { type: "string", alias: "t", required: true, description: "topic" },
    timestamp: { type: "string", alias: "s", required: true, description: "ms epoch | now | -1 (end) | yyyy-MM-dd#HH:mm:ss:SSS | ISO date" },
    force: { type: "string", alias: "f", description: "true (default): also move offsets forward" },
  },
  async (admin, a) => {
    const ts = parseTimestamp("admin resetOffsetByTime", a.timestamp);
    const result = await admin.resetOffsetByTime(a.group, a.topic, ts, a.force !== "false");
    print(a.json, result, () => formatTable(["#Broker Name", "#QID", "#Offset"], result.map((r) => [r.mq.brokerName, r.mq.queueId, r.offset])));
  },
);

const getBrokerConfig = adminCommand("getBrokerConfig", "Print a broker's configuration", { ...brokerArg, ...clusterArg }, async (admin, a) => {
  if (!a.broker && !a.cluster) fail("admin getBrokerConfig", "pass -b broker or -c cluster");
  const out: Record<string, Record<string, string>> = {};
  for (const t of await targets(admin, a)) out[t.addr] = await admin.brokerConfig(t.addr);
  print(a.json, out, () =>
    Object.entries(out)
      .map(([addr, cfg]) => `============${addr}============\n` + Object.keys(cfg).sort().map((k) => `${k.padEnd(50)}=  ${cfg[k]}`).join("\n"))
      .join("\n") + "\n",
  );
});

export default defineCommand({
  meta: { name: "admin", description: "Administer topics, groups and brokers (mqadmin commands)" },
  subCommands: {
    clusterList,
    topicList,
    topicRoute,
    updateTopic,
    deleteTopic,
    topicStatus,
    updateSubGroup,
    deleteSubGroup,
    consumerProgress,
    consumerConnection,
    producerConnection,
    brokerStatus,
    queryMsgById,
    queryMsgByKey,
    queryMsgByOffset,
    resetOffsetByTime,
    getBrokerConfig,
  },
});
