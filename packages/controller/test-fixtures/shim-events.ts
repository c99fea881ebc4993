// Writes events to the events streams the way the shim does (events.py
// `_append_event`): an AgentEvent envelope under the stream's entry field, in
// the partition of its ordering key. For tests that need many events fast.

import {
  AgentEventSchema,
  encodeEnvelope,
  type Keyspace,
  newMessageId,
  partitionOf,
  type RedisClient,
} from "@acapy-bridge/protocol";
import { create } from "@bufbuild/protobuf";

export interface TestEvent {
  topic?: string;
  webhookTopic?: string;
  walletId?: string;
  orderingKey: string;
  payload: unknown;
}

/** Appends one event; returns its mid and partition. */
export async function appendEvent(
  client: RedisClient,
  keyspace: Keyspace,
  event: TestEvent,
): Promise<{ mid: string; partition: number }> {
  const now = Date.now();
  const mid = newMessageId(now);
  const envelope = create(AgentEventSchema, {
    mid,
    topic: event.topic ?? "acapy::basicmessage::received",
    webhookTopic: event.webhookTopic ?? "basicmessages",
    walletId: event.walletId ?? "",
    payloadJson: Buffer.from(JSON.stringify(event.payload)),
    createdAtMs: BigInt(now),
    orderingKey: event.orderingKey,
  });
  const partition = partitionOf(event.orderingKey, keyspace.partitionCount("events"));
  await client.xadd(
    keyspace.key("events", { partition }),
    "*",
    keyspace.spec("events").entryField,
    Buffer.from(encodeEnvelope(AgentEventSchema, envelope)),
  );
  return { mid, partition };
}
