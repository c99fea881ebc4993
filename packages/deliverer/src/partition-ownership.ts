import { createHash, randomBytes } from "node:crypto";
import type { Logger } from "@acapy-bridge/operability";
import { type Keyspace, type LeaseAcquireReply, lua, type Membership, type RedisClient } from "@acapy-bridge/protocol";

/** What the owner of a partition runs while it holds the lease. */
export interface PartitionRun {
  stop(graceMs: number): Promise<void>;
}

export interface PartitionOwnershipOptions {
  client: RedisClient;
  keyspace: Keyspace;
  membership: Membership;
  role: string;
  instanceId: string;
  leaseTtlMs: number;
  /** How long a rebalanced partition waits for its deliveries in flight before the lease is given up. */
  handOffGraceMs: number;
  /** Starts delivering a partition under the lease `leaseValue`; `onFenced` is for scripts that found the lease gone. */
  start: (partition: number, leaseValue: string, onFenced: () => void) => Promise<PartitionRun>;
  logger: Logger;
  onEvent?: (event: "acquired" | "released" | "lost" | "self_fenced") => void;
}

interface Held {
  leaseValue: string;
  /** performance.now() when the last successful renewal (or the acquisition) was sent. */
  renewedAt: number;
  run: Promise<PartitionRun | undefined>;
  dropping: boolean;
}

/** Rendezvous (highest random weight) hashing: the live member with the highest weight owns the partition. */
export function rendezvousOwner(members: readonly string[], partition: number): string | undefined {
  let best: string | undefined;
  let bestWeight = -1;
  for (const member of members) {
    const weight = createHash("sha256").update(`${member}/${partition}`).digest().readUIntBE(0, 6);
    if (weight > bestWeight || (weight === bestWeight && best !== undefined && member < best)) {
      best = member;
      bestWeight = weight;
    }
  }
  return best;
}

/**
 * Which outbound partitions this deliverer delivers: each live deliverer
 * computes the same rendezvous assignment, takes the leases of its share
 * (SET-if-absent with a TTL, a fresh token each time), renews them every
 * third of the TTL, and stops a partition on its own (self-fence) when no
 * renewal succeeded for half the TTL, i.e. before anyone else can take it.
 * Partitions it no longer should own are stopped, then released at once.
 */
export class PartitionOwnership {
  private readonly held = new Map<number, Held>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;
  readonly partitions: number;

  constructor(private readonly o: PartitionOwnershipOptions) {
    this.partitions = o.keyspace.partitionCount("outboundLease");
  }

  get owned(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  private get tickMs(): number {
    return Math.max(50, Math.min(1_000, Math.floor(this.o.leaseTtlMs / 5)));
  }

  start(): void {
    this.timer = setInterval(() => {
      this.ticking ??= this.tick().finally(() => {
        this.ticking = undefined;
      });
    }, this.tickMs);
    this.ticking = this.tick().finally(() => {
      this.ticking = undefined;
    });
  }

  private leaseKey(partition: number): string {
    return this.o.keyspace.key("outboundLease", { partition });
  }

  /** One round: self-fence, renew, then rebalance against the live members. */
  async tick(): Promise<void> {
    if (this.stopped) return;
    const ttl = this.o.leaseTtlMs;
    const now = performance.now();
    for (const [partition, held] of this.held) {
      if (!held.dropping && now - held.renewedAt > ttl / 2) {
        this.o.logger.warn(
          { event: "deliverer.self_fence", partition, sinceRenewMs: Math.round(now - held.renewedAt) },
          "no lease renewal for half the TTL: stopping the partition",
        );
        void this.drop(partition, "self_fenced", false);
      }
    }
    await Promise.all(
      [...this.held].map(async ([partition, held]) => {
        if (held.dropping || performance.now() - held.renewedAt < ttl / 3) return;
        const sent = performance.now();
        try {
          const ok = await lua.leaseRenew(this.o.client, {
            lease: this.leaseKey(partition),
            owner: held.leaseValue,
            ttlMs: ttl,
          });
          if (ok === 1) held.renewedAt = sent;
          else void this.drop(partition, "lost", false);
        } catch (error) {
          this.o.logger.warn({ event: "deliverer.renew_failed", partition, err: (error as Error).message });
        }
      }),
    );
    let live: string[];
    try {
      live = await this.o.membership.liveMembers(this.o.role);
    } catch (error) {
      this.o.logger.warn({ event: "deliverer.members_failed", err: (error as Error).message });
      return;
    }
    if (!live.includes(this.o.instanceId)) live.push(this.o.instanceId);
    if (this.stopped) return;
    const acquisitions: Promise<void>[] = [];
    for (let partition = 0; partition < this.partitions; partition++) {
      const mine = rendezvousOwner(live, partition) === this.o.instanceId;
      const held = this.held.get(partition);
      if (held && !mine && !held.dropping) void this.drop(partition, "released", true);
      if (!held && mine) acquisitions.push(this.acquire(partition));
    }
    await Promise.all(acquisitions);
  }

  private async acquire(partition: number): Promise<void> {
    const leaseValue = `${this.o.instanceId}:${randomBytes(6).toString("hex")}`;
    const sent = performance.now();
    let reply: LeaseAcquireReply;
    try {
      reply = await lua.leaseAcquire(this.o.client, {
        lease: this.leaseKey(partition),
        owner: leaseValue,
        ttlMs: this.o.leaseTtlMs,
      });
    } catch (error) {
      this.o.logger.warn({ event: "deliverer.acquire_failed", partition, err: (error as Error).message });
      return;
    }
    if (reply[0] !== "OK" || this.stopped || this.held.has(partition)) return;
    const held: Held = { leaseValue, renewedAt: sent, run: Promise.resolve(undefined), dropping: false };
    this.held.set(partition, held);
    this.o.onEvent?.("acquired");
    this.o.logger.info({ event: "deliverer.lease_acquired", partition }, `owning outbound partition ${partition}`);
    held.run = this.o
      .start(partition, leaseValue, () => {
        if (this.held.get(partition) === held && !held.dropping) void this.drop(partition, "lost", false);
      })
      .catch((error) => {
        this.o.logger.error({ event: "deliverer.partition_start_failed", partition, err: (error as Error).message });
        if (this.held.get(partition) === held && !held.dropping) void this.drop(partition, "released", true);
        return undefined;
      });
  }

  /** Stops the partition's run, then (when still ours) releases the lease so the next owner need not wait. */
  private async drop(
    partition: number,
    why: "released" | "lost" | "self_fenced",
    release: boolean,
    graceMs = this.o.handOffGraceMs,
  ): Promise<void> {
    const held = this.held.get(partition);
    if (!held || held.dropping) return;
    held.dropping = true;
    try {
      const run = await held.run;
      await run?.stop(why === "released" ? graceMs : 0);
      if (release) {
        await lua
          .leaseRelease(this.o.client, { lease: this.leaseKey(partition), owner: held.leaseValue })
          .catch(() => undefined);
      }
    } finally {
      if (this.held.get(partition) === held) this.held.delete(partition);
      this.o.onEvent?.(why);
      this.o.logger.info({ event: `deliverer.lease_${why}`, partition }, `outbound partition ${partition} ${why}`);
    }
  }

  /** Stops every partition (deliveries in flight get `graceMs`) and releases the leases. */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    await Promise.all([...this.held.keys()].map((p) => this.drop(p, "released", true, graceMs)));
  }
}
