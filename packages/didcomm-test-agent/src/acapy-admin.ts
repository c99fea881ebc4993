import type { TestAgent } from "./test-agent.js";

/** Body of ACA-Py's `POST /connections/create-static` (ConnectionStaticRequestSchema). */
export interface CreateStaticConnectionRequest {
  my_seed?: string;
  my_did?: string;
  their_seed?: string;
  /** Required with `their_verkey` unless `their_seed` is given. */
  their_did?: string;
  their_verkey?: string;
  /** Where ACA-Py sends messages for us; omit to receive only via return_route. */
  their_endpoint?: string;
  their_label?: string;
  alias?: string;
}

/** ACA-Py's ConnectionStaticResultSchema. */
export interface CreateStaticConnectionResult {
  my_did: string;
  my_verkey: string;
  /** ACA-Py's `default_endpoint` (its `-e` value); absent if it has none. */
  my_endpoint?: string | null;
  their_did: string;
  their_verkey: string;
  record: { connection_id: string; state: string; [field: string]: unknown };
}

export class AcaPyAdminError extends Error {
  override readonly name = "AcaPyAdminError";
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`ACA-Py admin ${method} ${path} → ${status}: ${body.slice(0, 500)}`);
  }
}

/** A thin client for the ACA-Py admin endpoints the test agent needs. */
export class AcaPyAdmin {
  constructor(
    readonly baseUrl: string,
    private readonly opts: { apiKey?: string; timeoutMs?: number } = {},
  ) {}

  get<T>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>("POST", path, body);
  }

  createStaticConnection(request: CreateStaticConnectionRequest): Promise<CreateStaticConnectionResult> {
    return this.post("/connections/create-static", request);
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (this.opts.apiKey) headers["X-API-Key"] = this.opts.apiKey;
    const response = await fetch(new URL(path, this.baseUrl), {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000),
    });
    const text = await response.text();
    if (!response.ok) throw new AcaPyAdminError(method, path, response.status, text);
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

export interface StaticConnection {
  connectionId: string;
  /** ACA-Py's side: send to these keys at this endpoint. */
  endpoint: string;
  recipientKeys: string[];
  acapyDid: string;
  result: CreateStaticConnectionResult;
}

/**
 * Makes ACA-Py hold a completed connection to `agent` without any exchange protocol, so tests can
 * message it straight away.
 */
export async function connectStatic(
  admin: AcaPyAdmin,
  agent: TestAgent,
  opts: { endpoint?: string; alias?: string; acapyEndpoint?: string } = {},
): Promise<StaticConnection> {
  const request: CreateStaticConnectionRequest = {
    their_label: agent.label,
    their_did: agent.did,
    their_verkey: agent.verkey,
    alias: opts.alias ?? agent.label,
  };
  if (opts.endpoint) request.their_endpoint = opts.endpoint;
  const result = await admin.createStaticConnection(request);
  const endpoint = opts.acapyEndpoint ?? result.my_endpoint;
  if (!endpoint) throw new Error("ACA-Py reported no endpoint (start it with -e) and none was given");
  return {
    connectionId: result.record.connection_id,
    endpoint,
    recipientKeys: [result.my_verkey],
    acapyDid: result.my_did,
    result,
  };
}
