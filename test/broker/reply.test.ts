// SEND_REPLY_MESSAGE(_V2) over real sockets: the reply is pushed to the requester's connection as
// PUSH_REPLY_MESSAGE_TO_CLIENT (found by REPLY_TO_CLIENT), and stored in DefaultCluster_REPLY_TOPIC.
// Before this processor tsmq answered 325 "request type 325 not supported", so Java's
// DefaultMQProducer.request() always timed out.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { decodeRecord } from "../../src/common/message-codec.ts";
import { propertiesToString, stringToProperties } from "../../src/common/message.ts";
import { decodeReplyMessageHeader } from "../../src/common/reply-message-header.ts";
import { RequestCode, ResponseCode } from "../../src/remoting/codes.ts";
import { RemotingCommand } from "../../src/remoting/command.ts";
import { RemotingClient } from "../../src/remoting/client.ts";
import { INVOKE_TIMEOUT_MS, pullRequest, startTestBroker, type TestBroker } from "./helpers.ts";

const REPLY_TOPIC = "DefaultCluster_REPLY_TOPIC";
const REQUESTER_ID = "192.0.2.2@producer-24270";

/**
 * The SEND_REPLY_MESSAGE_V2 the Java 4.9.8 replier sent to tsmq (captured from
 * MessageUtil.createReplyMessage + DefaultMQProducer.send), V2 short keys of SendMessageRequestHeader.
 */
function javaReplyFrame(props: Record<string, string> = {}): RemotingCommand {
  const cmd = RemotingCommand.request(
    RequestCode.SEND_REPLY_MESSAGE_V2, // 325
    {
      a: "G_reply_java_sync", // producerGroup of the replier
      b: REPLY_TOPIC, // MixAll.getReplyTopic(request's CLUSTER property)
      c: "TBW102", // defaultTopic
      d: "4", // defaultTopicQueueNums
      e: "0", // queueId: the one queue of the reply topic
      f: "0", // sysFlag
      g: "1796677001890", // bornTimestamp
      h: "0", // flag
      // properties: no WAIT (createReplyMessage builds a bare Message)
      i: propertiesToString({
        MSG_TYPE: "reply",
        REPLY_TO_CLIENT: REQUESTER_ID,
        UNIQ_KEY: "FD0000000000000000000000000000025D164E0E2F2A2364B2A10000",
        TTL: "5000",
        CORRELATION_ID: "aa2734e9-f7e9-4cd4-a85b-e1e750deaf6b",
        ...props,
      }),
      j: "0", // reconsumeTimes
      k: "false", // unitMode
      m: "false", // batch
      n: "broker-a", // brokerName
    },
    new TextEncoder().encode("reply-req-0"),
  );
  cmd.version = 409; // V4_9_8
  return cmd;
}

/** The same reply as a V1 SEND_REPLY_MESSAGE (a replier with sendSmartMsg=false). */
function v1ReplyFrame(): RemotingCommand {
  const v2 = javaReplyFrame().extFields;
  return RemotingCommand.request(
    RequestCode.SEND_REPLY_MESSAGE,
    {
      producerGroup: v2.a!,
      topic: v2.b!,
      defaultTopic: v2.c!,
      defaultTopicQueueNums: v2.d!,
      queueId: "-1", // left to the broker
      sysFlag: v2.f!,
      bornTimestamp: v2.g!,
      flag: v2.h!,
      properties: v2.i!,
      reconsumeTimes: v2.j!,
      unitMode: v2.k!,
      batch: v2.m!,
    },
    new TextEncoder().encode("reply-v1"),
  );
}

/** A requester: registers `clientId` as a producer and answers pushes with `pushCode`. */
async function startRequester(addr: string, clientId: string) {
  const pushes: RemotingCommand[] = [];
  let pushCode: number = ResponseCode.SUCCESS;
  const client = new RemotingClient({
    onRequest: (request) => {
      pushes.push(request);
      return RemotingCommand.responseTo(request, pushCode, pushCode === ResponseCode.SUCCESS ? undefined : "process reply message fail");
    },
  });
  const heartbeat = { clientID: clientId, consumerDataSet: [], producerDataSet: [{ groupName: "G_request" }, { groupName: "CLIENT_INNER_PRODUCER" }] };
  const hb = await client.invoke(addr, RemotingCommand.request(RequestCode.HEART_BEAT, {}, new TextEncoder().encode(JSON.stringify(heartbeat))), INVOKE_TIMEOUT_MS);
  expect(hb.code).toBe(ResponseCode.SUCCESS);
  return {
    pushes,
    client,
    failPushes: () => (pushCode = ResponseCode.SYSTEM_ERROR),
  };
}

