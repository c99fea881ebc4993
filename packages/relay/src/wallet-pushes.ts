import {
  ackEntries,
  countWallet,
  decodeEnvelope,
  encodeEnvelope,
  type Keyspace,
  Liveness,
  lua,
  MailboxDrain,
  type RedisClient,
  RelayCommandSchema,
  type SocketPush,
  WalletCount,
  type WalletMessage,
  WalletMessageSchema,
  type WalletRoute,
  WalletRouteSchema,
} from "@acapy-bridge/protocol";
import { create } from "@bufbuild/protobuf";
import type { RelayContext } from "./relay-context.js";
import type { TrackedSocket, UnconfirmedPush } from "./socket-registry.js";

const JSON_TYPE = /^application\/json\b/i;
/** A push follows at most this many stale routes before it waits in the mailbox. */
export const MAX_HOPS = 3;
/** A relay is alive while its heartbeat is younger than this (the contract's, as the shim's). */
const LIVE_WINDOW_MS: number = Liveness.DEAD_AFTER_MS;
const DRAIN_BATCH: number = MailboxDrain.BATCH;

/**
 * Wallet messages pushed to this relay's sockets (SocketPush entries of its inbox).
 *
 * Delivery confirmation (docs/mediator.md): a frame written to a socket is
 * followed by a WebSocket ping carrying a sequence number (SendConfirmations).
 * The wallet's pong comes back on the same TCP stream after the frame, so it
 * proves the wallet has the frame; only then is the inbox entry acknowledged
 * (`onPushesConfirmed`). If the socket goes away first (close, error, missed
 * heartbeat), the unconfirmed messages go back to the head of the wallet's
 * mailbox, in order, and then the entries are acknowledged (`onSocketGone`):
 * "write elsewhere first, then ack". The socket registry calls both.
 *
 * A push for a socket this relay no longer holds re-resolves the wallet's route:
 * to another live relay (hop + 1, at most MAX_HOPS), to another socket here, or
 * to the mailbox.
 */
export class WalletPushes {
  private readonly inboxKey: string;
  private readonly group: string;
  private readonly inboxField: string;
  private readonly relayMembers: string;
  /** Entries handed to a socket and awaiting confirmation (so a re-read does not send them twice). */
  private readonly inFlight = new Set<string>();
  private readonly work = new Set<Promise<unknown>>();
  /** Wallets whose mailbox this relay is draining (one drain per wallet at a time). */
  private readonly draining = new Set<string>();

  constructor(
    private readonly ctx: RelayContext,
    private readonly client: RedisClient,
    private readonly keyspace: Keyspace,
  ) {
    this.inboxKey = keyspace.key("relayInbox", { relay: ctx.relayId });
    const spec = keyspace.spec("relayInbox");
    this.group = spec.consumerGroup;
    this.inboxField = spec.entryField;
    this.relayMembers = keyspace.key("members", { role: "relay" });
  }

  /** The wallet's pong confirmed these pushes (the socket registry's `onPushesConfirmed`). */
  onPushesConfirmed(_socket: TrackedSocket, pushes: UnconfirmedPush[]): void {
    this.track(this.confirmed(pushes));
  }

  /** A socket is gone with what it still owed (the socket registry's `onGone`). */
  onSocketGone(id: string, socket: TrackedSocket): void {
    this.track(this.socketGone(id, socket));
  }

  /**
   * Handles one SocketPush entry of this relay's inbox. Returns true when the
   * entry may be acknowledged now, false when it waits for its confirmation.
   */
  async handle(entryId: string, push: SocketPush): Promise<boolean> {
    const message = push.message;
    if (!message) return true;
    if (this.inFlight.has(entryId)) return false;
    const socket = this.ctx.sockets.get(push.socketId);
    if (socket && (await this.write(entryId, push.socketId, socket, message))) {
      this.ctx.metrics.inboxCommands.inc({ command: "push", result: "sent" });
      return false;
    }
    const route = await this.routeOf(message.recipientKey);
    if (route && route.relayId === this.ctx.relayId && route.socketId !== push.socketId) {
      // The wallet reconnected to this relay: its newer socket takes the message.
      const newer = this.ctx.sockets.get(route.socketId);
      if (newer && (await this.write(entryId, route.socketId, newer, message))) {
        this.ctx.metrics.inboxCommands.inc({ command: "push", result: "sent_newer_socket" });
        return false;
      }
    }
    await this.reroute(push, message, route);
    return true;
  }

