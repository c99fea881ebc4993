import { Cluster, type ClusterOptions, Redis, type RedisOptions } from "ioredis";

/** How to reach Redis: one standalone server or a Cluster, optionally TLS and ACL. */
export interface RedisConnectionConfig {
  /**
   * `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS. For a
   * Cluster, one or more seed URLs separated by commas.
   */
  url: string;
  cluster: boolean;
  /** ACL user and password; override what the URL carries (read them from secrets, not flags). */
  username?: string | undefined;
  password?: string | undefined;
  /** PEM contents for TLS; the system CAs are used when `ca` is absent. */
  tls?: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer } | undefined;
  /** Name shown by CLIENT LIST, e.g. "relay-<instance>". */
  connectionName?: string | undefined;
}

/**
 * What a connection is for:
 * - `commands`: fails fast when Redis is away (a producer answers 503 instead of queueing in memory);
 * - `blocking`: one blocking read loop; retries forever, with a client-side timeout above BLOCK.
 */
export type ConnectionPurpose = "commands" | "blocking";

export type RedisClient = Redis | Cluster;

interface ParsedSeed {
  host: string;
  port: number;
  tls: boolean;
  username: string | undefined;
  password: string | undefined;
  db: number;
}

export class RedisConfigError extends Error {
  override name = "RedisConfigError";
}

function parseSeed(raw: string): ParsedSeed {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new RedisConfigError(`invalid Redis URL "${redactUrl(raw)}"`);
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new RedisConfigError(`Redis URL must start with redis:// or rediss://, got "${url.protocol}//"`);
  }
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) {
    throw new RedisConfigError(`invalid Redis database "${url.pathname.slice(1)}"`);
  }
  return {
    host: url.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1",
    port: url.port ? Number(url.port) : 6379,
    tls: url.protocol === "rediss:",
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db,
  };
}

/** What is wrong with a `redis://` / `rediss://` URL (or comma-separated seeds), or undefined when it is usable. */
export function redisUrlProblem(raw: string): string | undefined {
  try {
    for (const seed of raw.split(",")) parseSeed(seed);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** A URL safe to log: the password is replaced. */
export function redactUrl(raw: string): string {
  return raw.replace(/(\/\/[^:/@]*:)[^@]*@/g, "$1***@");
}

/**
 * How long past its BLOCK time (or, unblocked, at all) a read on a blocking
 * connection may take before the client gives up on it as stuck. Generous on
 * purpose: ioredis discards a reply that arrives after it gave up, although Redis
 * has made that reply's entries pending, so giving up must stay rare and is
 * reported as an error (see `readGroup`), never as "no entries".
 */
export const BLOCKED_READ_PATIENCE_MS = 5_000;

function purposeOptions(purpose: ConnectionPurpose): Partial<RedisOptions> {
  return purpose === "commands"
    ? { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 5000 }
    : {
        enableOfflineQueue: true,
        maxRetriesPerRequest: null,
        blockingTimeout: BLOCKED_READ_PATIENCE_MS,
        blockingTimeoutGrace: BLOCKED_READ_PATIENCE_MS,
        // A blocking XREADGROUP whose reply was lost in a reconnect must fail, not be
        // resent: the resent read skips the entries the lost one made pending, so the
        // reader has to re-read its own pending entries (GroupReader does on error).
        autoResendUnfulfilledCommands: false,
      };
}

/** Opens a client; call `waitUntilReady` before relying on a `commands` client. */
export function createRedisClient(config: RedisConnectionConfig, purpose: ConnectionPurpose): RedisClient {
  const seeds = config.url.split(",").map(parseSeed);
  const first = seeds[0];
  if (!first) throw new RedisConfigError("no Redis URL given");
  if (!config.cluster && seeds.length > 1) {
    throw new RedisConfigError("several Redis URLs are only valid with cluster mode");
  }
  const useTls = seeds.some((s) => s.tls);
  const tls = useTls ? { ...(config.tls ?? {}) } : undefined;
  const base: RedisOptions = {
    username: config.username ?? first.username,
    password: config.password ?? first.password,
    connectionName: config.connectionName,
    lazyConnect: false,
    // Keep reconnecting with a bounded backoff; the loops above decide what to tell clients.
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    ...purposeOptions(purpose),
    ...(tls ? { tls } : {}),
  };
  if (!config.cluster) {
    return new Redis({ ...base, host: first.host, port: first.port, db: first.db });
  }
  const clusterOptions: ClusterOptions = {
    redisOptions: base,
    enableOfflineQueue: base.enableOfflineQueue ?? true,
    clusterRetryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
    slotsRefreshTimeout: 2000,
  };
  return new Cluster(
    seeds.map((s) => ({ host: s.host, port: s.port })),
    clusterOptions,
  );
}

/** Resolves once the client can take commands, or rejects after `timeoutMs`. */
export function waitUntilReady(client: RedisClient, timeoutMs = 10_000): Promise<void> {
  if (client.status === "ready") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis not ready after ${timeoutMs} ms (status ${client.status})`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      client.off("ready", onReady);
    };
    client.on("ready", onReady);
  });
}

/** Closes a client, waiting for replies already on the wire. */
export async function closeRedisClient(client: RedisClient): Promise<void> {
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}
