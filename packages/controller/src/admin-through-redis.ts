import { RedisAdminClient } from "@acapy-bridge/admin-requests";
import { closeRedisClient, createRedisClient, type RedisClient, waitUntilReady } from "@acapy-bridge/protocol";
import type { AdminClient, AdminRequest, AdminResponse } from "./admin-client.js";
import { readDeploymentKeyspace } from "./deployment-keyspace.js";

export interface AdminThroughRedisOptions {
  redis: Parameters<typeof createRedisClient>[0];
  prefix: string;
  /** How long a call waits for its answer before the outcome is unknown (504). Default 30 s. */
  timeoutMs?: number;
}

/**
 * `AdminClient` with Redis as the only connection to ACA-Py (the seed's optimization: no relay, no
 * HTTP): each call goes into the admin partitions and is run at most once by any live ACA-Py
 * instance (docs/admin-api.md). No live instance: `AdminNoLiveInstanceError` (503) at once; no
 * answer in time: `AdminOutcomeUnknownError` (504), and the call is never run later.
 */
export class AdminThroughRedis implements AdminClient {
  private constructor(
    private readonly client: RedisClient,
    private readonly calls: RedisAdminClient,
  ) {}

  static async connect(options: AdminThroughRedisOptions): Promise<AdminThroughRedis> {
    const client = createRedisClient({ ...options.redis, connectionName: "controller-admin" }, "commands");
    try {
      await waitUntilReady(client);
      const keyspace = await readDeploymentKeyspace(client, options.prefix);
      return new AdminThroughRedis(client, new RedisAdminClient({ client, keyspace, timeoutMs: options.timeoutMs }));
    } catch (error) {
      await closeRedisClient(client);
      throw error;
    }
  }

  async request(request: AdminRequest): Promise<AdminResponse> {
    const body = typeof request.body === "string" ? Buffer.from(request.body) : request.body;
    const answer = await this.calls.request({
      method: request.method,
      path: request.path,
      headers: request.headers,
      body,
    });
    return { status: answer.status, headers: Object.fromEntries(answer.headers), body: answer.body };
  }

  async close(): Promise<void> {
    await this.calls.close();
    await closeRedisClient(this.client);
  }
}
