/** Request headers as Node gives them (`IncomingMessage.headers`) or a caller writes them. */
export type RequestHeaders = Record<string, string | readonly string[] | undefined>;

// Hop-by-hop and framing headers: they describe one HTTP connection, not the call. The body's
// length is known from the body itself; `expect: 100-continue` was answered by the listener.
const NOT_FORWARDED = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "content-length",
  "expect",
]);

/**
 * The headers an admin call carries to ACA-Py: every end-to-end header (x-api-key, authorization
 * for sub-wallet tokens, content-type, accept, ...), names in lower case, repeated values joined.
 */
export function forwardedRequestHeaders(headers: RequestHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [rawName, value] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    if (value === undefined || NOT_FORWARDED.has(name)) continue;
    out[name] = typeof value === "string" ? value : value.join(", ");
  }
  return out;
}
