// Topic table of one broker (Java TopicConfigManager, storage doc §12.1): built-in system topics,
// auto-creation from TBW102, persistence to config/topics.json on every change.

import path from "node:path";
import {
  Perm,
  PERM_READ_WRITE,
  SystemTopic,
  isInherited,
  newTopicConfig,
  replyTopic,
  topicConfigFromJson,
  topicConfigToJson,
  topicNameProblem,
  type TopicConfig,
} from "../common/topic.ts";
import { nextDataVersion } from "./data-version.ts";
import { VersionedConfigTable, type VersionedTableShape } from "./versioned-config-table.ts";

/** The broker.conf keys the topic table depends on (BrokerConfig is assignable to it). */
export interface TopicConfigSettings {
  brokerClusterName: string;
  brokerName: string;
  autoCreateTopicEnable: boolean;
  defaultTopicQueueNums: number;
  clusterTopicEnable: boolean;
  brokerTopicEnable: boolean;
  traceTopicEnable: boolean;
  msgTraceTopicName: string;
}

/** Upper bound on topics one broker keeps, so a client auto-creating names cannot grow memory without end. */
export const MAX_TOPICS_PER_BROKER = 100_000;

const TABLE_SHAPE: VersionedTableShape<TopicConfig, "topicConfigTable"> = {
  tableKey: "topicConfigTable",
  entriesName: "topics",
  maxEntries: MAX_TOPICS_PER_BROKER,
  fromJson: topicConfigFromJson,
  toJson: topicConfigToJson,
  nameOf: (tc) => tc.topicName,
};

export class TopicConfigManager extends VersionedConfigTable<TopicConfig, "topicConfigTable"> {
  /** Called after a topic was created or changed (the broker re-registers with the namesrvs). */
  onChange: (topic: TopicConfig) => void = () => {};

  constructor(
    private readonly settings: TopicConfigSettings,
    storePathRootDir: string,
  ) {
    super(path.join(storePathRootDir, "config", "topics.json"), TABLE_SHAPE);
    this.addBuiltIns();
  }

  private addBuiltIns(): void {
    const s = this.settings;
    const add = (tc: TopicConfig) => this.table.set(tc.topicName, tc);
    add(newTopicConfig(SystemTopic.SELF_TEST, { readQueueNums: 1, writeQueueNums: 1 }));
    if (s.autoCreateTopicEnable) {
      add(newTopicConfig(SystemTopic.AUTO_CREATE, {
        readQueueNums: s.defaultTopicQueueNums,
        writeQueueNums: s.defaultTopicQueueNums,
        perm: Perm.INHERIT | PERM_READ_WRITE,
      }));
    }
    add(newTopicConfig(SystemTopic.BENCHMARK, { readQueueNums: 1024, writeQueueNums: 1024 }));
    add(newTopicConfig(s.brokerClusterName, { perm: Perm.INHERIT | (s.clusterTopicEnable ? PERM_READ_WRITE : 0) }));
    add(newTopicConfig(s.brokerName, { readQueueNums: 1, writeQueueNums: 1, perm: Perm.INHERIT | (s.brokerTopicEnable ? PERM_READ_WRITE : 0) }));
    add(newTopicConfig(SystemTopic.OFFSET_MOVED_EVENT, { readQueueNums: 1, writeQueueNums: 1 }));
    add(newTopicConfig(SystemTopic.SCHEDULE, { readQueueNums: 18, writeQueueNums: 18 }));
    if (s.traceTopicEnable) add(newTopicConfig(s.msgTraceTopicName, { readQueueNums: 1, writeQueueNums: 1 }));
    add(newTopicConfig(replyTopic(s.brokerClusterName), { readQueueNums: 1, writeQueueNums: 1 }));
  }





  get(topic: string): TopicConfig | undefined {
    return this.table.get(topic);
  }

  /**
   * Creates or replaces a topic. `notify` = false when the caller registers with the namesrvs
   * itself (admin UPDATE_AND_CREATE_TOPIC registers synchronously).
   */
  update(tc: TopicConfig, notify = true): void {
    // Invariant: request handlers validate names where they enter; a topic names a store directory.
    const problem = topicNameProblem(tc.topicName);
    if (problem) throw new Error(`topic table: refusing an invalid topic name: ${problem}`);
    this.assertRoom(tc.topicName);
    this.table.set(tc.topicName, tc);
    nextDataVersion(this.dataVersion);
    this.persist();
    if (notify) this.onChange(tc);
  }

  delete(topic: string): boolean {
    if (!this.table.delete(topic)) return false;
    nextDataVersion(this.dataVersion);
    this.persist();
    return true;
  }

  /**
   * Java createTopicInSendMessageMethod: a new topic inheriting from `defaultTopic` (TBW102) when that
   * topic exists with INHERIT. Returns the existing or new config, undefined when not allowed.
   */
  createForSend(topic: string, defaultTopic: string, clientQueueNums: number, topicSysFlag: number): TopicConfig | undefined {
    const existing = this.table.get(topic);
    if (existing) return existing;
    const template = this.table.get(defaultTopic);
    if (!template) return undefined;
    if (defaultTopic === SystemTopic.AUTO_CREATE && !this.settings.autoCreateTopicEnable) template.perm = PERM_READ_WRITE;
    if (!isInherited(template.perm)) return undefined;
    const queueNums = Math.max(0, Math.min(clientQueueNums, template.writeQueueNums));
    const tc = newTopicConfig(topic, {
      readQueueNums: queueNums,
      writeQueueNums: queueNums,
      perm: template.perm & ~Perm.INHERIT,
      topicFilterType: template.topicFilterType,
      topicSysFlag,
    });
    this.update(tc);
    return tc;
  }

  /** Java createTopicInSendMessageBackMethod: `%RETRY%` / `%DLQ%` topics with fixed queues and perm. */
  createIfAbsent(topic: string, queueNums: number, perm: number, topicSysFlag = 0): TopicConfig {
    const existing = this.table.get(topic);
    if (existing) return existing;
    const tc = newTopicConfig(topic, { readQueueNums: queueNums, writeQueueNums: queueNums, perm, topicSysFlag });
    this.update(tc);
    return tc;
  }

  private assertRoom(topic: string): void {
    if (!this.table.has(topic) && this.table.size >= MAX_TOPICS_PER_BROKER) {
      throw new Error(`topic table is full (${MAX_TOPICS_PER_BROKER} topics), cannot create ${topic}`);
    }
  }
}
