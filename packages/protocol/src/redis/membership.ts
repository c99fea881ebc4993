import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { decodeEnvelope, encodeEnvelope } from "../contract/envelope-codec.js";
import type { Keyspace } from "../contract/keyspace.js";
import { type InstanceInfo, InstanceInfoSchema } from "../gen/acapy_bridge/v1/envelopes_pb.js";
import { Liveness } from "../gen/acapy_bridge/v1/keyspace_pb.js";
import type { RedisClient } from "./connection.js";

export interface MembershipOptions {
  client: RedisClient;
  keyspace: Keyspace;
  info: InstanceInfo;
  heartbeatMs?: number;
  /** An instance whose last heartbeat is older than this is dead. */
  deadAfterMs?: number;
  onError?: (error: Error) => void;
}

export const DEFAULT_HEARTBEAT_MS: number = Liveness.HEARTBEAT_MS;
export const DEFAULT_DEAD_AFTER_MS: number = Liveness.DEAD_AFTER_MS;

/**
 * Liveness by heartbeat: every instance refreshes its score in its role's
 * members zset. Nobody scans keys to find out who is alive.
 */
export class Membership {
  private timer: NodeJS.Timeout | undefined;
  private lastBeatOk = 0;
  readonly heartbeatMs: number;
  readonly deadAfterMs: number;

  constructor(private readonly options: MembershipOptions) {
    this.heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    this.deadAfterMs = options.deadAfterMs ?? DEFAULT_DEAD_AFTER_MS;
  }

  get instanceId(): string {
    return this.options.info.instanceId;
  }

  /** Time of the last heartbeat Redis accepted (0 = never). */
  get lastHeartbeatAt(): number {
    return this.lastBeatOk;
  }

  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => {
      this.beat().catch((error: Error) => this.options.onError?.(error));
    }, this.heartbeatMs);
    this.timer.unref();
  }

  async beat(now: number = Date.now()): Promise<void> {
    const { client, keyspace, info } = this.options;
    await client
      .multi()
      .zadd(keyspace.key("members", { role: info.role }), now, info.instanceId)
      .set(
        keyspace.key("instance", { instance: info.instanceId }),
        Buffer.from(encodeEnvelope(InstanceInfoSchema, info)),
        "PX",
        keyspace.spec("instance").defaultTtlMs,
      )
      .exec();
    this.lastBeatOk = now;
  }

  /** Leaves the membership at once, so others need not wait for the heartbeat to age. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const { client, keyspace, info } = this.options;
    await client
      .multi()
      .zrem(keyspace.key("members", { role: info.role }), info.instanceId)
      .del(keyspace.key("instance", { instance: info.instanceId }))
      .exec();
  }

  /**
   * Stops the heartbeat and stays a member, marked dead at once (a heartbeat at time 0), instead of
   * leaving: what the instance leaves behind in Redis (a relay's inbox) is handed on by whoever
   * recovers dead members, and they forget the member after. A member that just left is never
   * recovered, and whatever was written for it after it stopped would stay there for good.
   */
  async stopAsDead(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const { client, keyspace, info } = this.options;
    await client
      .multi()
      .zadd(keyspace.key("members", { role: info.role }), 0, info.instanceId)
      .del(keyspace.key("instance", { instance: info.instanceId }))
      .exec();
  }

  async liveMembers(role: string, now: number = Date.now()): Promise<string[]> {
    return this.options.client.zrangebyscore(
      this.options.keyspace.key("members", { role }),
      now - this.deadAfterMs,
      "+inf",
    );
  }

  async deadMembers(role: string, now: number = Date.now()): Promise<string[]> {
    return this.options.client.zrangebyscore(
      this.options.keyspace.key("members", { role }),
      "-inf",
      `(${now - this.deadAfterMs}`,
    );
  }
}

/** Reads the details an instance published with its heartbeat. */
export async function readInstanceInfo(
  client: RedisClient,
  keyspace: Keyspace,
  instanceId: string,
): Promise<InstanceInfo | undefined> {
  const bytes = await client.getBuffer(keyspace.key("instance", { instance: instanceId }));
  return bytes ? decodeEnvelope(InstanceInfoSchema, bytes) : undefined;
}

export function instanceInfo(
  fields: MessageInitShape<typeof InstanceInfoSchema> & Pick<InstanceInfo, "instanceId" | "role">,
): InstanceInfo {
  return create(InstanceInfoSchema, fields);
}
