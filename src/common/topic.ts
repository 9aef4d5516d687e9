// Topic model shared by broker, namesrv and client: TopicConfig, permission bits, name validation,
// system topics and the %RETRY% / %DLQ% naming (Java TopicConfig, PermName, TopicValidator, MixAll).

/** Permission bits (Java PermName). */
export const Perm = {
  INHERIT: 1,
  WRITE: 2,
  READ: 4,
} as const;

export const PERM_READ_WRITE = Perm.READ | Perm.WRITE;

export function isReadable(perm: number): boolean {
  return (perm & Perm.READ) !== 0;
}
export function isWriteable(perm: number): boolean {
  return (perm & Perm.WRITE) !== 0;
}
export function isInherited(perm: number): boolean {
  return (perm & Perm.INHERIT) !== 0;
}

export type TopicFilterType = "SINGLE_TAG" | "MULTI_TAG";

/** topicSysFlag bits (Java TopicSysFlag): unit topic, topic with a unit subscription. */
export const TopicSysFlag = {
  UNIT: 1,
  UNIT_SUB: 2,
} as const;

/** Java TopicConfig, with its JSON property names. */
export interface TopicConfig {
  topicName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  topicFilterType: TopicFilterType;
  topicSysFlag: number;
  order: boolean;
}

/** `new TopicConfig(name)` defaults. */
export const DEFAULT_TOPIC_QUEUE_NUMS = 16;

export function newTopicConfig(topicName: string, fields: Partial<Omit<TopicConfig, "topicName">> = {}): TopicConfig {
  return {
    topicName,
    readQueueNums: fields.readQueueNums ?? DEFAULT_TOPIC_QUEUE_NUMS,
    writeQueueNums: fields.writeQueueNums ?? DEFAULT_TOPIC_QUEUE_NUMS,
    perm: fields.perm ?? PERM_READ_WRITE,
    topicFilterType: fields.topicFilterType ?? "SINGLE_TAG",
    topicSysFlag: fields.topicSysFlag ?? 0,
    order: fields.order ?? false,
  };
}

/** Alphabetical keys, like fastjson writes a TopicConfig bean. */
export function topicConfigToJson(tc: TopicConfig): Record<string, unknown> {
  return {
    order: tc.order,
    perm: tc.perm,
    readQueueNums: tc.readQueueNums,
    topicFilterType: tc.topicFilterType,
    topicName: tc.topicName,
    topicSysFlag: tc.topicSysFlag,
    writeQueueNums: tc.writeQueueNums,
  };
}

/** Reads a TopicConfig from parsed JSON; undefined when the shape is wrong. */
export function topicConfigFromJson(name: string, raw: unknown): TopicConfig | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  const int = (v: unknown, d: number) => (typeof v === "number" && Number.isInteger(v) ? v : typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : d);
  return newTopicConfig(typeof r.topicName === "string" ? r.topicName : name, {
    readQueueNums: int(r.readQueueNums, DEFAULT_TOPIC_QUEUE_NUMS),
    writeQueueNums: int(r.writeQueueNums, DEFAULT_TOPIC_QUEUE_NUMS),
    perm: int(r.perm, PERM_READ_WRITE),
    topicFilterType: r.topicFilterType === "MULTI_TAG" ? "MULTI_TAG" : "SINGLE_TAG",
    topicSysFlag: int(r.topicSysFlag, 0),
    order: r.order === true || r.order === "true",
  });
}

export const SystemTopic = {
  AUTO_CREATE: "TBW102",
  SCHEDULE: "SCHEDULE_TOPIC_XXXX",
  BENCHMARK: "BenchmarkTest",
  TRANS_HALF: "RMQ_SYS_TRANS_HALF_TOPIC",
  TRACE: "RMQ_SYS_TRACE_TOPIC",
  TRANS_OP_HALF: "RMQ_SYS_TRANS_OP_HALF_TOPIC",
  TRANS_CHECK_MAX_TIME: "TRANS_CHECK_MAX_TIME_TOPIC",
  SELF_TEST: "SELF_TEST_TOPIC",
  OFFSET_MOVED_EVENT: "OFFSET_MOVED_EVENT",
} as const;

const SYSTEM_TOPIC_PREFIX = "rmq_sys_";
const SYSTEM_TOPICS = new Set<string>(Object.values(SystemTopic));
const NOT_ALLOWED_SEND_TOPICS = new Set<string>([
  SystemTopic.SCHEDULE,
  SystemTopic.TRANS_HALF,
  SystemTopic.TRANS_OP_HALF,
  SystemTopic.TRANS_CHECK_MAX_TIME,
  SystemTopic.SELF_TEST,
  SystemTopic.OFFSET_MOVED_EVENT,
]);

