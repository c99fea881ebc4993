import { createHash } from "node:crypto";

/**
 * What the relay can tell about a body without any key: whether it is a
 * DIDComm message at all, which recipient it is for (the routing key that
 * picks its partition) and whether ACA-Py could ever answer it directly.
 */
export type EnvelopeInspection =
  | {
      ok: true;
      /** First recipient `kid` (base58 verkey), or `sha256:<hex>` of the body when none is readable. */
      routingKey: string;
      form: "authcrypt" | "anoncrypt" | "jwe" | "plaintext";
      /**
       * False only when ACA-Py can never return a direct response: an anoncrypted
       * message has no sender key for `~transport.return_route` to reply to.
       */
      mayGetDirectResponse: boolean;
    }
  | { ok: false; reason: "empty" | "not_json" | "not_object" | "not_envelope"; detail: string };

// Base58 (Bitcoin alphabet); an Ed25519 verkey is 32 bytes = 43 or 44 characters.
const BASE58_VERKEY = /^[1-9A-HJ-NP-Za-km-z]{32,64}$/;

export function isBase58Verkey(value: unknown): value is string {
  return typeof value === "string" && BASE58_VERKEY.test(value);
}

export function bodyDigest(body: Uint8Array): string {
  return createHash("sha256").update(body).digest("hex");
}

function firstKid(recipients: unknown): unknown {
  if (!Array.isArray(recipients) || recipients.length === 0) return undefined;
  const first = recipients[0] as { header?: { kid?: unknown } } | null;
  return first && typeof first === "object" ? first.header?.kid : undefined;
}

function decodeProtected(value: string): Record<string, unknown> | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(value, "base64url").toString("utf8")) as unknown;
    return parsed && typeof parsed === "object" && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads the JWE's protected header (DIDComm v1 as Askar packs it:
 * `recipients[].header.kid` = base58 verkey, `alg` Authcrypt/Anoncrypt).
 * Rejects only what ACA-Py would reject too (empty, not JSON, not an object)
 * plus JSON objects that are neither a JWE nor a plaintext DIDComm message.
 */
export function inspectEnvelope(body: Buffer): EnvelopeInspection {
  const text = body.toString("utf8");
  if (!/\S/.test(text)) {
    return { ok: false, reason: "empty", detail: "the body is empty" };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, reason: "not_json", detail: "the body is not JSON (expected a DIDComm JWE envelope)" };
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    return { ok: false, reason: "not_object", detail: "the body is JSON but not an object" };
  }
  const object = parsed as Record<string, unknown>;
  if (typeof object.protected === "string" && "ciphertext" in object) {
    const header = decodeProtected(object.protected);
    const kid = firstKid(header?.recipients) ?? firstKid(object.recipients);
    const alg = header?.alg;
    const form = alg === "Authcrypt" ? "authcrypt" : alg === "Anoncrypt" ? "anoncrypt" : "jwe";
    return {
      ok: true,
      routingKey: isBase58Verkey(kid) ? kid : `sha256:${bodyDigest(body)}`,
      form,
      mayGetDirectResponse: form !== "anoncrypt",
    };
  }
  if (typeof object["@type"] === "string") {
    return { ok: true, routingKey: `sha256:${bodyDigest(body)}`, form: "plaintext", mayGetDirectResponse: true };
  }
  return {
    ok: false,
    reason: "not_envelope",
    detail: "the JSON object is neither a JWE envelope (protected, ciphertext) nor a DIDComm message (@type)",
  };
}
