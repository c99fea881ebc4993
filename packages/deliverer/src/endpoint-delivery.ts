import type { OutboundJob } from "@acapy-bridge/protocol";
import { KeyedSemaphore, Semaphore } from "./concurrency-limit.js";
import type { DelivererConfig } from "./deliverer-options.js";
import { type AttemptOutcome, checkEndpoint, type EndpointKind } from "./failure-policy.js";
import { HttpDelivery } from "./http-delivery.js";
import { WebSocketDelivery } from "./websocket-delivery.js";

/** An endpoint checked and split once, reused for every job to it. */
type ResolvedEndpoint =
  | { ok: true; url: URL; kind: EndpointKind; origin: string; path: string }
  | { ok: false; outcome: AttemptOutcome };

/** Distinct endpoints remembered; past this the memory starts afresh (endpoints repeat, so it refills at once). */
const ENDPOINTS_REMEMBERED = 10_000;

/**
 * One delivery attempt of a job to its endpoint: checks the URL, waits for a
 * slot of the endpoint (so a slow endpoint cannot take every slot), then for a
 * global slot, then sends over HTTP(S) or WebSocket.
 */
export class EndpointDelivery {
  private readonly http: HttpDelivery;
  private readonly ws: WebSocketDelivery;
  private readonly global: Semaphore;
  private readonly perEndpoint: KeyedSemaphore;
  /** Parsing a URL costs about as much as the rest of a job's bookkeeping; most jobs go to few endpoints. */
  private readonly endpoints = new Map<string, ResolvedEndpoint>();

  constructor(config: DelivererConfig) {
    this.http = new HttpDelivery({
      connectTimeoutMs: config.connectTimeoutMs,
      totalTimeoutMs: config.totalTimeoutMs,
      connectionsPerOrigin: config.endpointConcurrency,
    });
    this.ws = new WebSocketDelivery({
      connectTimeoutMs: config.connectTimeoutMs,
      totalTimeoutMs: config.totalTimeoutMs,
      idleMs: config.wsIdleMs,
    });
    this.global = new Semaphore(config.concurrency);
    this.perEndpoint = new KeyedSemaphore(config.endpointConcurrency);
  }

  get inFlight(): number {
    return this.global.inUse;
  }

  async deliver(job: OutboundJob): Promise<AttemptOutcome> {
    const endpoint = this.resolve(job.endpoint);
    if (!endpoint.ok) return endpoint.outcome;
    // Free slots are taken without an await: most of the time there is one.
    const releaseEndpoint =
      this.perEndpoint.tryAcquire(endpoint.origin) ?? (await this.perEndpoint.acquire(endpoint.origin));
    const releaseGlobal = this.global.tryAcquire() ?? (await this.global.acquire());
    try {
      if (endpoint.kind === "ws") return await this.ws.send(endpoint.url, job.contentType, job.body);
      return await this.http.post({
        origin: endpoint.origin,
        path: endpoint.path,
        contentType: job.contentType,
        body: job.body,
        headers: job.headers,
      });
    } finally {
      releaseGlobal();
      releaseEndpoint();
    }
  }

  private resolve(raw: string): ResolvedEndpoint {
    const known = this.endpoints.get(raw);
    if (known) return known;
    const check = checkEndpoint(raw);
    const resolved: ResolvedEndpoint = check.ok
      ? {
          ok: true,
          url: check.url,
          kind: check.kind,
          origin: `${check.url.protocol}//${check.url.host}`,
          path: `${check.url.pathname}${check.url.search}`,
        }
      : { ok: false, outcome: { ok: false, retryable: false, reason: check.reason, detail: check.detail } };
    if (this.endpoints.size >= ENDPOINTS_REMEMBERED) this.endpoints.clear();
    this.endpoints.set(raw, resolved);
    return resolved;
  }

  async close(): Promise<void> {
    await Promise.all([this.http.close(), this.ws.close()]);
  }
}
