import { describe, expect, test } from "bun:test";
import { RouteInfo, type RegisterBrokerRequest } from "../../src/namesrv/route-info.ts";

const tc = (topicName: string, perm = 6) => ({ topicName, readQueueNums: 4, writeQueueNums: 4, perm, topicFilterType: "SINGLE_TAG", topicSysFlag: 0, order: false });

function reg(over: Partial<RegisterBrokerRequest<string>> = {}): RegisterBrokerRequest<string> {
  return {
    clusterName: "DefaultCluster",
    brokerAddr: "10.0.0.1:10911",
    brokerName: "broker-a",
    brokerId: 0,
    haServerAddr: "10.0.0.1:10912",
    dataVersion: { counter: 1, timestamp: 1 },
    topicConfigs: [tc("TopicTest")],
    filterServerList: [],
    channel: "chan-a",
    ...over,
  };
}

describe("RouteInfo", () => {
  test("master registration creates the route; a slave learns its master", () => {
    const r = new RouteInfo<string>();
    expect(r.registerBroker(reg(), 1000)).toEqual({});
    const slave = r.registerBroker(reg({ brokerId: 1, brokerAddr: "10.0.0.2:10911", haServerAddr: "10.0.0.2:10912", channel: "chan-s", topicConfigs: [tc("SlaveOnly")] }), 1000);
    expect(slave).toEqual({ masterAddr: "10.0.0.1:10911", haServerAddr: "10.0.0.1:10912" });
    const route = r.pickupTopicRouteData("TopicTest")!;
    expect(route.queueDatas).toEqual([{ brokerName: "broker-a", readQueueNums: 4, writeQueueNums: 4, perm: 6, topicSysFlag: 0 }]);
    expect([...route.brokerDatas[0]!.brokerAddrs]).toEqual([[0, "10.0.0.1:10911"], [1, "10.0.0.2:10911"]]);
    // Slaves never contribute topics.
    expect(r.pickupTopicRouteData("SlaveOnly")).toBeUndefined();
  });

  test("same DataVersion does not update queue data; a new one does", () => {
    const r = new RouteInfo<string>();
    r.registerBroker(reg(), 0);
    r.registerBroker(reg({ topicConfigs: [tc("TopicTest", 4)] }), 1);
    expect(r.pickupTopicRouteData("TopicTest")!.queueDatas[0]!.perm).toBe(6);
    r.registerBroker(reg({ topicConfigs: [tc("TopicTest", 4)], dataVersion: { counter: 2, timestamp: 1 } }), 2);
    expect(r.pickupTopicRouteData("TopicTest")!.queueDatas[0]!.perm).toBe(4);
  });

  test("expiry, channel close and unregister remove broker, its topics and empty clusters", () => {
    const r = new RouteInfo<string>();
    r.registerBroker(reg(), 0);
    r.registerBroker(reg({ brokerName: "broker-b", brokerAddr: "10.0.0.3:10911", channel: "chan-b", topicConfigs: [tc("TopicTest"), tc("OnlyB")] }), 50);
    expect(r.scanNotActiveBrokers(120_001, 120_000)).toEqual([{ brokerAddr: "10.0.0.1:10911", channel: "chan-a" }]);
    expect(r.pickupTopicRouteData("TopicTest")!.brokerDatas.map((b) => b.brokerName)).toEqual(["broker-b"]);
    expect(r.onChannelDestroy("unknown-channel", "1.2.3.4:5")).toBeUndefined();
    expect(r.onChannelDestroy("chan-b", "10.9.9.9:40000")).toBe("10.0.0.3:10911");
    expect(r.allTopics()).toEqual([]);
    expect([...r.clusterInfo().clusterAddrTable]).toEqual([]);
    r.registerBroker(reg(), 0);
    r.unregisterBroker("DefaultCluster", "10.0.0.1:10911", "broker-a", 0);
    expect(r.pickupTopicRouteData("TopicTest")).toBeUndefined();
    expect(r.clusterInfo().brokerAddrTable.size).toBe(0);
  });

  test("unit topic lists pick by the first queue data's topicSysFlag", () => {
    const r = new RouteInfo<string>();
    const flagged = (topicName: string, topicSysFlag: number) => ({ ...tc(topicName), topicSysFlag });
    r.registerBroker(reg({ topicConfigs: [flagged("Plain", 0), flagged("Unit", 1), flagged("UnitSub", 2), flagged("Both", 3)] }), 0);
    expect(r.topicsWithSysFlag("unit").sort()).toEqual(["Both", "Unit"]);
    expect(r.topicsWithSysFlag("unitSub").sort()).toEqual(["Both", "UnitSub"]);
    expect(r.topicsWithSysFlag("unitSubNotUnit")).toEqual(["UnitSub"]);
  });

  test("a slave promoted to master drops its old id", () => {
    const r = new RouteInfo<string>();
    r.registerBroker(reg({ brokerId: 1 }), 0);
    r.registerBroker(reg({ brokerId: 0 }), 1);
    expect([...r.clusterInfo().brokerAddrTable.get("broker-a")!.brokerAddrs]).toEqual([[0, "10.0.0.1:10911"]]);
  });

  test("topic lists, delete, write permission", () => {
    const r = new RouteInfo<string>();
    r.registerBroker(reg({ topicConfigs: [tc("A"), tc("B")] }), 0);
    r.registerBroker(reg({ clusterName: "Other", brokerName: "broker-x", brokerAddr: "10.0.0.9:10911", channel: "x", topicConfigs: [tc("B"), tc("C")] }), 0);
    expect(r.topicsByCluster("DefaultCluster").sort()).toEqual(["A", "B"]);
    expect(r.topicsByCluster("nope")).toEqual([]);
    expect(r.systemTopicList()).toEqual({ topicList: ["DefaultCluster", "broker-a", "Other", "broker-x"], brokerAddr: "10.0.0.1:10911" });
    expect(r.setWritePermOfBroker("broker-a", "wipe")).toBe(2);
    expect(r.pickupTopicRouteData("A")!.queueDatas[0]!.perm).toBe(4);
    expect(r.setWritePermOfBroker("broker-a", "add")).toBe(2);
    expect(r.pickupTopicRouteData("A")!.queueDatas[0]!.perm).toBe(6);
    r.deleteTopic("B", "Other");
    expect(r.pickupTopicRouteData("B")!.brokerDatas.map((b) => b.brokerName)).toEqual(["broker-a"]);
    r.deleteTopic("B");
    expect(r.pickupTopicRouteData("B")).toBeUndefined();
  });
});
