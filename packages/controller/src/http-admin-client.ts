import type { AdminClient, AdminRequest, AdminResponse } from "./admin-client.js";

export interface HttpAdminClientOptions {
  /** ACA-Py's admin URL, or the relay's admin listener, e.g. "http://127.0.0.1:8031". */
  baseUrl: string;
  /** Sent as `x-api-key` unless a request carries its own. */
  apiKey?: string;
  /** A sub-wallet's token, sent as `Authorization: Bearer ...` unless a request carries its own. */
  walletToken?: string;
  /** Abandon a call after this long. Default 60 s. */
  timeoutMs?: number;
}

export class AdminTimeoutError extends Error {
  override name = "AdminTimeoutError";
}

/** ACA-Py's admin API over plain HTTP. */
export class HttpAdminClient implements AdminClient {
  private readonly baseUrl: string;

  constructor(private readonly options: HttpAdminClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
  }

  async request(request: AdminRequest): Promise<AdminResponse> {
    const headers: Record<string, string> = {};
    if (this.options.apiKey !== undefined) headers["x-api-key"] = this.options.apiKey;
    if (this.options.walletToken !== undefined) headers.authorization = `Bearer ${this.options.walletToken}`;
    for (const [name, value] of Object.entries(request.headers ?? {})) headers[name.toLowerCase()] = value;
    const timeoutMs = this.options.timeoutMs ?? 60_000;
    const path = request.path.startsWith("/") ? request.path : `/${request.path}`;
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method: request.method,
        headers,
        body: request.body === undefined ? undefined : request.body,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      if ((error as Error).name === "TimeoutError") {
        throw new AdminTimeoutError(`${request.method} ${path} got no answer from ${this.baseUrl} in ${timeoutMs} ms`);
      }
      throw new Error(`${request.method} ${path} to ${this.baseUrl} failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const answerHeaders: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      answerHeaders[name] = value;
    });
    return { status: response.status, headers: answerHeaders, body: Buffer.from(await response.arrayBuffer()) };
  }
}
