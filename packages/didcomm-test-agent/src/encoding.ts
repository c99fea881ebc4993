const BASE64URL_SHAPE = /^[A-Za-z0-9_\-+/]*={0,2}$/;

/** Unpadded base64url, as askar's `b64url()` writes every JWE field. */
export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
}

/**
 * Accepts padded or unpadded input in either alphabet: ACA-Py (askar) writes unpadded, while
 * indy-sdk and older JavaScript agents wrote padded base64url, and ACA-Py reads both.
 */
export function fromBase64Url(text: string, field = "value"): Uint8Array {
  if (!BASE64URL_SHAPE.test(text)) throw new Error(`${field} is not base64url: ${JSON.stringify(text.slice(0, 40))}`);
  return new Uint8Array(Buffer.from(text, "base64url"));
}

export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function fromUtf8(bytes: Uint8Array): string {
  return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
}

/**
 * JSON with Python's default `json.dumps` separators (", " and ": "). ACA-Py writes its envelopes
 * this way; using the same bytes keeps our envelopes indistinguishable from ACA-Py's, which
 * matters for tests that compare sizes or capture wire traffic.
 */
export function pythonStyleJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(pythonStyleJson).join(", ")}]`;
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${pythonStyleJson(v)}`).join(", ")}}`;
}
