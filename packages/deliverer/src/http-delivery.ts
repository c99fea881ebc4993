import { Agent } from "undici";
import { type AttemptOutcome, classifyError, classifyStatus } from "./failure-policy.js";

export interface HttpDeliveryOptions {
  connectTimeoutMs: number;
  totalTimeoutMs: number;
  /** Sockets kept per origin; the caller also limits requests per origin to this. */
  connectionsPerOrigin: number;
}

export interface HttpRequestSpec {
  url: URL;
  contentType: string;
  body: Uint8Array;
  headers: Record<string, string>;
}

// Headers an envelope must not set: they belong to the connection or are computed.
const RESERVED = new Set(["host", "content-length", "connection", "transfer-encoding", "keep-alive", "upgrade"]);

/**
 * POSTs over pooled keep-alive connections (undici), with a connect timeout
 * and a whole-attempt timeout. The response body is read and discarded.
 */
export class HttpDelivery {
  private readonly agent: Agent;

  constructor(private readonly options: HttpDeliveryOptions) {
    this.agent = new Agent({
      connections: options.connectionsPerOrigin,
      pipelining: 1,
      connect: { timeout: options.connectTimeoutMs },
      headersTimeout: options.totalTimeoutMs,
      bodyTimeout: options.totalTimeoutMs,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 60_000,
    });
  }

  async post(request: HttpRequestSpec): Promise<AttemptOutcome> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (!RESERVED.has(name.toLowerCase())) headers[name] = value;
    }
    headers["content-type"] = request.contentType || "application/octet-stream";
    const timeout = AbortSignal.timeout(this.options.totalTimeoutMs);
    try {
      const response = await this.agent.request({
        origin: request.url.origin,
        path: `${request.url.pathname}${request.url.search}`,
        method: "POST",
        headers,
        body: Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength),
        signal: timeout,
      });
      await response.body.dump();
      const retryAfter = response.headers["retry-after"];
      return classifyStatus(response.statusCode, Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
    } catch (error) {
      if (timeout.aborted) {
        return classifyError(
          Object.assign(new Error(`no answer within ${this.options.totalTimeoutMs} ms`), { code: "TIMEOUT" }),
        );
      }
      return classifyError(error);
    }
  }

  async close(): Promise<void> {
    await this.agent.destroy();
  }
}