  async routeOf(walletKey: string): Promise<WalletRoute | undefined> {
    const raw = await this.client.getBuffer(this.keyspace.key("walletRoute", { recipient: walletKey }));
    return raw ? decodeEnvelope(WalletRouteSchema, raw) : undefined;
  }

  /** Writes the frame and schedules the confirmation ping; false if the socket is unusable. */
  private async write(entryId: string, socketId: string, socket: TrackedSocket, message: WalletMessage) {
    const binary = !JSON_TYPE.test(message.contentType);
    socket.walletKeys.add(message.recipientKey);
    const pending: UnconfirmedPush = { entryId, message, writtenAt: Date.now() };
    socket.confirmations.expect(pending);
    this.inFlight.add(entryId);
    const sent = await this.ctx.sockets.send(socketId, message.body, binary);
    if (!sent) {
      // Not written: take it back (if the socket is gone, socketGone has already returned it).
      if (socket.confirmations.forget(pending)) {
        this.inFlight.delete(entryId);
        return false;
      }
      return true; // returned to the mailbox with the socket; the entry is acknowledged there
    }
    socket.confirmations.followWithPing();
    return true;
  }

  /** Pushes the wallet has read: their entries are acknowledged. */
  private async confirmed(done: UnconfirmedPush[]): Promise<void> {
    if (done.length === 0) return;
    const now = Date.now();
    for (const p of done) {
      const created = Number(p.message.createdAtMs);
      if (created > 0) this.ctx.metrics.walletPushSeconds.observe(Math.max(0, now - created) / 1000);
    }
    this.ctx.metrics.walletPushes.inc({ result: "confirmed" }, done.length);
    await this.ack(done.map((p) => p.entryId));
  }

  /** The socket closed: clear the routes that name it, return what it did not confirm, then acknowledge. */
  private async socketGone(id: string, socket: TrackedSocket): Promise<void> {
    const unconfirmed = socket.confirmations.takeUnconfirmed();
    for (const key of socket.walletKeys) {
      await this.clearRoute(key, id).catch(() => {});
    }
    // A live Message Pickup delivery's message is still in the mailbox until the wallet acknowledges it.
    const held = unconfirmed.filter((p) => p.message.heldInMailbox);
    if (held.length > 0) {
      this.ctx.metrics.walletPushes.inc({ result: "held_dropped" }, held.length);
      await this.ack(held.map((p) => p.entryId));
    }
    const owed = unconfirmed.filter((p) => !p.message.heldInMailbox);
    if (owed.length === 0) return;
    const byWallet = new Map<string, WalletMessage[]>();
    for (const p of owed) {
      const list = byWallet.get(p.message.recipientKey) ?? [];
      list.push(p.message);
      byWallet.set(p.message.recipientKey, list);
    }
    try {
      for (const [key, messages] of byWallet) {
        // LPUSH takes its arguments head-last: reversed, they land at the head in their order.
        const encoded = messages.map((m) => Buffer.from(encodeEnvelope(WalletMessageSchema, m))).reverse();
        await this.client.lpush(this.keyspace.key("walletMailbox", { recipient: key }), ...encoded);
        await this.count(WalletCount.MAILBOX_IN, encoded.length);
      }
      this.ctx.metrics.walletPushes.inc({ result: "returned_to_mailbox" }, owed.length);
      this.ctx.logger.info(
        { event: "relay.push_unconfirmed", socket: id, messages: owed.length },
        "socket gone before confirming; messages back in the wallets' mailboxes",
      );
      await this.ack(owed.map((p) => p.entryId));
      // A wallet that already reconnected elsewhere had its mailbox drained before these came back.
      for (const key of byWallet.keys()) await this.drainToSession(key);
    } catch (error) {
      // Not acknowledged: the entries stay pending and come back (re-read or the janitor).
      this.ctx.logger.error(
        { event: "relay.push_return_failed", socket: id, err: (error as Error).message },
        "could not return unconfirmed messages to the mailbox; entries stay pending",
      );
    } finally {
      for (const p of owed) this.inFlight.delete(p.entryId);
    }
  }

