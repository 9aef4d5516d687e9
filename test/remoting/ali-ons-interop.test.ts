// Cross-check against the pure-JS RocketMQ client ali-ons@3.12.0: its RemotingCommand codec and its
// TCP Channel, loaded under Bun from node_modules.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RequestCode, ResponseCode } from "../../src/remoting/codes.ts";
import { FLAG_ONEWAY, FLAG_RESPONSE, RemotingCommand, SerializeType } from "../../src/remoting/command.ts";
import type { Connection } from "../../src/remoting/connection.ts";
import { FrameDecoder } from "../../src/remoting/frame.ts";
import { RemotingServer } from "../../src/remoting/server.ts";

// ali-ons is CommonJS without types; the shapes used here are declared below.
interface AliCommand {
  code: number;
  opaque: number;
  flag: number;
  remark: string | undefined;
  extFields: Record<string, unknown>;
  body: Buffer | null | undefined;
  isResponseType: boolean;
  isOnewayRPC: boolean;
  markOnewayRPC(): void;
  encode(): Buffer;
}
interface AliCommandClass {
  new (options: { code: number; opaque?: number; flag?: number; remark?: string; extFields?: Record<string, unknown> }): AliCommand;
  createRequestCommand(code: number, customHeader?: Record<string, unknown>): AliCommand;
  createResponseCommand(code: number, opaque: number, remark?: string): AliCommand;
  decode(packet: Buffer): AliCommand;
}
interface AliChannel {
  ready(): Promise<void>;
  invoke(command: AliCommand, timeoutMs: number): Promise<AliCommand>;
  invokeOneway(command: AliCommand): Promise<void>;
  on(event: "request", listener: (entity: { id: number; data: AliCommand }) => void): void;
  on(event: "error", listener: (err: Error) => void): void;
  close(): Promise<void>;
}

const AliRemotingCommand = require("ali-ons/lib/protocol/command/remoting_command.js") as AliCommandClass;
const AliChannelClass = require("ali-ons/lib/channel.js") as new (address: string, options?: object) => AliChannel;

const text = new TextEncoder();

describe("codec: ali-ons frames decode with ours", () => {
  test("request with customHeader (numbers, booleans), remark and body", () => {
    const ali = AliRemotingCommand.createRequestCommand(RequestCode.SEND_MESSAGE_V2, {
      a: "ProducerGroupName",
      b: "TopicTest",
      e: 3, // queueId as a JS number
      m: false, // batch as a JS boolean
      n: null, // dropped by ali-ons
    });
    ali.remark = "from ali-ons ✓";
    ali.body = Buffer.from("Hello RocketMQ ✓");
    const wire = ali.encode();
    const frames = new FrameDecoder().push(wire);
    expect(frames.length).toBe(1);
    const ours = RemotingCommand.decode(frames[0]!);
    expect(ours.code).toBe(RequestCode.SEND_MESSAGE_V2);
    expect(ours.opaque).toBe(ali.opaque);
    expect(ours.flag).toBe(0);
    expect(ours.version).toBe(121); // ali-ons' hard-coded V3_4_9
    expect(ours.language).toBe("JAVA");
    expect(ours.remark).toBe("from ali-ons ✓");
    expect(ours.extFields).toEqual({ a: "ProducerGroupName", b: "TopicTest", e: "3", m: "false" });
    expect(new TextDecoder().decode(ours.body)).toBe("Hello RocketMQ ✓");
    expect(ours.serializeType).toBe(SerializeType.JSON);
  });

  test("oneway request and response flags", () => {
    const oneway = AliRemotingCommand.createRequestCommand(RequestCode.UPDATE_CONSUMER_OFFSET, { queueId: 0 });
    oneway.markOnewayRPC();
    const decodedOneway = RemotingCommand.decode(oneway.encode().subarray(4));
    expect(decodedOneway.isOneway).toBe(true);
    const response = AliRemotingCommand.createResponseCommand(ResponseCode.SUCCESS, 42, "ok");
    const decodedResponse = RemotingCommand.decode(response.encode().subarray(4));
    expect([decodedResponse.isResponse, decodedResponse.opaque, decodedResponse.remark]).toEqual([true, 42, "ok"]);
    expect(decodedResponse.body).toBeUndefined();
  });
});

