import {
  type DirectReply,
  decodeEnvelope,
  GroupReader,
  InboundKind,
  type Keyspace,
  LingeringAcks,
  newMessageId,
  type RedisClient,
  type RelayCommand,
  RelayCommandSchema,
  type StreamEntry,
  Transport,
} from "@acapy-bridge/protocol";
import { CLOSE } from "./close-codes.js";
import { isBase58Verkey } from "./envelope-recipient.js";
import { agentMessage, NEVER_REFUSE } from "./inbound-writer.js";
import type { RelayContext } from "./relay-context.js";
import type { WalletPushes } from "./wallet-pushes.js";

const JSON_TYPE = /^application\/json\b/i;
/** How long a handled entry's acknowledgement waits for others to share its Redis call. */
const ACK_LINGER_MS = 20;

/** Entries in hand (queued or running on a socket's lane) at most: a full hand stops the reading. */
const MAX_IN_HAND = 1_000;
/** How long after a failed entry the reader goes back to its pending entries (as after a read error). */
const REREAD_DELAY_MS = 500;

/** The socket a command is for: its entries are handled one at a time, in order, on that socket's lane. */
function socketOf(command: RelayCommand): string | undefined {
  switch (command.command.case) {
    case "push":
    case "close":
      return command.command.value.socketId || undefined;
    case "reply":
      return command.command.value.requestId ? undefined : command.command.value.socketId || undefined;
    default:
      return undefined;
  }
}

/** Whether stream entry id `a` ("ms-seq") is at most `b`. */
function idAtMost(a: string, b: string): boolean {
  const [am = 0, as = 0] = a.split("-").map(Number);
  const [bm = 0, bs = 0] = b.split("-").map(Number);
  return am < bm || (am === bm && as <= bs);
}

/**
 * Reads this relay's inbox (consumer group `relay`): ACA-Py's direct replies
 * go to the HTTP request or socket waiting for them. A reply nobody waits for
 * any more goes back to ACA-Py as an INBOUND_KIND_RETURNED_REPLY message, so
 * it is re-routed, never dropped. An entry is acknowledged only after that,
 * a little later and together with others (on the commands connection, so
 * that the blocked read does not hold the acknowledgements back).
 *
 * A send to a socket waits until the kernel has taken the frame (up to the
 * send timeout), so what goes to a socket (pushes, replies, closes) runs on
 * that socket's lane: one socket's entries one at a time and in order,
 * different sockets' side by side. The rest (replies to HTTP requests) is
 * handled as it is read. At most MAX_IN_HAND entries are on the lanes; then
 * the batch waits for room, and the reader with it.
 */
export class RelayInbox {
  private readonly reader: GroupReader;
  private readonly acks: LingeringAcks;
  readonly key: string;
  /** Entries queued or running on a lane, by id (a re-read skips them). */
  private readonly inHand = new Set<string>();
  /** The last task of each socket's lane. */
  private readonly lanes = new Map<string, Promise<void>>();
  /**
   * Sockets whose lane had an entry fail, with that entry's id: their later entries stay pending,
   * unhandled, until the reader comes back to the failed one, so that they keep their order.
   */
  private readonly halted = new Map<string, string>();
  private roomWaiter: (() => void) | undefined;
  private rereadTimer: NodeJS.Timeout | undefined;

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

  /**
   * Stops reading, waits for the entries on the lanes (each ends within the send timeout, at once
   * when its socket is gone) and sends the acknowledgements still waiting; entries read but not
   * handled stay pending for this relay.
   */
  async stop(): Promise<void> {
    const stopped = this.reader.stop();
    // Break a blocked XREADGROUP instead of waiting for its timeout.
    this.client.disconnect();
    await stopped;
    while (this.lanes.size > 0) await Promise.all([...this.lanes.values()]);
    clearTimeout(this.rereadTimer);
    this.rereadTimer = undefined;
    await this.acks.close();
  }

