import { randomBytes } from "node:crypto";
import {
  ackEntries,
  autoClaim,
  decodeEnvelope,
  type Keyspace,
  lua,
  type Membership,
  type RedisClient,
  RelayCommandSchema,
  readGroup,
  type StreamEntry,
} from "@acapy-bridge/protocol";
import type { RelayContext } from "./relay-context.js";
import type { RelayInbox } from "./relay-inbox.js";
import type { WalletPushes } from "./wallet-pushes.js";

/** The janitor lease was lost during a round: another relay may be handing on the same inbox now. */
class LeaseLost extends Error {
  constructor() {
    super("janitor lease lost during the round");
  }
}

/**
 * Recovers dead relays' inboxes (one relay at a time holds `janitor_lease`).
 *
 * A relay is dead when its heartbeat in the members zset is older than the
 * dead window; a relay that stops gracefully marks itself dead at once, so
 * that what is written to its inbox after it stopped is handed on the same
 * way. For each dead relay D: claim every entry of D's inbox
 * (XAUTOCLAIM from 0-0, then XREADGROUP ">" for entries never read), re-route
 * each — a SocketPush to the wallet's current route if it is on a live relay,
 * else to its mailbox; a DirectReply back to ACA-Py as RETURNED_REPLY; a
 * CloseSocket is dropped (the socket died with D) — and acknowledge it after.
 * When the inbox is empty: DEL it, atomically with the emptiness check
 * (`inbox_retire`; shims' `inbox_push` then refuses to write there and use
 * the mailbox), ZREM D from the members. No key scans: routes
 * to D are ignored by readers (D is not alive) and replaced on reconnect.
 */
export class RelayJanitor {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly leaseKey: string;
  private readonly leaseTtlMs: number;
  /** This janitor's owner value: a relay restarted under the same id is another owner. */
  private readonly leaseValue: string;
  /** performance.now() when the last successful acquisition or renewal was sent. */
  private leaseRenewedAt = 0;

