import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { hostname } from "node:os";
import { RedisAdminClient } from "@acapy-bridge/admin-requests";
import { type ProcessServices, type RunningPart, SampledLog } from "@acapy-bridge/operability";
import {
  type BridgeConnectionConfig,
  closeRedisClient,
  createRedisClient,
  ensureTopology,
  instanceInfo,
  Membership,
  type RedisClient,
  waitUntilReady,
} from "@acapy-bridge/protocol";
import { createAdminServer } from "./admin-listener.js";
import { createAdminMetrics } from "./admin-metrics.js";
import { effectiveMaxConnections, openFilesSoftLimit } from "./descriptor-limit.js";
import { createRequestHandler, onClientError } from "./http-ingress.js";
import { InboundWriter } from "./inbound-writer.js";
import { PendingReplies } from "./pending-replies.js";
import type { RelayContext } from "./relay-context.js";
import { RelayInbox } from "./relay-inbox.js";
import { RelayJanitor } from "./relay-janitor.js";
import { RelayLimits } from "./relay-limits.js";
import { createRelayMetrics } from "./relay-metrics.js";
import type { RelayConfig } from "./relay-options.js";
import { RelaySignals } from "./relay-signals.js";
import { ShimPresence } from "./shim-presence.js";
import { SocketRegistry } from "./socket-registry.js";
import { WalletPushes } from "./wallet-pushes.js";
import { WebSocketIngress } from "./websocket-ingress.js";

export interface RunningRelay extends RunningPart {
  relayId: string;
  httpAddress: AddressInfo;
  /** The separate WebSocket listener, when `wsPort` is set. */
  wsAddress: AddressInfo | undefined;
  /** The admin listener (ACA-Py's admin API through Redis), when `adminPort` is set. */
  adminAddress: AddressInfo | undefined;
  /** For the CLI's "ready" log line. */
  listeners: Record<string, string>;
}

async function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return server.address() as AddressInfo;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** How often Node looks for requests past their headers or request timeout (its default, 30 s, would let them run on that long). */
function timeoutCheckingIntervalMs(config: RelayConfig): number {
  return Math.min(1_000, Math.max(100, Math.floor(config.httpHeadersTimeoutMs / 4)));
}

/** A DIDComm listener with the relay's timeouts and connection limits (the ops listener is another server). */
function createDidcommServer(ctx: RelayContext, handler: RequestListener): Server {
  const { config } = ctx;
  const server = createServer(
    {
      headersTimeout: config.httpHeadersTimeoutMs,
      requestTimeout: config.httpRequestTimeoutMs,
      connectionsCheckingInterval: timeoutCheckingIntervalMs(config),
    },
    handler,
  );
  server.keepAliveTimeout = config.httpKeepAliveTimeoutMs;
  server.on("clientError", onClientError(ctx));
  ctx.limits.connections.guard(server);
  return server;
}

/**
 * Starts one relay: the DIDComm HTTP/WebSocket listener, the writer to the
 * inbound partitions and the reader of this relay's inbox. `stop()` stops
 * accepting, lets waiting requests get their answer (or time out), closes
 * sockets, then stops the inbox reader and marks itself dead in the membership
 * (the janitor hands on what is left in its inbox).
 */
