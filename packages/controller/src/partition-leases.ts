import { randomBytes } from "node:crypto";
import type { Logger } from "@acapy-bridge/operability";
import { instanceInfo, type Keyspace, lua, Membership, type RedisClient } from "@acapy-bridge/protocol";

export interface PartitionLeasesOptions {
  client: RedisClient;
  keyspace: Keyspace;
  group: string;
  consumer: string;
  leaseTtlMs: number;
  heartbeatMs: number;
  deadAfterMs: number;
  logger: Logger;
  /** Starts handling a partition this instance now owns. */
  acquired: (partition: number) => Promise<void>;
  /** Stops handling a partition; resolves once its event in hand is done. */
  released: (partition: number) => Promise<void>;
}

interface Held {
  owner: string;
  /** performance.now() when the last successful renewal (or the acquisition) was sent. */
  renewedAt: number;
  dropping: boolean;
  /** The `acquired` callback, running beside the renewals (a backlog taken over can take long). */
  starting: Promise<void>;
}

/**
 * One owner per events partition among the live instances of a consumer group:
 * partition p belongs to the (p mod n)-th of the n live instances in name order,
 * held by a lease (`eventsLease`) renewed every third of its TTL. An instance
 * that could not renew for half the TTL stops the partition on its own, before
 * anyone else can take it; a partition it should no longer own is stopped
 * first, then its lease released, so the next owner starts after the last event
 * of the previous one.
 */
export class PartitionLeases {
  private readonly held = new Map<number, Held>();
  private readonly membership: Membership;
  private readonly role: string;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly o: PartitionLeasesOptions) {
    this.role = `controller:${o.group}`;
    this.membership = new Membership({
      client: o.client,
      keyspace: o.keyspace,
      info: instanceInfo({ instanceId: o.consumer, role: this.role }),
      heartbeatMs: o.heartbeatMs,
      deadAfterMs: o.deadAfterMs,
      onError: (error) => o.logger.warn({ event: "controller.heartbeat_failed", err: error.message }),
    });
  }

  get owned(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  async start(): Promise<void> {
    await this.membership.start();
    await this.tick();
    this.timer = setInterval(
      () => {
        this.ticking ??= this.tick().finally(() => {
          this.ticking = undefined;
        });
      },
      Math.max(50, Math.floor(this.o.leaseTtlMs / 5)),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    await Promise.all(this.owned.map((partition) => this.drop(partition, "released")));
    await this.membership.stop().catch(() => undefined);
  }

  private leaseKey(partition: number): string {
    return this.o.keyspace.key("eventsLease", { partition, role: this.o.group });
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const ttl = this.o.leaseTtlMs;
    for (const [partition, held] of this.held) {
      if (!held.dropping && performance.now() - held.renewedAt > ttl / 2) void this.drop(partition, "self_fenced");
    }
    await Promise.all(
      [...this.held].map(async ([partition, held]) => {
        // A partition being handed on stays renewed until its event in hand is done and the lease released.
        if (performance.now() - held.renewedAt < ttl / 3) return;
        const sent = performance.now();
        try {
          const renewed = await lua.leaseRenew(this.o.client, {
            lease: this.leaseKey(partition),
            owner: held.owner,
            ttlMs: ttl,
          });
          if (renewed === 1) held.renewedAt = sent;
          else void this.drop(partition, "lost");
        } catch (error) {
          this.o.logger.warn({ event: "controller.lease_renew_failed", partition, err: (error as Error).message });
        }
      }),
    );
    let live: string[];
    try {
      live = await this.membership.liveMembers(this.role);
    } catch (error) {
      this.o.logger.warn({ event: "controller.members_failed", err: (error as Error).message });
      return;
    }
    if (!live.includes(this.o.consumer)) live.push(this.o.consumer);
    live.sort();
    const count = this.o.keyspace.partitionCount("eventsLease");
    const acquisitions: Promise<void>[] = [];
    for (let partition = 0; partition < count && !this.stopped; partition++) {
      const mine = live[partition % live.length] === this.o.consumer;
      const held = this.held.get(partition);
      if (held && !mine && !held.dropping) void this.drop(partition, "released");
      if (!held && mine) acquisitions.push(this.acquire(partition));
    }
    await Promise.all(acquisitions);
  }

  private async acquire(partition: number): Promise<void> {
    const owner = `${this.o.consumer}:${randomBytes(6).toString("hex")}`;
    const sent = performance.now();
    try {
      const reply = await lua.leaseAcquire(this.o.client, {
        lease: this.leaseKey(partition),
        owner,
        ttlMs: this.o.leaseTtlMs,
      });
      if (reply[0] !== "OK" || this.stopped || this.held.has(partition)) return;
    } catch (error) {
      this.o.logger.warn({ event: "controller.lease_acquire_failed", partition, err: (error as Error).message });
      return;
    }
    const held: Held = { owner, renewedAt: sent, dropping: false, starting: Promise.resolve() };
    this.held.set(partition, held);
    this.o.logger.info({ event: "controller.partition_acquired", partition }, `owning events partition ${partition}`);
    held.starting = this.o.acquired(partition).catch((error: Error) => {
      this.o.logger.error({ event: "controller.partition_start_failed", partition, err: error.message });
      void this.drop(partition, "released");
    });
  }

  private async drop(partition: number, why: "released" | "lost" | "self_fenced"): Promise<void> {
    const held = this.held.get(partition);
    if (!held || held.dropping) return;
    held.dropping = true;
    try {
      await this.o.released(partition);
      await held.starting;
      await lua
        .leaseRelease(this.o.client, { lease: this.leaseKey(partition), owner: held.owner })
        .catch(() => undefined);
    } finally {
      if (this.held.get(partition) === held) this.held.delete(partition);
      this.o.logger.info({ event: `controller.partition_${why}`, partition }, `events partition ${partition} ${why}`);
    }
  }
}