  private async handleBatch(entries: StreamEntry[]): Promise<void> {
    const done: string[] = [];
    try {
      for (const entry of entries) {
        // Reading the pending entries again, up to a failed entry and past it: its lane goes on from here, in order.
        for (const [socketId, failed] of this.halted) if (idAtMost(entry.id, failed)) this.halted.delete(socketId);
        // On a lane already, or read again after a read error while its acknowledgement still waits.
        if (this.inHand.has(entry.id) || this.acks.holds(entry.id)) continue;
        const command = this.decode(entry);
        const socketId = command && socketOf(command);
        if (!command || !socketId) {
          // Deleted, undecodable, or for no socket (a reply to an HTTP request): handled now.
          if (!command || (await this.handleEntry(entry.id, command))) done.push(entry.id);
          continue;
        }
        // Behind its socket's failed entry: stays pending until the reader comes back to that one.
        if (this.halted.has(socketId)) continue;
        while (this.inHand.size >= MAX_IN_HAND) {
          await new Promise<void>((resolve) => {
            this.roomWaiter = resolve;
          });
        }
        this.onLane(socketId, entry.id, command);
      }
    } finally {
      // What was handled is acknowledged even if a later entry failed (it is retried).
      this.acks.add(done);
    }
  }

  /** Queues the entry on its socket's lane, behind that socket's earlier entries. */
  private onLane(socketId: string, entryId: string, command: RelayCommand): void {
    this.inHand.add(entryId);
    const task = (this.lanes.get(socketId) ?? Promise.resolve()).then(() => this.runOnLane(socketId, entryId, command));
    this.lanes.set(socketId, task);
    void task.then(() => {
      if (this.lanes.get(socketId) === task) this.lanes.delete(socketId);
    });
  }

  /** Handles one lane entry; never rejects. A failure leaves it pending and has the reader read it again. */
  private async runOnLane(socketId: string, entryId: string, command: RelayCommand): Promise<void> {
    try {
      // An earlier entry of this socket failed: this one waits, pending, for the re-read.
      if (this.halted.has(socketId)) return;
      // A push written to a socket is acknowledged later, on the wallet's confirmation.
      if (await this.handleEntry(entryId, command)) this.acks.add([entryId]);
    } catch (error) {
      this.halted.set(socketId, entryId);
      this.ctx.logger.warn(
        {
          event: "relay.inbox_entry_failed",
          entry: entryId,
          command: command.command.case,
          err: (error as Error).message,
        },
        "handling an inbox entry failed; it stays pending and is read again",
      );
      this.rereadSoon();
    } finally {
      this.inHand.delete(entryId);
      const wake = this.roomWaiter;
      this.roomWaiter = undefined;
      wake?.();
    }
  }

  private rereadSoon(): void {
    if (this.rereadTimer || !this.reader.isRunning) return;
    this.rereadTimer = setTimeout(() => {
      this.rereadTimer = undefined;
      this.reader.rereadPending();
    }, REREAD_DELAY_MS);
  }

  /** The entry's command; undefined for one deleted while pending or undecodable (counted, logged): acknowledged as is. */
  private decode(entry: StreamEntry): RelayCommand | undefined {
    if (!entry.payload) return undefined; // deleted while pending
    try {
      return decodeEnvelope(RelayCommandSchema, entry.payload);
    } catch (error) {
      this.ctx.metrics.inboxCommands.inc({ command: "unknown", result: "malformed" });
      this.ctx.logger.error(
        { event: "relay.inbox_malformed", entry: entry.id, err: (error as Error).message },
        "undecodable inbox entry dropped",
      );
      return undefined;
    }
  }

  /** Handles one command; true when its entry may be acknowledged now. */
  private async handleEntry(entryId: string, command: RelayCommand): Promise<boolean> {
    const { ctx } = this;
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
              entry: entryId,
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
        return this.pushes.handle(entryId, command.command.value);
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
      NEVER_REFUSE, // the reply exists only here now
    );
    ctx.metrics.returnedReplies.inc({ reason });
    ctx.logger.info(
      { event: "relay.reply_returned", mid, replyTo: reply.mid, reason, connection: reply.connectionId },
      "direct response could not be delivered here; handed back to ACA-Py",
    );
  }
}
