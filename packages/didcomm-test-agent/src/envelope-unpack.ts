import { fromBase64Url, fromUtf8, utf8 } from "./encoding.js";
import { ENVELOPE_ENC, type JweEnvelope, type JweRecipient } from "./envelope.js";
import { type KeyPair, verkeyToX25519 } from "./keys.js";
import { sodiumReady } from "./sodium.js";

export class DidcommUnpackError extends Error {
  override readonly name = "DidcommUnpackError";
}

export interface UnpackedEnvelope {
  plaintext: Uint8Array;
  recipientVerkey: string;
  /** Set for authcrypt only: the sender's base58 verkey, authenticated by crypto_box. */
  senderVerkey?: string;
}

/** Finds a recipient entry we hold a key for (by `kid`), recovers the CEK and decrypts the payload. */
export function unpackEnvelope(
  bytes: Uint8Array | string,
  findKey: (verkey: string) => KeyPair | undefined,
): UnpackedEnvelope {
  const envelope = parseEnvelope(bytes);
  const header = parseProtectedHeader(envelope.protected);
  const recipients = header.recipients ?? envelope.recipients;
  if (!Array.isArray(recipients) || recipients.length === 0) throw new DidcommUnpackError("envelope has no recipients");
  if (header.alg !== "Authcrypt" && header.alg !== "Anoncrypt") {
    throw new DidcommUnpackError(`unsupported pack algorithm ${JSON.stringify(header.alg)}`);
  }
  if (header.enc !== ENVELOPE_ENC)
    throw new DidcommUnpackError(`unsupported content encryption ${JSON.stringify(header.enc)}`);

  let match: { recipient: JweRecipient; key: KeyPair } | undefined;
  for (const recipient of recipients) {
    const key = typeof recipient?.header?.kid === "string" ? findKey(recipient.header.kid) : undefined;
    if (key) {
      match = { recipient, key };
      break;
    }
  }
  if (!match) {
    const kids = recipients.map((r) => r?.header?.kid);
    throw new DidcommUnpackError(`none of the recipient keys ${JSON.stringify(kids)} belongs to this agent`);
  }

  const { cek, senderVerkey } = recoverCek(match.recipient, match.key, header.alg === "Authcrypt");
  const nonce = fromBase64Url(envelope.iv, "iv");
  const decrypt = payloadCipher(nonce.length);
  let plaintext: Uint8Array;
  try {
    plaintext = decrypt(
      null,
      fromBase64Url(envelope.ciphertext, "ciphertext"),
      fromBase64Url(envelope.tag, "tag"),
      utf8(envelope.protected),
      nonce,
      cek,
    );
  } catch (cause) {
    throw new DidcommUnpackError(
      "payload authentication failed: the ciphertext, tag, iv or protected header was altered (or the CEK is wrong)",
      { cause },
    );
  }
  return senderVerkey === undefined
    ? { plaintext, recipientVerkey: match.key.verkey }
    : { plaintext, recipientVerkey: match.key.verkey, senderVerkey };
}

function parseEnvelope(bytes: Uint8Array | string): JweEnvelope {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof bytes === "string" ? bytes : fromUtf8(bytes));
  } catch (cause) {
    throw new DidcommUnpackError("envelope is not JSON", { cause });
  }
  const env = parsed as Partial<JweEnvelope> | null;
  for (const field of ["protected", "iv", "ciphertext", "tag"] as const) {
    if (typeof env?.[field] !== "string") {
      const hint = env && typeof env === "object" && "@type" in env ? " (this is a plaintext message)" : "";
      throw new DidcommUnpackError(`envelope lacks the string field ${JSON.stringify(field)}${hint}`);
    }
  }
  return env as JweEnvelope;
}

interface LooseProtectedHeader {
  enc?: unknown;
  alg?: unknown;
  recipients?: JweRecipient[];
}

function parseProtectedHeader(protectedB64: string): LooseProtectedHeader {
  try {
    return JSON.parse(fromUtf8(fromBase64Url(protectedB64, "protected"))) as LooseProtectedHeader;
  } catch (cause) {
    throw new DidcommUnpackError("protected header is not base64url JSON", { cause });
  }
}

function recoverCek(
  recipient: JweRecipient,
  key: KeyPair,
  authcrypt: boolean,
): { cek: Uint8Array; senderVerkey?: string } {
  const sodium = sodiumReady();
  const { sender, iv } = recipient.header;
  if (typeof recipient.encrypted_key !== "string") throw new DidcommUnpackError("recipient lacks encrypted_key");
  const encryptedKey = fromBase64Url(recipient.encrypted_key, "encrypted_key");
  if (Boolean(sender) !== Boolean(iv)) throw new DidcommUnpackError("recipient header has only one of sender/iv");
  if (authcrypt && !sender) throw new DidcommUnpackError("Authcrypt envelope without a sender for our key");
  try {
    if (!sender || !iv) {
      return { cek: sodium.crypto_box_seal_open(encryptedKey, key.x25519PublicKey, key.x25519SecretKey) };
    }
    const senderVerkey = fromUtf8(
      sodium.crypto_box_seal_open(fromBase64Url(sender, "sender"), key.x25519PublicKey, key.x25519SecretKey),
    );
    const cek = sodium.crypto_box_open_easy(
      encryptedKey,
      fromBase64Url(iv, "iv"),
      verkeyToX25519(senderVerkey),
      key.x25519SecretKey,
    );
    return { cek, senderVerkey };
  } catch (cause) {
    if (cause instanceof DidcommUnpackError) throw cause;
    throw new DidcommUnpackError(`cannot decrypt the content key for ${key.verkey}: ${(cause as Error).message}`, {
      cause,
    });
  }
}

/**
 * Askar and indy-sdk use IETF ChaCha20-Poly1305 with a 12-byte nonce whatever `enc` says; a
 * 24-byte nonce can only come from a sender that took the header literally, so it gets XChaCha20.
 */
function payloadCipher(nonceLength: number) {
  const sodium = sodiumReady();
  if (nonceLength === sodium.crypto_aead_chacha20poly1305_ietf_NPUBBYTES) {
    return sodium.crypto_aead_chacha20poly1305_ietf_decrypt_detached;
  }
  if (nonceLength === sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES) {
    return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt_detached;
  }
  throw new DidcommUnpackError(`envelope iv is ${nonceLength} bytes; expected 12 (askar) or 24`);
}
