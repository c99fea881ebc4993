// A stand-in for the shim in relay tests and the bench: heartbeats as a live
// shim (relays wait for direct responses only while one is live), reads the
// inbound partitions as group "acapy", hands each AgentMessage to `answer`,
// writes the DirectReply it returns to the origin relay's inbox, then acknowledges.

import {
  type AgentMessage,
  AgentMessageSchema,
  ackEntries,
  DirectReplySchema,
  decodeEnvelope,
  encodeEnvelope,
  GroupReader,
  instanceInfo,
  type Keyspace,
  Membership,
  type RedisClient,
  RelayCommandSchema,
  waitUntilReady,
} from "@acapy-bridge/protocol";
import { create, type MessageInitShape } from "@bufbuild/protobuf";

export type Answer = (message: AgentMessage) => ReplyFields | undefined | Promise<ReplyFields | undefined>;

/** What an answer sets of the DirectReply; the consumer fills in the ids and status 200. */
type ReplyFields = MessageInitShape<typeof DirectReplySchema>;

export class EchoConsumer {
  private readonly readers: GroupReader[] = [];
  private readonly membership: Membership;
  readonly seen: AgentMessage[] = [];

  constructor(
    private readonly blockingClients: RedisClient[],
    private readonly client: RedisClient,
    private readonly keyspace: Keyspace,
    private readonly answer: Answer,
  ) {
    this.membership = new Membership({
      client,
      keyspace,
      info: instanceInfo({
        instanceId: `echo-shim-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
        role: "shim",
      }),
      onError: () => {},
    });
  }

  /** Resolves once the heartbeat is in Redis: from then on relays wait for this stand-in's replies. */
  async start(): Promise<void> {
    await waitUntilReady(this.client);
    await this.membership.start();
    const spec = this.keyspace.spec("inboundQueue");
    const keys = this.keyspace.allPartitions("inboundQueue");
    keys.forEach((stream, i) => {
      const reader = new GroupReader({
        client: this.blockingClients[i % this.blockingClients.length] as RedisClient,
        stream,
        group: spec.consumerGroup,
        consumer: "echo",
        entryField: spec.entryField,
        count: 64,
        blockMs: 500,
        onBatch: async (entries) => {
          await Promise.all(
            entries.map(async (entry) => {
              if (!entry.payload) return;
              const message = decodeEnvelope(AgentMessageSchema, entry.payload);
              this.seen.push(message);
              const reply = await this.answer(message);
              if (reply && (message.requestId || message.socketId)) {
                const full = create(DirectReplySchema, {
                  mid: message.mid,
                  requestId: message.requestId,
                  socketId: message.socketId,
                  status: 200,
                  ...reply,
                });
                const command = create(RelayCommandSchema, { command: { case: "reply", value: full } });
                await this.client.xadd(
                  this.keyspace.key("relayInbox", { relay: message.relayId }),
                  "*",
                  this.keyspace.spec("relayInbox").entryField,
                  Buffer.from(encodeEnvelope(RelayCommandSchema, command)),
                );
              }
            }),
          );
          await ackEntries(
            this.client,
            stream,
            spec.consumerGroup,
            entries.map((e) => e.id),
          );
        },
        onError: () => {},
      });
      reader.start();
      this.readers.push(reader);
    });
  }

  async stop(): Promise<void> {
    await Promise.all(this.readers.map((r) => r.stop()));
    await this.membership.stop().catch(() => {});
  }
}