describe("codec: our JSON frames decode with ali-ons", () => {
  test("response with extFields, remark and body", () => {
    const req = RemotingCommand.request(RequestCode.SEND_MESSAGE_V2);
    const res = RemotingCommand.responseTo(req, ResponseCode.SUCCESS, "stored ✓", {
      msgId: "7F00000100002A9F0000000000000000",
      queueId: "1",
      queueOffset: "0",
    });
    res.body = text.encode("body ✓");
    const ali = AliRemotingCommand.decode(Buffer.from(res.encode()));
    expect(ali.code).toBe(ResponseCode.SUCCESS);
    expect(ali.opaque).toBe(req.opaque);
    expect(ali.isResponseType).toBe(true);
    expect(ali.remark).toBe("stored ✓");
    expect(ali.extFields).toEqual({ msgId: "7F00000100002A9F0000000000000000", queueId: "1", queueOffset: "0" });
    expect(ali.body!.toString("utf8")).toBe("body ✓");
  });

  test("request without extFields or body, oneway", () => {
    const cmd = RemotingCommand.request(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED).markOneway();
    const ali = AliRemotingCommand.decode(Buffer.from(cmd.encode()));
    expect(ali.code).toBe(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED);
    expect(ali.isOnewayRPC).toBe(true);
    expect(ali.flag).toBe(FLAG_ONEWAY);
    expect(ali.body).toBeUndefined();
  });
});

describe("ali-ons Channel against RemotingServer over TCP", () => {
  let server: RemotingServer;
  let channel: AliChannel;
  const oneways: RemotingCommand[] = [];
  let serverSide: Connection | undefined;

  beforeAll(async () => {
    server = new RemotingServer({ port: 0, host: "127.0.0.1", name: "interop" });
    server.registerProcessor(RequestCode.SEND_MESSAGE_V2, (req, conn) => {
      serverSide = conn;
      const res = RemotingCommand.responseTo(req, ResponseCode.SUCCESS, undefined, {
        queueId: req.extFields.e!,
        bodyLength: String(req.body?.length ?? 0),
      });
      res.body = req.body;
      return res;
    });
    server.registerProcessor(RequestCode.UPDATE_CONSUMER_OFFSET, (req) => {
      oneways.push(req);
      return null;
    });
    await server.start();
    channel = new AliChannelClass(`127.0.0.1:${server.port}`);
    await channel.ready();
  });

  afterAll(async () => {
    await channel.close();
    await server.stop();
  });

  test("invoke: ali-ons request, our response", async () => {
    const req = AliRemotingCommand.createRequestCommand(RequestCode.SEND_MESSAGE_V2, { a: "pg", b: "TopicTest", e: 2 });
    req.body = Buffer.alloc(100_000, 7); // spans several TCP reads
    const res = await channel.invoke(req, 3000);
    expect(res.code).toBe(ResponseCode.SUCCESS);
    expect(res.opaque).toBe(req.opaque);
    expect(res.flag & FLAG_RESPONSE).toBe(FLAG_RESPONSE);
    expect(res.extFields).toEqual({ queueId: "2", bodyLength: "100000" });
    expect(res.body!.equals(req.body)).toBe(true);
  });

  test("unknown code: ali-ons sees REQUEST_CODE_NOT_SUPPORTED", async () => {
    const res = await channel.invoke(AliRemotingCommand.createRequestCommand(999, {}), 3000);
    expect(res.code).toBe(ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
    expect(res.remark).toBe(" request type 999 not supported");
  });

  test("oneway from ali-ons reaches the processor", async () => {
    const req = AliRemotingCommand.createRequestCommand(RequestCode.UPDATE_CONSUMER_OFFSET, { queueId: 3, commitOffset: 10 });
    req.markOnewayRPC();
    await channel.invokeOneway(req);
    const deadline = Date.now() + 3000;
    while (oneways.length === 0 && Date.now() < deadline) await Bun.sleep(5);
    expect(oneways[0]!.extFields).toEqual({ queueId: "3", commitOffset: "10" });
  });

  test("server-initiated request to ali-ons, answered by ali-ons", async () => {
    expect(serverSide).toBeDefined();
    channel.on("request", ({ data }) => {
      const res = AliRemotingCommand.createResponseCommand(ResponseCode.SUCCESS, data.opaque, `group ${String(data.extFields.consumerGroup)}`);
      res.body = Buffer.from("running info");
      void channel.invokeOneway(res);
    });
    const res = await serverSide!.invoke(
      RemotingCommand.request(RequestCode.GET_CONSUMER_RUNNING_INFO, { consumerGroup: "cg1" }),
      3000,
    );
    expect(res.code).toBe(ResponseCode.SUCCESS);
    expect(res.remark).toBe("group cg1");
    expect(new TextDecoder().decode(res.body)).toBe("running info");
  });
});
