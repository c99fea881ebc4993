/** Why a Redis connection fails, in the operator's terms. */
export type RedisFailureKind = "auth" | "tls" | "refused" | "dns" | "timeout" | "reset" | "other";

export interface RedisFailure {
  kind: RedisFailureKind;
  /** A sentence naming the likely cause, then the client's own message. */
  detail: string;
}

const TLS_CODES = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "EPROTO",
]);

const EXPLANATIONS: Record<RedisFailureKind, string> = {
  auth: "Redis refused the credentials (wrong user or password in --redis-url, or the ACL user is off)",
  tls: "the TLS handshake failed (untrusted or invalid certificate, or TLS against a plain-text port)",
  refused: "nothing accepts connections at the Redis address",
  dns: "the Redis host name does not resolve",
  timeout: "Redis did not answer in time (hung, overloaded or unreachable)",
  reset: "Redis closed the connection",
  other: "the Redis connection failed",
};

function kindOf(error: Error & { code?: string }): RedisFailureKind {
  const code = error.code ?? "";
  const message = error.message;
  if (/^(WRONGPASS|NOAUTH|NOPERM)\b/.test(message) || /invalid password|AUTH failed/i.test(message)) return "auth";
  if (TLS_CODES.has(code) || code.startsWith("ERR_TLS") || code.startsWith("ERR_SSL")) return "tls";
  if (code === "ECONNREFUSED") return "refused";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return "dns";
  if (code === "ETIMEDOUT" || /timed out/i.test(message)) return "timeout";
  if (code === "ECONNRESET" || code === "EPIPE") return "reset";
  return "other";
}

/** Classifies an error of the Redis client, so that the log says "wrong password", not only "waiting". */
export function describeRedisFailure(error: Error & { code?: string }): RedisFailure {
  const kind = kindOf(error);
  return { kind, detail: `${EXPLANATIONS[kind]}: ${error.message}` };
}