  private async clearRoute(walletKey: string, socketId: string): Promise<void> {
    const deleted = await lua.routeClear(this.client, {
      route: this.keyspace.key("walletRoute", { recipient: walletKey }),
      relayId: this.ctx.relayId,
      socketId,
    });
    if (deleted === 1) await this.count(WalletCount.ROUTE_CLEARED, 1);
  }

  /** The push's socket is not here: follow the wallet's route to another live relay, or to its mailbox. */
  async reroute(push: SocketPush, message: WalletMessage, route: WalletRoute | undefined): Promise<void> {
    if (route && route.relayId !== this.ctx.relayId && push.hop < MAX_HOPS && (await this.alive(route.relayId))) {
      if (await this.forward(push, message, route)) {
        this.ctx.metrics.inboxCommands.inc({ command: "push", result: "forwarded" });
        return;
      }
    }
    if (route && route.relayId === this.ctx.relayId && route.socketId === push.socketId) {
      await this.clearRoute(message.recipientKey, push.socketId);
    }
    await this.toMailbox(message);
    this.ctx.metrics.inboxCommands.inc({ command: "push", result: "mailbox" });
  }

  /** Forwards to another relay's inbox with hop + 1; false if that inbox is gone. */
  forward(push: SocketPush, message: WalletMessage, route: WalletRoute): Promise<boolean> {
    return this.pushTo(route, message, push.hop + 1);
  }

  /** A SocketPush to the route's relay inbox; false if that inbox is gone (a dead relay, recovered). */
  private async pushTo(route: WalletRoute, message: WalletMessage, hop: number): Promise<boolean> {
    const command = create(RelayCommandSchema, {
      command: {
        case: "push",
        value: { socketId: route.socketId, routeEpoch: route.epoch, hop, message },
      },
    });
    const [status] = await lua.inboxPush(this.client, {
      inbox: this.keyspace.key("relayInbox", { relay: route.relayId }),
      entryField: this.inboxField,
      command: encodeEnvelope(RelayCommandSchema, command),
    });
    return status === "OK";
  }

  /**
   * Appends to the wallet's mailbox (never refused: the message was already accepted). If the
   * wallet has a session meanwhile, its mailbox moves there at once (docs/mediator.md, "Drain").
   */
  async toMailbox(message: WalletMessage): Promise<void> {
    const key = message.recipientKey;
    if (message.heldInMailbox) {
      // A live Message Pickup delivery: the mailbox still holds its message until the wallet acknowledges it.
      this.ctx.metrics.walletPushes.inc({ result: "held_dropped" });
      return;
    }
    const reply = await lua.mailboxOffer(this.client, {
      route: this.keyspace.key("walletRoute", { recipient: key }),
      mailbox: this.keyspace.key("walletMailbox", { recipient: key }),
      // No push_window_ms: a message handed back after its socket went away decides on no push
      // notification (docs/mediator.md, "Push notifications").
      pushDevice: this.keyspace.key("walletPushDevice", { recipient: key }),
      pushWindow: this.keyspace.key("walletPushWindow", { recipient: key }),
      message: encodeEnvelope(WalletMessageSchema, message),
      cap: 0,
      live: "0",
    });
    // No cap and "mailbox only": the answer is MBOX, checked anyway so the count follows the script.
    if (reply[0] === "MBOX") await this.count(WalletCount.MAILBOX_IN, 1);
    this.ctx.metrics.walletPushes.inc({ result: "to_mailbox" });
    if (reply[0] === "MBOX" && reply[2].length > 0) await this.drainToSession(key);
  }