  constructor(
    private readonly ctx: RelayContext,
    private readonly client: RedisClient,
    private readonly keyspace: Keyspace,
    private readonly membership: Membership,
    private readonly pushes: WalletPushes,
    private readonly inbox: RelayInbox,
    private readonly intervalMs = 5_000,
    leaseTtlMs?: number,
  ) {
    this.leaseKey = keyspace.key("janitorLease", {});
    this.leaseTtlMs = leaseTtlMs ?? (Number(keyspace.spec("janitorLease").defaultTtlMs) || 10_000);
    this.leaseValue = `${ctx.relayId}:${randomBytes(6).toString("hex")}`;
  }

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.runOnce()
        .then(() => undefined)
        .catch((error: Error) =>
          this.ctx.logger.warn({ event: "relay.janitor_error", err: error.message }, "janitor round failed"),
        )
        .finally(() => {
          this.running = undefined;
        });
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
    // Give the lease up so another relay takes over at once (only if still ours: compare-and-delete).
    await lua.leaseRelease(this.client, { lease: this.leaseKey, owner: this.leaseValue }).catch(() => 0);
  }

  /** One round: take or keep the lease, then recover every dead relay. Returns the relays recovered. */
  async runOnce(): Promise<string[]> {
    if (!(await this.holdLease())) return [];
    const dead = (await this.membership.deadMembers("relay")).filter((id) => id !== this.ctx.relayId);
    const recovered: string[] = [];
    try {
      for (const relay of dead) {
        if (await this.recover(relay)) recovered.push(relay);
      }
    } catch (error) {
      if (!(error instanceof LeaseLost)) throw error;
      this.ctx.metrics.janitorLeaseLost.inc();
      this.ctx.logger.warn(
        { event: "relay.janitor_lease_lost", recovered: recovered.length },
        "janitor lease lost during the round; stopped so that two janitors do not hand on the same entries",
      );
    }
    return recovered;
  }

  private async holdLease(): Promise<boolean> {
    const sent = performance.now();
    const [status] = await lua.leaseAcquire(this.client, {
      lease: this.leaseKey,
      owner: this.leaseValue,
      ttlMs: this.leaseTtlMs,
    });
    if (status !== "OK") return false;
    this.leaseRenewedAt = sent;
    return true;
  }

  /**
   * Renews the lease once a third of its TTL has passed since the last renewal, so that a round
   * longer than the TTL (a big dead inbox) keeps it; throws `LeaseLost` when another relay holds it.
   */
  private async keepLease(): Promise<void> {
    if (performance.now() - this.leaseRenewedAt < this.leaseTtlMs / 3) return;
    const sent = performance.now();
    const renewed = await lua.leaseRenew(this.client, {
      lease: this.leaseKey,
      owner: this.leaseValue,
      ttlMs: this.leaseTtlMs,
    });
    if (renewed !== 1) throw new LeaseLost();
    this.leaseRenewedAt = sent;
  }

  /** Empties a dead relay's inbox into routes and mailboxes; true when the inbox is gone. */
  async recover(relay: string): Promise<boolean> {
    const key = this.keyspace.key("relayInbox", { relay });
    const spec = this.keyspace.spec("relayInbox");
    const group = spec.consumerGroup;
    const consumer = `${this.ctx.relayId}-janitor`;
    if ((await this.client.exists(key)) === 0) {
      await this.forget(relay);
      return true;
    }
    let handled = 0;
    try {
      let cursor = "0-0";
      do {
        const claim = await autoClaim(this.client, {
          stream: key,
          group,
          consumer,
          minIdleMs: 0,
          cursor,
          count: 100,
          entryField: spec.entryField,
        });
        if (claim.deletedIds.length > 0) await ackEntries(this.client, key, group, claim.deletedIds);
        handled += await this.handle(key, group, claim.entries);
        cursor = claim.cursor;
      } while (cursor !== "0-0");
      for (;;) {
        const entries = await readGroup(this.client, {
          stream: key,
          group,
          consumer,
          entryField: spec.entryField,
          count: 100,
          after: ">",
        });
        if (entries.length === 0) break;
        handled += await this.handle(key, group, entries);
      }
    } catch (error) {
      if (!String((error as Error).message).includes("NOGROUP")) throw error;
    }
    // One step, not XLEN then DEL: a shim that still saw the relay alive may append between the two.
    const retired = await lua.inboxRetire(this.client, { inbox: key });
    if (retired === 0) return false;
    await this.forget(relay);
    this.ctx.logger.info(
      { event: "relay.janitor_recovered", relay, entries: handled },
      "recovered a dead relay's inbox",
    );
    return true;
  }

  private async forget(relay: string): Promise<void> {
    await this.client.zrem(this.keyspace.key("members", { role: "relay" }), relay);
    await this.client.del(this.keyspace.key("instance", { instance: relay }));
  }

  /**
   * Hands on entries one by one, keeping the lease between them. Before a renewal, what was handed
   * on is acknowledged: if the lease turns out lost, the next janitor must not find those entries
   * pending and hand them on again.
   */
  private async handle(key: string, group: string, entries: StreamEntry[]): Promise<number> {
    let done: string[] = [];
    let handled = 0;
    for (const entry of entries) {
      if (done.length > 0 && performance.now() - this.leaseRenewedAt >= this.leaseTtlMs / 3) {
        await ackEntries(this.client, key, group, done);
        handled += done.length;
        done = [];
      }
      await this.keepLease();
      if (entry.payload) {
        let command: ReturnType<typeof decodeEnvelope<typeof RelayCommandSchema>> | undefined;
        try {
          command = decodeEnvelope(RelayCommandSchema, entry.payload);
        } catch {
          this.ctx.metrics.janitorRecovered.inc({ command: "unknown", result: "malformed" });
        }
        if (command?.command.case === "push" && command.command.value.message) {
          const push = command.command.value;
          const message = push.message as NonNullable<typeof push.message>;
          const route = await this.pushes.routeOf(message.recipientKey);
          const retry = { ...push, hop: Math.min(push.hop, 2) };
          // The wallet may have reconnected to this very relay: its own inbox takes the push then.
          const here = route?.relayId === this.ctx.relayId && (await this.pushes.forward(retry, message, route));
          if (!here) await this.pushes.reroute(retry, message, route);
          this.ctx.metrics.janitorRecovered.inc({ command: "push", result: "rerouted" });
        } else if (command?.command.case === "reply") {
          await this.inbox.returnToAgent(command.command.value, "socket_gone");
          this.ctx.metrics.janitorRecovered.inc({ command: "reply", result: "returned" });
        } else if (command) {
          this.ctx.metrics.janitorRecovered.inc({ command: command.command.case ?? "unknown", result: "dropped" });
        }
      }
      done.push(entry.id);
    }
    await ackEntries(this.client, key, group, done);
    return handled + done.length;
  }
}
