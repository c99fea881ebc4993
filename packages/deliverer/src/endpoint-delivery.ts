import type { OutboundJob } from "@acapy-bridge/protocol";
import { KeyedSemaphore, Semaphore } from "./concurrency-limit.js";
import type { DelivererConfig } from "./deliverer-options.js";
import { type AttemptOutcome, checkEndpoint } from "./failure-policy.js";
import { HttpDelivery } from "./http-delivery.js";
import { WebSocketDelivery } from "./websocket-delivery.js";

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
    const endpoint = checkEndpoint(job.endpoint);
    if (!endpoint.ok) return { ok: false, retryable: false, reason: endpoint.reason, detail: endpoint.detail };
    const releaseEndpoint = await this.perEndpoint.acquire(`${endpoint.url.protocol}//${endpoint.url.host}`);
    const releaseGlobal = await this.global.acquire();
    try {
      if (endpoint.kind === "ws") return await this.ws.send(endpoint.url, job.contentType, job.body);
      return await this.http.post({
        url: endpoint.url,
        contentType: job.contentType,
        body: job.body,
        headers: job.headers,
      });
    } finally {
      releaseGlobal();
      releaseEndpoint();
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.http.close(), this.ws.close()]);
  }
}
