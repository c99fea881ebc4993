import {
  type DirectReply,
  decodeEnvelope,
  GroupReader,
  InboundKind,
  type Keyspace,
  LingeringAcks,
  newMessageId,
  type RedisClient,
  RelayCommandSchema,
  type StreamEntry,
  Transport,
} from "@acapy-bridge/protocol";
import { isBase58Verkey } from "./envelope-recipient.js";
import { agentMessage } from "./inbound-writer.js";
import type { RelayContext } from "./relay-context.js";
import type { WalletPushes } from "./wallet-pushes.js";
import { CLOSE } from "./websocket-ingress.js";

const JSON_TYPE = /^application\/json\b/i;
/** How long a handled entry's acknowledgement waits for others to share its Redis call. */
const ACK_LINGER_MS = 20;

/**
 * Reads this relay's inbox (consumer group `relay`): ACA-Py's direct replies
 * go to the HTTP request or socket waiting for them. A reply nobody waits for
 * any more goes back to ACA-Py as an INBOUND_KIND_RETURNED_REPLY message, so
 * it is re-routed, never dropped. An entry is acknowledged only after that,
 * a little later and together with others (on the commands connection, so
 * that the blocked read does not hold the acknowledgements back).
 */
export class RelayInbox {
  private readonly reader: GroupReader;
  private readonly acks: LingeringAcks;
  readonly key: string;

  /** `client` is the inbox's own blocking connection; `commands` carries the acknowledgements. */
  constructor(
    private readonly ctx: RelayContext,
    private readonly client: RedisClient,
    commands: RedisClient,
    keyspace: Keyspace,
    private readonly pushes: WalletPushes,
    blockMs = 2000,
  ) {
    const spec = keyspace.spec("relayInbox");
    this.key = keyspace.key("relayInbox", { relay: ctx.relayId });
    this.acks = new LingeringAcks(commands, this.key, spec.consumerGroup, ACK_LINGER_MS, (error, waiting) =>
      ctx.logger.warn(
        { event: "relay.inbox_ack_failed", waiting, err: error.message },
        "acknowledging inbox entries failed; they are sent again with the next ones",
      ),
    );
    this.reader = new GroupReader({
      client,
      stream: this.key,
      group: spec.consumerGroup,
      consumer: ctx.relayId,
      entryField: spec.entryField,
      count: 100,
      blockMs,
      onBatch: (entries) => this.handleBatch(entries),
      onError: (error) =>
        ctx.logger.warn({ event: "relay.inbox_error", err: error.message }, "reading the relay inbox failed; retrying"),
    });
  }

  start(): void {
    this.reader.start();
  }

  /** Stops reading and sends the acknowledgements still waiting; entries read but not handled stay pending for this relay. */
  async stop(): Promise<void> {
    const stopped = this.reader.stop();
    // Break a blocked XREADGROUP instead of waiting for its timeout.
    this.client.disconnect();
    await stopped;
    await this.acks.close();
  }

  private async handleBatch(entries: StreamEntry[]): Promise<void> {
    const done: string[] = [];
    try {
      for (const entry of entries) {
        // Read again after a read error while its acknowledgement still waits: handled already.
        if (this.acks.holds(entry.id)) continue;
        // A push written to a socket is acknowledged later, on the wallet's confirmation.
        if (await this.handleEntry(entry)) done.push(entry.id);
      }
    } finally {
      // What was handled is acknowledged even if a later entry failed (it is retried).
      this.acks.add(done);
    }
  }

  /** Handles one entry; true when it may be acknowledged now. */
  private async handleEntry(entry: StreamEntry): Promise<boolean> {
    const { ctx } = this;
    if (!entry.payload) return true; // deleted while pending
    let command: ReturnType<typeof decodeEnvelope<typeof RelayCommandSchema>>;
    try {
      command = decodeEnvelope(RelayCommandSchema, entry.payload);
    } catch (error) {
      ctx.metrics.inboxCommands.inc({ command: "unknown", result: "malformed" });
      ctx.logger.error(
        { event: "relay.inbox_malformed", entry: entry.id, err: (error as Error).message },
        "undecodable inbox entry dropped",
      );
      return true;
    }
    switch (command.command.case) {
      case "reply":
        await this.handleReply(command.command.value);
        return true;
      case "close": {
        const { socketId, code, reason } = command.command.value;
        const closed = ctx.sockets.close(socketId, code || CLOSE.normal, reason);
        if (closed === "adjusted") {
          ctx.logger.warn(
            {
              event: "relay.close_adjusted",
              entry: entry.id,
              socket: socketId,
              code,
              reasonBytes: Buffer.byteLength(reason),
            },
            "close command with an invalid code or a reason over 123 bytes; closed with 1011 or a shortened reason",
          );
        }
        ctx.metrics.inboxCommands.inc({ command: "close", result: closed === "closed" ? "done" : closed });
        return true;
      }
      case "push":
        return this.pushes.handle(entry.id, command.command.value);
      default:
        ctx.metrics.inboxCommands.inc({ command: "unknown", result: "ignored" });
        return true;
    }
  }

  private async handleReply(reply: DirectReply): Promise<void> {
    const { ctx } = this;
    if (reply.requestId) {
      const result = ctx.pending.deliver(reply);
      ctx.metrics.inboxCommands.inc({ command: "reply", result });
      if (result === "orphan") await this.returnToAgent(reply, "request_gone");
      return;
    }
    if (reply.socketId) {
      const sent =
        reply.body.length > 0 &&
        (await ctx.sockets.send(reply.socketId, reply.body, !JSON_TYPE.test(reply.contentType)));
      ctx.metrics.inboxCommands.inc({ command: "reply", result: sent ? "sent" : "orphan" });
      if (!sent) await this.returnToAgent(reply, "socket_gone");
      return;
    }
    ctx.metrics.inboxCommands.inc({ command: "reply", result: "ignored" });
  }

  /** Hands an undeliverable direct response back to ACA-Py, which routes it another way. */
  async returnToAgent(reply: DirectReply, reason: "request_gone" | "socket_gone"): Promise<void> {
    const { ctx } = this;
    if (reply.body.length === 0) return; // nothing to deliver (an empty 200, a 400/500)
    const mid = newMessageId();
    await ctx.writer.write(
      agentMessage({
        mid,
        kind: InboundKind.RETURNED_REPLY,
        recipientKey: isBase58Verkey(reply.replyToVerkey) ? reply.replyToVerkey : `reply:${reply.mid}`,
        contentType: reply.contentType,
        receivedAtMs: BigInt(Date.now()),
        transport: Transport.UNSPECIFIED,
        relayId: ctx.relayId,
        returnedReply: reply,
      }),
      undefined,
      0, // never refuse: the reply exists only here now
    );
    ctx.metrics.returnedReplies.inc({ reason });
    ctx.logger.info(
      { event: "relay.reply_returned", mid, replyTo: reply.mid, reason, connection: reply.connectionId },
      "direct response could not be delivered here; handed back to ACA-Py",
    );
  }
}