  /**
   * Moves a wallet's mailbox, oldest first, to its current session on a live relay. Needed when a
   * message reaches the mailbox after the wallet's session began (the route changed while this
   * relay decided, or the wallet reconnected elsewhere before a dead socket's messages came back):
   * the shim drains only when a session registers or when it adds to the mailbox itself, so the
   * message would otherwise wait for the wallet's next session. Same steps as the shim's drain
   * (LRANGE -> inbox_push -> mailbox_take if the head is unchanged): racing another drain only
   * duplicates. An expired message stops the drain; the shim's drain dead-letters it.
   */
  private async drainToSession(walletKey: string): Promise<void> {
    if (this.draining.has(walletKey)) return;
    const route = await this.routeOf(walletKey);
    if (!route || !(await this.alive(route.relayId))) return;
    // A wallet that collects with Message Pickup 2.0 takes its mailbox with delivery requests.
    if (await this.client.exists(this.keyspace.key("walletPickup", { recipient: walletKey }))) return;
    this.draining.add(walletKey);
    const mailbox = this.keyspace.key("walletMailbox", { recipient: walletKey });
    let drained = 0;
    try {
      for (;;) {
        const batch = await this.client.lrangeBuffer(mailbox, 0, DRAIN_BATCH - 1);
        let moved = 0;
        for (const raw of batch) {
          const message = decodeEnvelope(WalletMessageSchema, raw);
          const expiresAt = Number(message.expiresAtMs);
          if (expiresAt > 0 && expiresAt < Date.now()) break;
          if (!(await this.pushTo(route, message, 0))) break;
          moved++;
        }
        if (moved === 0) return;
        const remaining = await lua.mailboxTake(this.client, { mailbox, head: batch[0] as Buffer, count: moved });
        // -1: another drain took them first (and counted them) and what we pushed were duplicates;
        // read the head again.
        if (remaining >= 0) {
          drained += moved;
          await this.count(WalletCount.MAILBOX_OUT, moved);
        }
        if (moved < batch.length) return;
      }
    } finally {
      this.draining.delete(walletKey);
      if (drained > 0) {
        this.ctx.metrics.walletPushes.inc({ result: "drained_to_session" }, drained);
        this.ctx.logger.info(
          { event: "relay.mailbox_drained", wallet: walletKey, relay: route.relayId, messages: drained },
          "mailbox moved to the wallet's session",
        );
      }
    }
  }

  /** Bumps the deployment's wallet counts (relay metrics); logs a failure, never throws. */
  private count(count: WalletCount, by: number): Promise<void> {
    return countWallet(this.client, this.keyspace, count, by, (error, field) =>
      this.ctx.logger.warn(
        { event: "relay.wallet_count_failed", count: field, by, err: error.message },
        "wallet count not updated; the metric is off by this much",
      ),
    );
  }

  async alive(relayId: string): Promise<boolean> {
    const score = await this.client.zscore(this.relayMembers, relayId);
    return score !== null && Number(score) >= Date.now() - LIVE_WINDOW_MS;
  }

  private async ack(ids: string[]): Promise<void> {
    try {
      await ackEntries(this.client, this.inboxKey, this.group, ids);
    } finally {
      for (const id of ids) this.inFlight.delete(id);
    }
  }

  private track(work: Promise<unknown>): void {
    const tracked = work.catch((error: Error) =>
      this.ctx.logger.warn({ event: "relay.push_error", err: error.message }, "wallet push bookkeeping failed"),
    );
    this.work.add(tracked);
    void tracked.finally(() => this.work.delete(tracked));
  }

  /** Waits for confirmations and mailbox returns in progress (shutdown). */
  async settle(): Promise<void> {
    while (this.work.size > 0) await Promise.all([...this.work]);
  }

  /** Decodes a RelayCommand (for the janitor). */
  static decode(payload: Buffer) {
    return decodeEnvelope(RelayCommandSchema, payload);
  }
}
