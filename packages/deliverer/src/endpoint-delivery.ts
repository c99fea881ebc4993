import { JobKind, type OutboundJob } from "@acapy-bridge/protocol";
import { KeyedSemaphore, Semaphore } from "./concurrency-limit.js";
import type { DelivererConfig } from "./deliverer-options.js";
import { type AttemptOutcome, checkEndpoint, type EndpointKind, targetRefused } from "./failure-policy.js";
import { HttpDelivery } from "./http-delivery.js";
import type { PushDelivery } from "./push-delivery.js";
import { type FilteringLookup, TargetPolicy } from "./target-policy.js";
import { WebSocketDelivery } from "./websocket-delivery.js";

/**
 * An endpoint checked and split once, reused for every job to it; `refused` when its host is an
 * IP literal the target policy refuses (a host name is checked when a connection resolves it).
 */
type OpenEndpoint = {
  ok: true;
  url: URL;
  kind: EndpointKind;
  origin: string;
  path: string;
  refused: AttemptOutcome | undefined;
};
type ResolvedEndpoint = OpenEndpoint | { ok: false; outcome: AttemptOutcome };

/** Distinct endpoints remembered; past this the memory starts afresh (endpoints repeat, so it refills at once). */
const ENDPOINTS_REMEMBERED = 10_000;

/** HTTP(S) and WebSocket connections, opened through one `lookup`. */
class Transports {
  readonly http: HttpDelivery;
  readonly ws: WebSocketDelivery;

  constructor(config: DelivererConfig, lookup: FilteringLookup | undefined) {
    this.http = new HttpDelivery({
      connectTimeoutMs: config.connectTimeoutMs,
      totalTimeoutMs: config.totalTimeoutMs,
      connectionsPerOrigin: config.endpointConcurrency,
      lookup,
    });
    this.ws = new WebSocketDelivery({
      connectTimeoutMs: config.connectTimeoutMs,
      totalTimeoutMs: config.totalTimeoutMs,
      idleMs: config.wsIdleMs,
      lookup,
    });
  }

  async close(): Promise<void> {
    await Promise.all([this.http.close(), this.ws.close()]);
  }
}

/**
 * One delivery attempt of a job to its endpoint: checks the URL, waits for a
 * slot of the endpoint (so a slow endpoint cannot take every slot), then for a
 * global slot, then sends over HTTP(S) or WebSocket.
 *
 * Agents' endpoints go through the target policy (remote agents choose them);
 * webhook URLs do not: they come from the operator's own ACA-Py configuration
 * (`--webhook-url`, a wallet's `webhook_urls` set through the base wallet's
 * admin API), and a controller beside ACA-Py on loopback or the private network
 * is their usual place.
 */
export class EndpointDelivery {
  private readonly policy: TargetPolicy;
  /** Agents' endpoints: connections only to addresses the policy allows. */
  private readonly agents: Transports;
  /** The operator's webhook URLs, opened on first use. */
  private webhooks: Transports | undefined;
  private readonly global: Semaphore;
  private readonly perEndpoint: KeyedSemaphore;
  /** Parsing a URL costs about as much as the rest of a job's bookkeeping; most jobs go to few endpoints. */
  private readonly endpoints = new Map<string, ResolvedEndpoint>();

  constructor(
    private readonly config: DelivererConfig,
    /** Push notification jobs (JobKind.PUSH); without it they are dead-lettered UNSUPPORTED_SCHEME. */
    private readonly push?: PushDelivery,
  ) {
    this.policy = TargetPolicy.allowing(config.outboundAllowCidrs);
    this.agents = new Transports(config, this.policy.lookup);
    this.global = new Semaphore(config.concurrency);
    this.perEndpoint = new KeyedSemaphore(config.endpointConcurrency);
  }

  get inFlight(): number {
    return this.global.inUse;
  }

  deliver(job: OutboundJob): Promise<AttemptOutcome> {
    if (job.kind === JobKind.PUSH && this.push) return this.pushWithSlot(this.push, job);
    const endpoint = this.resolve(job.endpoint);
    if (!endpoint.ok) return Promise.resolve(endpoint.outcome);
    const webhook = job.kind === JobKind.WEBHOOK;
    if (endpoint.refused && !webhook) return Promise.resolve(endpoint.refused);
    // Free slots are taken without waiting (most of the time there is one): no promise but the send's.
    if (this.perEndpoint.tryTake(endpoint.origin)) {
      if (this.global.tryTake()) return this.send(endpoint, job);
      return this.global.take().then(() => this.send(endpoint, job));
    }
    return this.perEndpoint
      .take(endpoint.origin)
      .then(() => this.global.take())
      .then(() => this.send(endpoint, job));
  }

  /** A push notification holds a global slot (the push service's own connection limits the rest). */
  private async pushWithSlot(push: PushDelivery, job: OutboundJob): Promise<AttemptOutcome> {
    if (!this.global.tryTake()) await this.global.take();
    try {
      return await push.deliver(job);
    } finally {
      this.global.release();
    }
  }

  /** Sends while holding both slots, and releases them with the outcome. */
  private send(endpoint: OpenEndpoint, job: OutboundJob): Promise<AttemptOutcome> {
    let sending: Promise<AttemptOutcome>;
    try {
      const transports = job.kind === JobKind.WEBHOOK ? this.webhookTransports() : this.agents;
      sending =
        endpoint.kind === "ws"
          ? transports.ws.send(endpoint.url, job.contentType, job.body)
          : transports.http.post({
              origin: endpoint.origin,
              path: endpoint.path,
              contentType: job.contentType,
              body: job.body,
              headers: job.headers,
            });
    } catch (error) {
      sending = Promise.reject(error);
    }
    return sending.then(
      (outcome) => {
        this.releaseSlots(endpoint.origin);
        return outcome;
      },
      (error: unknown) => {
        this.releaseSlots(endpoint.origin);
        throw error;
      },
    );
  }

  private webhookTransports(): Transports {
    this.webhooks ??= new Transports(this.config, undefined);
    return this.webhooks;
  }

  private releaseSlots(origin: string): void {
    this.global.release();
    this.perEndpoint.release(origin);
  }

  private resolve(raw: string): ResolvedEndpoint {
    const known = this.endpoints.get(raw);
    if (known) return known;
    const check = checkEndpoint(raw);
    const refusal = check.ok ? this.policy.refusalOfHost(check.url.hostname) : undefined;
    const resolved: ResolvedEndpoint = check.ok
      ? {
          ok: true,
          url: check.url,
          kind: check.kind,
          origin: `${check.url.protocol}//${check.url.host}`,
          path: `${check.url.pathname}${check.url.search}`,
          refused: refusal ? targetRefused(refusal) : undefined,
        }
      : { ok: false, outcome: { ok: false, retryable: false, reason: check.reason, detail: check.detail } };
    if (this.endpoints.size >= ENDPOINTS_REMEMBERED) this.endpoints.clear();
    this.endpoints.set(raw, resolved);
    return resolved;
  }

  async close(): Promise<void> {
    await Promise.all([this.agents.close(), this.webhooks?.close(), this.push?.close()]);
  }
}
