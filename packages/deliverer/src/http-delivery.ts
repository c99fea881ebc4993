import { Agent, type Dispatcher } from "undici";
import { AttemptDeadlines, type Deadline } from "./attempt-deadlines.js";
import { type AttemptOutcome, classifyError, classifyStatus } from "./failure-policy.js";
import type { FilteringLookup } from "./target-policy.js";

export interface HttpDeliveryOptions {
  connectTimeoutMs: number;
  totalTimeoutMs: number;
  /** Sockets kept per origin; the caller also limits requests per origin to this. */
  connectionsPerOrigin: number;
  /** Resolves host names for connections; the target policy's keeps only allowed addresses. */
  lookup?: FilteringLookup | undefined;
}

export interface HttpRequestSpec {
  /** scheme://host:port */
  origin: string;
  /** Path and query. */
  path: string;
  contentType: string;
  body: Uint8Array;
  headers: Record<string, string>;
}

// Headers an envelope must not set: they belong to the connection or are computed.
const RESERVED = new Set(["host", "content-length", "connection", "transfer-encoding", "keep-alive", "upgrade"]);
const RETRY_AFTER = "retry-after";

/**
 * One POST's answer, taken straight from undici's dispatcher: the status, a
 * Retry-After when the answer is not a success, and the body read and
 * dropped. Cheaper than `request()`, which builds a body stream and an abort
 * listener for every response. On undici 7's handler API (onRequestStart,
 * onResponseStart, ...): the Agent wraps such a handler and hands it parsed
 * headers.
 */
class DiscardedResponse implements Dispatcher.DispatchHandler {
  private status = 0;
  private retryAfter: string | undefined;
  private controller: Dispatcher.DispatchController | undefined;
  private expired: Error | undefined;
  private deadline: Deadline | undefined;
  private done = false;

  constructor(private readonly finish: (outcome: AttemptOutcome) => void) {}

  watch(deadline: Deadline): void {
    this.deadline = deadline;
  }

  /** The whole-attempt timeout passed: abort now, or as soon as undici starts the request (queued requests). */
  expire(reason: Error): void {
    this.expired = reason;
    this.controller?.abort(reason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    if (this.expired) controller.abort(this.expired);
    else this.controller = controller;
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    this.status = statusCode;
    if (statusCode < 200 || statusCode >= 300) {
      const retryAfter = headers[RETRY_AFTER];
      // Repeated, the last one counts.
      this.retryAfter = Array.isArray(retryAfter) ? retryAfter[retryAfter.length - 1] : retryAfter;
    }
  }

  onResponseData(): void {}

  onResponseEnd(): void {
    this.settle(classifyStatus(this.status, this.retryAfter));
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    this.fail(error);
  }

  /** The request failed before or while undici had it (a dispatch that threw, say). */
  fail(error: Error): void {
    this.settle(classifyError(this.expired ?? error));
  }

  private settle(outcome: AttemptOutcome): void {
    if (this.done) return;
    this.done = true;
    this.deadline?.settle();
    this.finish(outcome);
  }
}

/**
 * POSTs over pooled keep-alive connections (undici), with a connect timeout
 * and a whole-attempt timeout. The response body is read and discarded.
 * Redirects are not followed (a dispatcher without a redirect interceptor):
 * a 3xx is an answer, rejected, so a redirect cannot lead past the target policy.
 */
export class HttpDelivery {
  private readonly agent: Agent;
  private readonly deadlines: AttemptDeadlines;
  private readonly timeoutError: () => Error;

  constructor(options: HttpDeliveryOptions) {
    this.agent = new Agent({
      connections: options.connectionsPerOrigin,
      pipelining: 1,
      connect: { timeout: options.connectTimeoutMs, ...(options.lookup ? { lookup: options.lookup } : {}) },
      headersTimeout: options.totalTimeoutMs,
      bodyTimeout: options.totalTimeoutMs,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 60_000,
    });
    this.deadlines = new AttemptDeadlines(options.totalTimeoutMs);
    this.timeoutError = () =>
      Object.assign(new Error(`no answer within ${options.totalTimeoutMs} ms`), { code: "TIMEOUT" });
  }

  post(request: HttpRequestSpec): Promise<AttemptOutcome> {
    const headers: Record<string, string> = {};
    for (const name in request.headers) {
      if (!RESERVED.has(name.toLowerCase())) headers[name] = request.headers[name] as string;
    }
    headers["content-type"] = request.contentType || "application/octet-stream";
    const body = request.body;
    return new Promise<AttemptOutcome>((resolve) => {
      const response = new DiscardedResponse(resolve);
      response.watch(this.deadlines.start(() => response.expire(this.timeoutError())));
      try {
        this.agent.dispatch(
          {
            origin: request.origin,
            path: request.path,
            method: "POST",
            headers,
            body: Buffer.from(body.buffer, body.byteOffset, body.byteLength),
          },
          response,
        );
      } catch (error) {
        response.fail(error as Error);
      }
    });
  }

  async close(): Promise<void> {
    this.deadlines.close();
    await this.agent.destroy();
  }
}
