import { hostname } from "node:os";
import {
  AdminRequestSchema,
  type AdminResponse,
  AdminResponseSchema,
  DEFAULT_DEAD_AFTER_MS,
  decodeEnvelope,
  EnvelopeDecodeError,
  encodeEnvelope,
  type Keyspace,
  lua,
  newMessageId,
  type RedisClient,
} from "@acapy-bridge/protocol";
import { create } from "@bufbuild/protobuf";
import { AdminNoLiveInstanceError, AdminOutcomeUnknownError } from "./admin-errors.js";
import { forwardedRequestHeaders, type RequestHeaders } from "./forwarded-headers.js";

/** The members role of the shims that serve admin calls (they join it while they read). */
export const ADMIN_EXECUTOR_ROLE = "admin-executor";

export const DEFAULT_ADMIN_TIMEOUT_MS = 30_000;

/** One call of ACA-Py's admin API. */
export interface AdminCall {
  method: string;
  /** Path and query, e.g. "/connections?state=active". */
  path: string;
  /** The caller's headers; those that matter to ACA-Py (x-api-key, authorization, content-type) go along. */
  headers?: RequestHeaders;
  body?: Uint8Array;
  /** Overrides the client's timeout for this call. */
  timeoutMs?: number;
}

/** ACA-Py's answer, as its admin server would have sent it. */
export interface AdminAnswer {
  status: number;
  /** In order; a name may occur more than once (Set-Cookie). */
  headers: Array<[string, string]>;
  body: Buffer;
  /** The ACA-Py instance (its shim's admin executor id) that ran the call. */
  instanceId: string;
}

export interface RedisAdminClientOptions {
  /** A `commands` connection; the client opens its own blocking connection from it for the answers. */
  client: RedisClient;
  keyspace: Keyspace;
  /** Where answers come back (`admin_replies`); unique per process. Default: `controller-<host>-<pid>-<random>`. */
  requesterId?: string;
  /** How long a call waits for its answer. Default 30 s. */
  timeoutMs?: number;
  /** How long a "some instance is alive" answer is reused. Default 1 s. */
  livenessCacheMs?: number;
  now?: () => number;
}

interface Waiting {
  resolve(answer: AdminAnswer): void;
  reject(error: Error): void;
}

/** Answers are read with BLPOP for this long at a time (s), so that `close` never waits longer. */
const ANSWER_WAIT_S = 1;

/**
 * Calls ACA-Py's admin API through Redis: the call goes to an admin partition, any live ACA-Py
 * instance whose shim serves admin calls runs it through ACA-Py's own admin application, and the
 * answer comes back on this client's `admin_replies` list. At most once: a call runs on one
 * instance or none, and never after this client stopped waiting (docs/admin-api.md).
 *
 * Errors: `AdminNoLiveInstanceError` (503, not executed), `AdminOutcomeUnknownError` (504);
 * anything else is a Redis failure while queueing the call (it may have been queued).
 */
export class RedisAdminClient {
  readonly requesterId: string;
  readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly livenessCacheMs: number;
  private readonly waiting = new Map<string, Waiting>();
  private readonly answers: RedisClient;
  private readonly repliesKey: string;
  private aliveUntil = 0;
  private nextPartition = 0;
  private reading: Promise<void> | undefined;
  private closed = false;
  /** Answers that came after their call had given up (dropped). */
  lateAnswers = 0;

  constructor(private readonly options: RedisAdminClientOptions) {
    this.requesterId = options.requesterId ?? `controller-${hostname()}-${process.pid}-${newMessageId().slice(-6)}`;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_ADMIN_TIMEOUT_MS;
    this.livenessCacheMs = options.livenessCacheMs ?? 1000;
    this.now = options.now ?? Date.now;
    this.repliesKey = options.keyspace.key("adminReplies", { requester: this.requesterId });
    // Same server(s) and options (a Cluster duplicates as a Cluster); its own socket, as BLPOP blocks it.
    this.answers = (options.client as { duplicate(): RedisClient }).duplicate();
  }