/** The topic length is stored in one signed byte of the commit-log record. */
export const TOPIC_MAX_LENGTH_CHARS = 127;
/** Java Validators.CHARACTER_MAX_LENGTH: the longest group name a Java client accepts. */
export const GROUP_MAX_LENGTH_CHARS = 255;
/** Client ids are `ip@instanceName[@unitName]`; a longer one is not a client's. */
export const CLIENT_ID_MAX_LENGTH_CHARS = 255;
/** How much of a refused name a remark repeats: a 4 MiB name must not come back in the answer. */
const REMARK_NAME_MAX_CHARS = 64;
const TOPIC_OR_GROUP_PATTERN = /^[%|a-zA-Z0-9_-]+$/;
/** C0 controls, DEL and the Unicode line / paragraph separators: never inside a client id (one test, one global for replacing). */
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f\u2028\u2029]/;
const CONTROL_CHARACTERS = new RegExp(CONTROL_CHARACTER.source, "g");

/** A name for a remark (and the log line): cut to REMARK_NAME_MAX_CHARS, control characters escaped. */
function shown(name: string): string {
  const cut = name.length <= REMARK_NAME_MAX_CHARS ? name : `${name.slice(0, REMARK_NAME_MAX_CHARS)}...(${name.length} chars)`;
  return cut.replace(CONTROL_CHARACTERS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Null when valid, else the RocketMQ remark naming the problem (Java TopicValidator.validateTopic). */
export function topicNameProblem(topic: string | undefined): string | null {
  if (topic === undefined || topic.trim().length === 0) return "The specified topic is blank.";
  if (topic.length > TOPIC_MAX_LENGTH_CHARS) {
    return `The specified topic[${shown(topic)}] is longer than topic max length ${TOPIC_MAX_LENGTH_CHARS}.`;
  }
  if (!TOPIC_OR_GROUP_PATTERN.test(topic)) {
    return `The specified topic[${shown(topic)}] contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$`;
  }
  return null;
}

/** Null when valid, else the remark (Java Validators.checkGroup, which the Java client applies). */
export function groupNameProblem(group: string | undefined): string | null {
  if (group === undefined || group.trim().length === 0) return "the specified group is blank";
  if (group.length > GROUP_MAX_LENGTH_CHARS) {
    return `the specified group[${shown(group)}] is longer than group max length ${GROUP_MAX_LENGTH_CHARS}.`;
  }
  if (!TOPIC_OR_GROUP_PATTERN.test(group)) {
    return `the specified group[${shown(group)}] contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$`;
  }
  return null;
}

/**
 * Null when the group's %RETRY% and %DLQ% topics are valid topic names, else the remark: a group
 * longer than 120 characters is a valid group whose retry topic cannot be stored.
 */
export function groupTopicsProblem(group: string): string | null {
  const problem = topicNameProblem(dlqTopic(group)) ?? topicNameProblem(retryTopic(group));
  return problem === null ? null : `the retry / dead-letter topic of group[${shown(group)}] is not a valid topic: ${problem}`;
}

/** Client ids are free text in Java; here they are bounded and single-line (they key channel tables and locks). */
export function clientIdProblem(clientId: string | undefined): string | null {
  if (clientId === undefined || clientId.trim().length === 0) return "the client id is blank";
  if (clientId.length > CLIENT_ID_MAX_LENGTH_CHARS) return `the client id[${shown(clientId)}] is longer than ${CLIENT_ID_MAX_LENGTH_CHARS}`;
  if (CONTROL_CHARACTER.test(clientId)) return `the client id[${shown(clientId)}] contains control characters`;
  return null;
}

/** Group names follow the topic character rules (Java TopicValidator.isTopicOrGroupIllegal). */
export function isGroupNameIllegal(group: string): boolean {
  return !TOPIC_OR_GROUP_PATTERN.test(group);
}

export function isSystemTopic(topic: string): boolean {
  return SYSTEM_TOPICS.has(topic) || topic.startsWith(SYSTEM_TOPIC_PREFIX);
}

/** Topics clients may not send to. */
export function isNotAllowedSendTopic(topic: string): boolean {
  return NOT_ALLOWED_SEND_TOPICS.has(topic);
}

/** Java MixAll.getReplyTopic: the per-cluster topic replies are sent to (every broker creates it). */
export function replyTopic(clusterName: string): string {
  return `${clusterName}_REPLY_TOPIC`;
}

export const RETRY_GROUP_TOPIC_PREFIX = "%RETRY%";
export const DLQ_GROUP_TOPIC_PREFIX = "%DLQ%";

export function retryTopic(group: string): string {
  return RETRY_GROUP_TOPIC_PREFIX + group;
}
export function dlqTopic(group: string): string {
  return DLQ_GROUP_TOPIC_PREFIX + group;
}
export function isRetryTopic(topic: string): boolean {
  return topic.startsWith(RETRY_GROUP_TOPIC_PREFIX);
}
