/** One call of ACA-Py's admin API, as a controller makes it, whichever way it travels. */
export interface AdminRequest {
  method: string;
  /** Path and query, e.g. "/connections?state=active". */
  path: string;
  /** Header names in lower case; `x-api-key` and `authorization` (a sub-wallet's bearer token) are the ones ACA-Py checks. */
  headers?: Record<string, string>;
  body?: Buffer | string;
}

/** What ACA-Py's admin server answered: status, headers, body, untouched (errors included). */
export interface AdminResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * How a controller reaches ACA-Py's admin API: over HTTP (`HttpAdminClient`, to
 * ACA-Py's own admin port or the relay's admin port) or through Redis. Code
 * written against this interface switches between them by constructing a
 * different client.
 */
export interface AdminClient {
  request(request: AdminRequest): Promise<AdminResponse>;
}

/** A non-2xx answer, for the JSON convenience calls; `response` is ACA-Py's answer as it was. */
export class AdminCallError extends Error {
  override name = "AdminCallError";
  constructor(
    readonly request: Pick<AdminRequest, "method" | "path">,
    readonly response: AdminResponse,
  ) {
    super(`${request.method} ${request.path} -> ${response.status}: ${response.body.toString("utf8").slice(0, 300)}`);
  }
}

/** Sends `body` as JSON and parses the JSON answer; a non-2xx answer throws AdminCallError. */
export async function adminJson<T>(client: AdminClient, method: string, path: string, body?: unknown): Promise<T> {
  const request: AdminRequest = { method, path };
  if (body !== undefined) {
    request.headers = { "content-type": "application/json" };
    request.body = JSON.stringify(body);
  }
  const response = await client.request(request);
  if (response.status < 200 || response.status > 299) throw new AdminCallError(request, response);
  const text = response.body.toString("utf8");
  return (text ? JSON.parse(text) : {}) as T;
}
