/**
 * What must never leave the process in a log line or a control API answer:
 * passwords in URLs (`redis://user:password@host`), token-like query
 * parameters (`?api_key=...`), and values under secret-looking names
 * (`x-api-key`, `authorization`, `password`, ...). Text is masked by pattern,
 * not by parsing, because the URLs worth hiding are often the invalid ones.
 */
export const MASK = "***";

// scheme://user:password@ -> scheme://user:***@ ; scheme://token@ -> scheme://***@
const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@"'<>]*)@/gi;
// ?api_key=... &token=... ;password=... (names that contain a secret-looking word)
const SECRET_QUERY_PARAM =
  /([?&;][^=&#\s"'<>]*?(?:key|token|secret|passw|pwd|auth|signature|credential|session)[^=&#\s"'<>]*=)[^&;#\s"'<>]*/gi;

const SECRET_NAME_WORDS = [
  "password",
  "passwd",
  "pwd",
  "secret",
  "token",
  "apikey",
  "authorization",
  "cookie",
  "credential",
  "privatekey",
  "signature",
];

/** True for a field or header name whose value is a secret: `x-api-key`, `Authorization`, `redis-password`, ... */
export function isSecretName(name: string): boolean {
  const normalized = name.toLowerCase().replace(/[^a-z]/g, "");
  return SECRET_NAME_WORDS.some((word) => normalized.includes(word));
}

/** `text` with URL passwords and secret query parameters masked. */
export function redactSecretsInText(text: string): string {
  if (!text.includes("://") && !text.includes("=")) return text;
  return text
    .replace(URL_USERINFO, (_match, scheme: string, userinfo: string) => {
      const colon = userinfo.indexOf(":");
      return colon === -1 ? `${scheme}${MASK}@` : `${scheme}${userinfo.slice(0, colon)}:${MASK}@`;
    })
    .replace(SECRET_QUERY_PARAM, `$1${MASK}`);
}

/**
 * A copy of `value` safe to show: strings masked by `redactSecretsInText`,
 * values under secret names replaced by `***`, errors' message and stack masked.
 * Buffers, numbers and the like are returned as they are.
 */
export function redactSecrets<T>(value: T, depth = 0): T {
  if (typeof value === "string") return redactSecretsInText(value) as T;
  if (value === null || typeof value !== "object" || depth > 8) return value;
  if (ArrayBuffer.isView(value) || value instanceof Date) return value;
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1)) as T;
  // A URL or any object that serializes itself: redact what would be written.
  const toJSON = (value as { toJSON?: () => unknown }).toJSON;
  if (typeof toJSON === "function") return redactSecrets(toJSON.call(value), depth + 1) as T;
  if (value instanceof Error) {
    const copy = new Error(redactSecretsInText(value.message));
    copy.name = value.name;
    copy.stack = value.stack === undefined ? undefined : redactSecretsInText(value.stack);
    for (const [key, field] of Object.entries(value)) {
      (copy as unknown as Record<string, unknown>)[key] = isSecretName(key) ? MASK : redactSecrets(field, depth + 1);
    }
    return copy as T;
  }
  if (value instanceof Map) {
    return new Map(
      [...value].map(([k, v]) => [k, typeof k === "string" && isSecretName(k) ? MASK : redactSecrets(v, depth + 1)]),
    ) as T;
  }
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
    out[key] =
      isSecretName(key) && field !== undefined && field !== null && field !== ""
        ? MASK
        : redactSecrets(field, depth + 1);
  }
  return out as T;
}