export async function startRelay(
  config: RelayConfig,
  connection: BridgeConnectionConfig,
  services: ProcessServices,
): Promise<RunningRelay> {
  const relayId = services.instanceId;
  const logger = services.logger.child({ part: "relay" });
  const commands = createRedisClient({ ...connection.redis, connectionName: `${relayId}-relay` }, "commands");
  const blocking = createRedisClient({ ...connection.redis, connectionName: `${relayId}-relay-inbox` }, "blocking");
  const subscriber = createRedisClient({ ...connection.redis, connectionName: `${relayId}-relay-signals` }, "blocking");
  const clients: RedisClient[] = [commands, blocking, subscriber];
  let redisDown = false;
  commands.on("error", (error: Error) => {
    if (!redisDown) logger.warn({ event: "relay.redis_error", err: error.message }, "Redis connection error");
    redisDown = true;
  });
  commands.on("ready", () => {
    if (redisDown) logger.info({ event: "relay.redis_ready" }, "Redis connection restored");
    redisDown = false;
  });
  blocking.on("error", () => {}); // reported through the commands client and the inbox loop
  subscriber.on("error", () => {}); // reported through the commands client

  try {
    await waitUntilReady(commands, 30_000);
    const keyspace = await ensureTopology(commands, connection.prefix, connection.partitions);
    const pending = new PendingReplies();
    // The registry and the pushes need each other: the pushes send on sockets, and hear of their
    // confirmations and ends. `pushes` exists before any socket opens.
    const sockets = new SocketRegistry(
      { sendTimeoutMs: config.wsSendTimeoutMs, maxBufferedBytes: config.wsMaxBufferedBytes },
      {
        onGone: (id, socket) => pushes.onSocketGone(id, socket),
        onPushesConfirmed: (socket, confirmed) => pushes.onPushesConfirmed(socket, confirmed),
        onSlowConsumer: (id, reason, bufferedBytes) => {
          metrics.slowConsumers.inc({ reason });
          logger.warn(
            { event: "relay.ws_slow_consumer", socket: id, reason, bufferedBytes },
            reason === "send_timeout"
              ? `a send did not complete within ${config.wsSendTimeoutMs} ms; socket terminated`
              : `over ${config.wsMaxBufferedBytes} bytes waiting to be sent; socket terminated`,
          );
        },
      },
    );
    const writer = new InboundWriter(commands, keyspace, {
      limits: {
        highWaterMark: config.inboundHighWaterMark,
        highWaterBytes: config.inboundHighWaterBytes,
        recipientCap: config.inboundRecipientCap,
        recipientWindowMs: config.inboundRecipientWindowMs,
      },
      dedupWindowMs: config.dedupWindowMs,
    });
    const inboxKey = keyspace.key("relayInbox", { relay: relayId });
    const maxConnections = effectiveMaxConnections(config.maxConnections, openFilesSoftLimit());
    if (maxConnections !== config.maxConnections) {
      logger.warn(
        { event: "relay.max_connections_lowered", configured: config.maxConnections, effective: maxConnections },
        "max-connections lowered to leave descriptors for Redis and the ops listener under the open-files limit",
      );
    }
    const limits = new RelayLimits(config, maxConnections, (reason, client) => {
      metrics.connectionsRefused.inc({ reason });
      logger.debug({ event: "relay.connection_refused", reason, client }, "connection refused");
    });
    const metrics = createRelayMetrics(services.metrics, {
      openSockets: () => sockets.size,
      openConnections: () => limits.connections.openConnections,
      bodyBytesInFlight: () => limits.bodies.bytesInUse,
      framesInFlight: () => sockets.framesInFlight,
      pendingRequests: () => pending.size,
      liveShims: () => shims.liveCount,
      inboundBacklog: () => writer.backlog(),
      inboundDeadLetters: () =>
        Promise.all(keyspace.allPartitions("inboundDeadLetters").map((key) => commands.xlen(key))),
      inboxBacklog: () => commands.xlen(inboxKey),
      walletDeadLetters: () => commands.hgetall(keyspace.key("walletDeadLetterCounts")),
      walletCounts: () => commands.hgetall(keyspace.key("walletMailboxAndRouteCounts")),
    });
    const rejections = new SampledLog(logger);
    const shims = new ShimPresence(commands, keyspace);
    await shims.start();
    const ctx: RelayContext = {
      relayId,
      config,
      logger,
      rejections,
      metrics,
      writer,
      pending,
      sockets,
      limits,
      shims,
      draining: false,
    };

    const pushes = new WalletPushes(ctx, commands, keyspace);
    // Subscribed before the first request is taken: an answer published earlier would be lost.
    await new RelaySignals(ctx, subscriber, keyspace).start();
    const inbox = new RelayInbox(ctx, blocking, commands, keyspace, pushes);
    inbox.start();

    const ws = new WebSocketIngress(ctx);
    ws.start();
    const httpServer = createDidcommServer(ctx, createRequestHandler(ctx));
    httpServer.on("upgrade", ws.onUpgrade);
    const httpAddress = await listen(httpServer, config.httpPort, config.httpHost);
    let wsServer: Server | undefined;
    let wsAddress: AddressInfo | undefined;
    if (config.wsPort !== undefined) {
      wsServer = createDidcommServer(ctx, (_req, res) => {
        res.writeHead(426, { Upgrade: "websocket", "Content-Type": "text/plain" }).end("WebSocket only\n");
      });
      wsServer.on("upgrade", ws.onUpgrade);
      wsAddress = await listen(wsServer, config.wsPort, config.httpHost);
    }

    // ACA-Py's admin API through Redis: a listener of its own, normally on loopback or a private network.
    let adminServer: Server | undefined;
    let adminAddress: AddressInfo | undefined;
    let adminClient: RedisAdminClient | undefined;
    if (config.adminPort !== undefined) {
      adminClient = new RedisAdminClient({
        client: commands,
        keyspace,
        requesterId: relayId,
        timeoutMs: config.adminTimeoutMs,
      });
      adminServer = createAdminServer(
        adminClient,
        {
          maxBodyBytes: config.adminMaxBodyBytes,
          requestTimeoutMs: config.httpRequestTimeoutMs,
          retryAfterSeconds: config.retryAfterSeconds,
        },
        createAdminMetrics(services.metrics),
        logger,
      );
      adminAddress = await listen(adminServer, config.adminPort, config.adminHost);
    }

    const listeners: Record<string, string> = { http: `${httpAddress.address}:${httpAddress.port}` };
    if (wsAddress) listeners.ws = `${wsAddress.address}:${wsAddress.port}`;
    if (adminAddress) listeners.admin = `${adminAddress.address}:${adminAddress.port}`;
    const membership = new Membership({
      client: commands,
      keyspace,
      info: instanceInfo({
        instanceId: relayId,
        role: "relay",
        hostname: hostname(),
        pid: process.pid,
        startedAtMs: BigInt(Date.now()),
        listeners,
      }),
      onError: (error) => logger.debug({ event: "relay.heartbeat_failed", err: error.message }, "heartbeat failed"),
    });
    await membership.start();
    const janitor = new RelayJanitor(ctx, commands, keyspace, membership, pushes, inbox, config.janitorIntervalMs);
    janitor.start();
    services.health.addReadinessCheck({ name: "relay-redis", check: () => commands.status === "ready" });
    logger.info({ event: "relay.started", relayId, listeners, inbox: inboxKey }, "relay listening");

    let stopping: Promise<void> | undefined;
    const stop = async (): Promise<void> => {
      ctx.draining = true;
      logger.info({ event: "relay.stopping", waiting: pending.size, sockets: sockets.size }, "relay draining");
      // 1. Stop accepting: no new connections; idle keep-alive connections close.
      // Admin calls in flight get their answer (or their timeout) before the server closes.
      const closed = [httpServer, wsServer, adminServer].filter((s) => s !== undefined).map(closeServer);
      httpServer.closeIdleConnections();
      wsServer?.closeIdleConnections();
      adminServer?.closeIdleConnections();
      // 2. Requests in flight get their answer (or their timeout).
      await pending.drain();
      // 3. Sockets close with 1001 ("going away"); clients reconnect elsewhere.
      await ws.stop();
      await pushes.settle();
      await janitor.stop().catch(() => {});
      shims.stop();
      httpServer.closeAllConnections();
      wsServer?.closeAllConnections();
      await Promise.all(closed);
      await adminClient?.close();
      rejections.flush();
      // 4. Then the inbox reader, the heartbeat, Redis. Shims may still write replies and pushes to the
      // inbox after this, so the relay stays a member, marked dead, rather than leaving: another relay's
      // janitor (or the next relay to start) then hands on what is left in the inbox and retires it.
      // Draining it here instead would race those late writes, and a push re-routed to a wallet whose
      // route still names this relay would come straight back. Marked only once the reader stopped,
      // so that the janitor never handles an entry this relay is still handling; if Redis refuses the
      // mark, the heartbeat ages and the janitor takes the relay for crashed all the same.
      await inbox.stop();
      await membership.stopAsDead().catch(() => {});
      await Promise.all(clients.map((c) => closeRedisClient(c)));
      logger.info({ event: "relay.stopped" }, "relay stopped");
    };

    return {
      relayId,
      httpAddress,
      wsAddress,
      adminAddress,
      listeners,
      stop: () => {
        stopping ??= stop();
        return stopping;
      },
    };
  } catch (error) {
    await Promise.all(clients.map((c) => closeRedisClient(c)));
    throw error;
  }
}
