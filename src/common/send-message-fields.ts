// The fields of Java's SendMessageRequestHeader (V1 names) that both the send header and the
// reply push header (326, ReplyMessageRequestHeader) carry: one list for both.

export interface SendMessageFields {
  producerGroup: string;
  topic: string;
  defaultTopic: string;
  defaultTopicQueueNums: number;
  /** The queue id the sender chose (-1 when it left the choice to the broker). */
  queueId: number;
  sysFlag: number;
  bornTimestamp: number;
  flag: number;
  properties: string;
  reconsumeTimes: number;
  unitMode: boolean;
}
