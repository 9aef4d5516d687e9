// The ROCKETMQ binary header end to end: a client configured for it sends binary requests and the
// server (a bare RemotingServer, and the real broker) answers in kind.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RemotingClient } from "../../src/remoting/client.ts";
import { RequestCode, ResponseCode } from "../../src/remoting/codes.ts";
import { RemotingCommand, SerializeType } from "../../src/remoting/command.ts";
import { RemotingServer } from "../../src/remoting/server.ts";
import { resolveClientConfig } from "../../src/client/client-config.ts";
import { Producer } from "../../src/client/producer.ts";
import { startTestBroker, type TestBroker } from "./broker-fixture.ts";

const TIMEOUT_MS = 3_000;

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker?.stop();
});

describe("serializeType ROCKETMQ", () => {
  test("RemotingClient sends binary headers and gets binary answers; JSON stays the default", async () => {
    const server = new RemotingServer({ port: 0, host: "127.0.0.1", name: "test" });
    const seen: number[] = [];
    server.registerProcessor(RequestCode.HEART_BEAT, (req) => {
      seen.push(req.serializeType);
      return RemotingCommand.responseTo(req, ResponseCode.SUCCESS, "ok é", { echo: req.extFields.k ?? "" });
    });
    await server.start();
    const binary = new RemotingClient({ serializeType: SerializeType.ROCKETMQ });
    const plain = new RemotingClient();
    try {
      const addr = `127.0.0.1:${server.port}`;
      const r1 = await binary.invoke(addr, RemotingCommand.request(RequestCode.HEART_BEAT, { k: "välue" }), TIMEOUT_MS);
      expect(r1.serializeType).toBe(SerializeType.ROCKETMQ);
      expect(r1.remark).toBe("ok é");
      expect(r1.extFields.echo).toBe("välue");
      const r2 = await plain.invoke(addr, RemotingCommand.request(RequestCode.HEART_BEAT, { k: "v" }), TIMEOUT_MS);
      expect(r2.serializeType).toBe(SerializeType.JSON);
      expect(seen).toEqual([SerializeType.ROCKETMQ, SerializeType.JSON]);
    } finally {
      binary.close();
      plain.close();
      await server.stop();
    }
  });

  test("the broker answers a binary request in binary", async () => {
    const client = new RemotingClient({ serializeType: SerializeType.ROCKETMQ });
    try {
      const route = await client.invoke(broker.namesrvAddr, RemotingCommand.request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: "TBW102" }), TIMEOUT_MS);
      expect(route.serializeType).toBe(SerializeType.ROCKETMQ);
      expect(route.code).toBe(ResponseCode.SUCCESS);
      const brokerAddr = Object.values((JSON.parse(new TextDecoder().decode(route.body)) as { brokerDatas: Array<{ brokerAddrs: Record<string, string> }> }).brokerDatas[0]!.brokerAddrs)[0]!;
      const info = await client.invoke(brokerAddr, RemotingCommand.request(RequestCode.GET_BROKER_RUNTIME_INFO), TIMEOUT_MS);
      expect(info.serializeType).toBe(SerializeType.ROCKETMQ);
      expect(info.code).toBe(ResponseCode.SUCCESS);
    } finally {
      client.close();
    }
  });

  test("a producer with serializeType ROCKETMQ sends and reads the broker's binary send response", async () => {
    const producer = new Producer({ namesrvAddr: broker.namesrvAddr, groupName: "serialize_test", instanceName: "serialize-test", serializeType: "ROCKETMQ" });
    producer.start();
    try {
      const r = await producer.send({ topic: "SerializeTypeTopic", body: "hello", tags: "TagA", keys: "k1" });
      expect(r.sendStatus).toBe("SEND_OK");
      expect(r.offsetMsgId).toMatch(/^[0-9A-F]{32}$/);
      expect(r.queueOffset).toBeGreaterThanOrEqual(0);
    } finally {
      await producer.shutdown();
    }
  });

  test("the option falls back to env ROCKETMQ_SERIALIZE_TYPE and rejects unknown names", () => {
    const saved = process.env.ROCKETMQ_SERIALIZE_TYPE;
    try {
      process.env.ROCKETMQ_SERIALIZE_TYPE = "ROCKETMQ";
      expect(resolveClientConfig({ namesrvAddr: "127.0.0.1:9876" }).serializeType).toBe("ROCKETMQ");
      expect(resolveClientConfig({ namesrvAddr: "127.0.0.1:9876", serializeType: "JSON" }).serializeType).toBe("JSON");
      delete process.env.ROCKETMQ_SERIALIZE_TYPE;
      expect(resolveClientConfig({ namesrvAddr: "127.0.0.1:9876" }).serializeType).toBe("JSON");
      expect(() => resolveClientConfig({ namesrvAddr: "127.0.0.1:9876", serializeType: "XML" as "JSON" })).toThrow(/JSON or ROCKETMQ, got XML/);
    } finally {
      if (saved === undefined) delete process.env.ROCKETMQ_SERIALIZE_TYPE;
      else process.env.ROCKETMQ_SERIALIZE_TYPE = saved;
    }
  });
});
