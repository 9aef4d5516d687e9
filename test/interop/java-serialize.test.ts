// Both remoting header serializations and both broker channels with the official Java client 4.9.8
// against the compiled ./tsmq: -Drocketmq.serialize.type=JSON (the default) and ROCKETMQ (the
// binary header), each with vipChannelEnabled false and true (the producer sends to the VIP
// port, listenPort - 2, which tsmq listens on as Apache does).

import { afterAll, beforeAll, expect, test } from "bun:test";
import { describeJava, ensureJavaPeer, runJava, stopAllJava } from "./java-peer.ts";
import { startTsmqCluster, type TsmqCluster } from "./tsmq-cluster.ts";

describeJava("Java header serializations and VIP channel against tsmq", () => {
  let cluster: TsmqCluster;

  beforeAll(async () => {
    await ensureJavaPeer();
    cluster = await startTsmqCluster({ brokers: [{ name: "broker-a" }] });
  }, 600_000);

  afterAll(async () => {
    await stopAllJava();
    await cluster?.stop();
  });

  for (const serializeType of ["JSON", "ROCKETMQ"]) {
    for (const vipChannel of [false, true]) {
      const name = `${serializeType}${vipChannel ? "Vip" : ""}`;
      const systemProperties = { "rocketmq.serialize.type": serializeType };

      test(`${serializeType}, vipChannel ${vipChannel}: sync send and lite pull, on the expected ports`, async () => {
        const run = await runJava("pull.sendPollWire", { namesrv: cluster.namesrvAddr, topic: `JavaWire${name}`, group: `wire_${name}`, vipChannel, count: 20 }, { systemProperties });
        const { producerChannels, ...counts } = await run.result();
        expect(counts).toEqual({ serializeType, sentOk: 20, received: 20, distinct: 20 });
        // Sends go to listenPort, or with the VIP channel to listenPort - 2. (Heartbeats go to
        // listenPort too, but the first may come after the sends: with VIP, "broker" may be absent.)
        if (vipChannel) expect(new Set(["broker", "namesrv", "vip"])).toEqual(new Set([...(producerChannels as string[]), "broker"]));
        else expect(producerChannels).toEqual(["broker", "namesrv"]);
      });

      test(`${serializeType}, vipChannel ${vipChannel}: sync send and push consume`, async () => {
        const run = await runJava("producer.sync", { namesrv: cluster.namesrvAddr, topic: `JavaSerialize${name}`, group: `serialize_${name}`, vipChannel, count: 50 }, { systemProperties });
        expect(await run.result()).toEqual({ sentOk: 50, distinct: 50, deliveries: 50 });
      });
    }
  }
});