  /** Sends one call and resolves with ACA-Py's answer, whatever its status. */
  async request(call: AdminCall): Promise<AdminAnswer> {
    if (this.closed) throw new Error("RedisAdminClient is closed");
    const method = call.method.toUpperCase();
    const alive = await this.someInstanceIsAlive().catch(() => {
      throw new AdminNoLiveInstanceError("redis-unreachable", method, pathOnly(call.path));
    });
    if (!alive) throw new AdminNoLiveInstanceError("no-live-instance", method, pathOnly(call.path));
    this.reading ??= this.readAnswers();
    const { client, keyspace } = this.options;
    const timeoutMs = call.timeoutMs ?? this.timeoutMs;
    const mid = newMessageId();
    const partition = this.nextPartition++ % keyspace.partitionCount("adminRequests");
    const stream = keyspace.key("adminRequests", { partition });
    const spec = keyspace.spec("adminRequests");
    const envelope = create(AdminRequestSchema, {
      mid,
      method,
      path: call.path,
      headers: forwardedRequestHeaders(call.headers ?? {}),
      body: call.body ?? new Uint8Array(),
      replyTo: this.requesterId,
      requestId: mid,
      expiresAtMs: BigInt(this.now() + timeoutMs),
    });
    // Registered before the entry exists: a fast instance may answer before XADD returns.
    const answered = new Promise<AdminAnswer>((resolve, reject) => this.waiting.set(mid, { resolve, reject }));
    let entryId: string;
    try {
      entryId = (await client.xadd(
        stream,
        "MAXLEN",
        "~",
        String(spec.maxLength),
        "*",
        spec.entryField,
        Buffer.from(encodeEnvelope(AdminRequestSchema, envelope)),
      )) as string;
    } catch (error) {
      this.waiting.delete(mid);
      throw error;
    }
    const timer = setTimeout(() => {
      this.giveUp(mid, partition, stream, entryId, method, call.path, timeoutMs);
    }, timeoutMs);
    try {
      return await answered;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops reading answers; calls still waiting fail with their timeout as usual. */
  async close(): Promise<void> {
    this.closed = true;
    this.answers.disconnect();
    await this.reading?.catch(() => undefined);
  }

  private async someInstanceIsAlive(): Promise<boolean> {
    const now = this.now();
    if (now < this.aliveUntil) return true;
    const { client, keyspace } = this.options;
    const live = await client.zcount(
      keyspace.key("members", { role: ADMIN_EXECUTOR_ROLE }),
      now - DEFAULT_DEAD_AFTER_MS,
      "+inf",
    );
    // Only "alive" is reused: an instance that starts is used at once.
    if (live > 0) this.aliveUntil = now + this.livenessCacheMs;
    return live > 0;
  }

  /** The timeout: withdraw the call. A won withdrawal means it never ran (503); a lost one, that it ran or runs (504). */
  private giveUp(
    mid: string,
    partition: number,
    stream: string,
    entryId: string,
    method: string,
    path: string,
    timeoutMs: number,
  ): void {
    const { client, keyspace } = this.options;
    const claim = keyspace.key("adminClaims", { partition, mid });
    const ttlMs = keyspace.spec("adminClaims").defaultTtlMs;
    void lua
      .adminClaim(client, { stream, claim, entryId, claimant: "withdraw", ttlMs })
      .then(
        (won) =>
          won === 1
            ? new AdminNoLiveInstanceError("not-taken-in-time", method, pathOnly(path))
            : new AdminOutcomeUnknownError(method, pathOnly(path), timeoutMs),
        () => new AdminOutcomeUnknownError(method, pathOnly(path), timeoutMs),
      )
      .then((error) => {
        // The answer may have come while the withdrawal ran: then it wins.
        const waiting = this.waiting.get(mid);
        if (!waiting) return;
        this.waiting.delete(mid);
        waiting.reject(error);
      });
  }

  private async readAnswers(): Promise<void> {
    while (!this.closed) {
      let popped: [Buffer, Buffer] | null;
      try {
        popped = (await this.answers.blpopBuffer(this.repliesKey, ANSWER_WAIT_S)) as [Buffer, Buffer] | null;
      } catch {
        if (this.closed) return;
        await new Promise((resolve) => setTimeout(resolve, 200));
        continue;
      }
      if (popped) this.settle(popped[1]);
    }
  }

  private settle(bytes: Buffer): void {
    let response: AdminResponse;
    try {
      response = decodeEnvelope(AdminResponseSchema, bytes);
    } catch (error) {
      if (error instanceof EnvelopeDecodeError) return;
      throw error;
    }
    const waiting = this.waiting.get(response.requestId);
    if (!waiting) {
      this.lateAnswers += 1;
      return;
    }
    this.waiting.delete(response.requestId);
    waiting.resolve({
      status: response.status,
      headers: response.headers.map((h) => [h.name, h.value]),
      body: Buffer.from(response.body.buffer, response.body.byteOffset, response.body.byteLength),
      instanceId: response.instanceId,
    });
  }
}

/** The path without its query (queries may carry secrets; errors and logs name the path only). */
function pathOnly(path: string): string {
  const query = path.indexOf("?");
  return query < 0 ? path : path.slice(0, query);
}
