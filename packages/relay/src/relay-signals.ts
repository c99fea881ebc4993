import { decodeEnvelope, type Keyspace, type RedisClient, RelayCommandSchema } from "@acapy-bridge/protocol";
import type { RelayContext } from "./relay-context.js";

/**
 * ACA-Py's bodiless "no direct response" answers for this relay, published
 * to its signals channel (`relaySignals`) instead of written to its inbox:
 * one PUBLISH where an inbox entry costs a write, a read, an acknowledgement
 * and a deletion. Nothing is stored, so an answer published while this relay
 * is not subscribed (reconnecting) is lost; it carries nothing to deliver,
 * and the request it answers gets its answer from the reply timeout instead.
 * Answers written to the inbox (by older shims, or sent on their own after a
 * hold) are still handled there.
 */
export class RelaySignals {
  readonly channel: string;

  /** `subscriber` is this channel's own connection (a subscribed connection takes no other commands). */
  constructor(
    private readonly ctx: RelayContext,
    private readonly subscriber: RedisClient,
    keyspace: Keyspace,
  ) {
    this.channel = keyspace.key("relaySignals", { relay: ctx.relayId });
  }

  /** Resolves once subscribed; ioredis subscribes again by itself after a reconnect. */
  async start(): Promise<void> {
    this.subscriber.on("messageBuffer", (channel: Buffer, message: Buffer) => {
      if (channel.toString() === this.channel) this.handle(message);
    });
    await this.subscriber.subscribe(this.channel);
  }

  private handle(message: Buffer): void {
    const { ctx } = this;
    let command: ReturnType<typeof decodeEnvelope<typeof RelayCommandSchema>>;
    try {
      command = decodeEnvelope(RelayCommandSchema, message);
    } catch (error) {
      ctx.metrics.inboxCommands.inc({ command: "unknown", result: "malformed" });
      ctx.logger.error(
        { event: "relay.signal_malformed", channel: this.channel, err: (error as Error).message },
        "undecodable signal dropped",
      );
      return;
    }
    if (command.command.case !== "reply" || !command.command.value.requestId) {
      ctx.metrics.inboxCommands.inc({ command: command.command.case ?? "unknown", result: "ignored" });
      return;
    }
    // A bodiless answer: one whose request is gone has nothing to hand back to ACA-Py.
    ctx.metrics.inboxCommands.inc({ command: "reply", result: ctx.pending.deliver(command.command.value) });
  }
}
