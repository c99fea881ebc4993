// Admin API calls over HTTP for the admin listener's tests: the same call to the relay's admin port
// and to ACA-Py's own, and a comparison of their answers that ignores ids and timestamps.

export interface AdminHttpAnswer {
  status: number;
  contentType: string | null;
  text: string;
  json: unknown;
  ms: number;
}

export async function adminCall(
  baseUrl: string,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<AdminHttpAnswer> {
  const started = performance.now();
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { ...(options.body === undefined ? {} : { "content-type": "application/json" }), ...options.headers },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return {
    status: res.status,
    contentType: res.headers.get("content-type"),
    text,
    json,
    ms: performance.now() - started,
  };
}

// Values that differ between two runs of the same call: ids, keys, DIDs, timestamps.
const VARYING_VALUE =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-|^\d{4}-\d\d-\d\d[T ]\d\d:\d\d|^did:|^[1-9A-HJ-NP-Za-km-z]{32,50}$/;
const VARYING_KEY = /(^|_)(id|at|url|uptime|token)$|^@id$/;

/** The answer's JSON with ids, keys, DIDs and timestamps replaced by "<varies>" (object keys sorted). */
export function withoutIdsAndTimes(value: unknown, key = ""): unknown {
  if (Array.isArray(value)) return value.map((item) => withoutIdsAndTimes(item));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, withoutIdsAndTimes(v, k)]),
    );
  }
  if ((typeof value === "string" || typeof value === "number") && VARYING_KEY.test(key)) return "<varies>";
  if (typeof value === "string" && VARYING_VALUE.test(value)) return "<varies>";
  return value;
}