describe("reply processor", () => {
  let tb: TestBroker;
  let requester: Awaited<ReturnType<typeof startRequester>>;
  const invoke = (cmd: RemotingCommand) => tb.client.invoke(tb.addr, cmd, INVOKE_TIMEOUT_MS);

  beforeAll(async () => {
    tb = await startTestBroker();
    requester = await startRequester(tb.addr, REQUESTER_ID);
  });
  afterAll(async () => {
    requester.client.close();
    await tb.destroy();
  });

  async function storedReply(offset: number) {
    const r = await invoke(pullRequest("reply-reader", REPLY_TOPIC, 0, offset));
    expect(r.code).toBe(ResponseCode.SUCCESS);
    return decodeRecord(r.body!, true);
  }

  test("Java's V2 reply: pushed to the requester with a ReplyMessageRequestHeader, stored in the reply topic", async () => {
    const before = Date.now();
    const response = await invoke(javaReplyFrame());
    expect(response.code).toBe(ResponseCode.SUCCESS);
    expect(response.extFields.queueId).toBe("0");
    expect(response.extFields.queueOffset).toBe("0");
    expect(response.extFields.msgId).toMatch(/^[0-9A-F]{32}$/); // the store's offset id, not Java's placeholder "0"

    expect(requester.pushes.length).toBe(1);
    const push = requester.pushes[0]!;
    expect(push.code).toBe(RequestCode.PUSH_REPLY_MESSAGE_TO_CLIENT);
    expect(new TextDecoder().decode(push.body)).toBe("reply-req-0");
    const h = decodeReplyMessageHeader(push.extFields);
    expect(h).toMatchObject({ producerGroup: "G_reply_java_sync", topic: REPLY_TOPIC, defaultTopic: "TBW102", defaultTopicQueueNums: 4, queueId: 0, sysFlag: 0, flag: 0 });
    expect(h.bornTimestamp).toBe(1796677001890);
    expect(h.storeHost).toBe(tb.broker.storeHost);
    expect(h.bornHost).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(h.storeTimestamp).toBeGreaterThanOrEqual(before);
    const props = stringToProperties(h.properties);
    expect(props.CORRELATION_ID).toBe("aa2734e9-f7e9-4cd4-a85b-e1e750deaf6b");
    expect(Number(props.PUSH_REPLY_TIME)).toBeGreaterThanOrEqual(before);

    const stored = await storedReply(0);
    expect(new TextDecoder().decode(stored.body)).toBe("reply-req-0");
    expect(stored.properties.CORRELATION_ID).toBe("aa2734e9-f7e9-4cd4-a85b-e1e750deaf6b");
    expect(stored.properties.PUSH_REPLY_TIME).toBeUndefined(); // Java stores the properties as sent
  });

  test("V1 SEND_REPLY_MESSAGE with queueId -1: the broker picks the queue, the push keeps -1", async () => {
    requester.pushes.length = 0;
    const response = await invoke(v1ReplyFrame());
    expect(response.code).toBe(ResponseCode.SUCCESS);
    expect(response.extFields.queueId).toBe("0");
    expect(response.extFields.queueOffset).toBe("1");
    expect(decodeReplyMessageHeader(requester.pushes[0]!.extFields).queueId).toBe(-1);
    expect(new TextDecoder().decode((await storedReply(1)).body)).toBe("reply-v1");
  });

  test("unknown REPLY_TO_CLIENT: SYSTEM_ERROR naming the client, the reply is still stored", async () => {
    const response = await invoke(javaReplyFrame({ REPLY_TO_CLIENT: "10.0.0.9@gone" }));
    expect(response.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(response.remark).toBe("push reply message fail, channel of <10.0.0.9@gone> not found.");
    expect(response.extFields.queueOffset).toBe("2");
  });

  test("no REPLY_TO_CLIENT: SYSTEM_ERROR naming the property", async () => {
    const frame = javaReplyFrame();
    const props = stringToProperties(frame.extFields.i!);
    delete props.REPLY_TO_CLIENT;
    frame.extFields.i = propertiesToString(props);
    const response = await invoke(frame);
    expect(response.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(response.remark).toBe("reply message properties[REPLY_TO_CLIENT] is null");
  });

  test("a header field missing: SYSTEM_ERROR naming its short key, nothing pushed", async () => {
    requester.pushes.length = 0;
    const frame = javaReplyFrame();
    delete frame.extFields.b;
    const response = await invoke(frame);
    expect(response.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(response.remark).toContain("<b>");
    expect(requester.pushes.length).toBe(0);
  });

  test("the requester refuses the push: SYSTEM_ERROR with Java's remark", async () => {
    const refusing = await startRequester(tb.addr, "192.0.2.3@refusing");
    refusing.failPushes();
    try {
      const response = await invoke(javaReplyFrame({ REPLY_TO_CLIENT: "192.0.2.3@refusing" }));
      expect(refusing.pushes.length).toBe(1);
      expect(response.code).toBe(ResponseCode.SYSTEM_ERROR);
      expect(response.remark).toBe("push reply message to 192.0.2.3@refusingfail.");
    } finally {
      refusing.client.close();
    }
  });
});

describe("storeReplyMessageEnable=false", () => {
  test("the reply is pushed but not stored; the answer carries Java's placeholders", async () => {
    const tb = await startTestBroker({ overrides: { storeReplyMessageEnable: false } });
    const requester = await startRequester(tb.addr, REQUESTER_ID);
    try {
      const response = await tb.client.invoke(tb.addr, javaReplyFrame(), INVOKE_TIMEOUT_MS);
      expect(response.code).toBe(ResponseCode.SUCCESS);
      expect(response.extFields).toMatchObject({ msgId: "0", queueId: "0", queueOffset: "0" });
      expect(requester.pushes.length).toBe(1);
      expect(tb.broker.store.getMaxOffsetInQueue(REPLY_TOPIC, 0)).toBe(0);
    } finally {
      requester.client.close();
      await tb.destroy();
    }
  });
});
