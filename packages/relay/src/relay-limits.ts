import { BodyByteBudget } from "./body-byte-budget.js";
import { clientKey } from "./client-address.js";
import { ClientRateLimiter, type RateDecision } from "./client-rate-limiter.js";
import { ConnectionLimits, type ConnectionRefusal } from "./connection-limits.js";
import type { RelayConfig } from "./relay-options.js";

/** What the DIDComm listeners hold against hostile clients: connections, request rate, body bytes. */
export class RelayLimits {
  readonly connections: ConnectionLimits;
  readonly bodies: BodyByteBudget;
  private readonly rate: ClientRateLimiter;
  private readonly exemptClients: ReadonlySet<string>;

  constructor(
    config: Pick<
      RelayConfig,
      | "maxConnectionsPerClient"
      | "rateLimitPerSecond"
      | "rateLimitBurst"
      | "rateLimitTrackedClients"
      | "limitExemptAddresses"
      | "maxBodyBytesInFlight"
      | "maxBodyBytesInFlightPerClient"
    >,
    /** `max-connections` after `effectiveMaxConnections`. */
    maxConnections: number,
    onConnectionRefused: (reason: ConnectionRefusal, client: string) => void,
  ) {
    this.exemptClients = new Set(config.limitExemptAddresses.map(clientKey));
    this.connections = new ConnectionLimits(
      { maxConnections, maxConnectionsPerClient: config.maxConnectionsPerClient, exemptClients: this.exemptClients },
      onConnectionRefused,
    );
    this.rate = new ClientRateLimiter({
      perSecond: config.rateLimitPerSecond,
      burst: config.rateLimitBurst,
      maxTrackedClients: config.rateLimitTrackedClients,
    });
    this.bodies = new BodyByteBudget(config.maxBodyBytesInFlight, config.maxBodyBytesInFlightPerClient);
  }

  /** The client a remote address counts as for the per-client limits; undefined when it is exempt from them. */
  clientOf(remoteAddress: string): string | undefined {
    const client = clientKey(remoteAddress);
    return this.exemptClients.has(client) ? undefined : client;
  }

  /** One request (or WebSocket upgrade) from this client (`clientOf`) against its rate. */
  takeRequest(client: string | undefined): RateDecision {
    return client === undefined ? { allowed: true } : this.rate.take(client);
  }
}
