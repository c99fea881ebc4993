// Bodies shaped like DIDComm v1 JWEs (as Askar packs them) for relay tests
// that need no real cryptography: the relay only reads the protected header.
import { randomBytes } from "node:crypto";

const ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

export function base58(bytes: Uint8Array): string {
  let n = BigInt(`0x${Buffer.from(bytes).toString("hex") || "0"}`);
  let out = "";
  while (n > 0n) {
    out = ALPHABET[Number(n % 58n)] + out;
    n /= 58n;
  }
  for (const b of bytes) {
    if (b !== 0) break;
    out = `1${out}`;
  }
  return out;
}

export function randomVerkey(): string {
  return base58(randomBytes(32));
}

/** A JWE-shaped body for `kid`; every call has a fresh iv/ciphertext (no dedup). */
export function fakeJwe(kid: string, alg: "Authcrypt" | "Anoncrypt" = "Authcrypt", ciphertextBytes = 256): Buffer {
  const header = {
    enc: "xchacha20poly1305_ietf",
    typ: "JWM/1.0",
    alg,
    recipients: [{ encrypted_key: randomBytes(48).toString("base64url"), header: { kid, sender: "x", iv: "y" } }],
  };
  return Buffer.from(
    JSON.stringify({
      protected: Buffer.from(JSON.stringify(header)).toString("base64url"),
      iv: randomBytes(24).toString("base64url"),
      ciphertext: randomBytes(ciphertextBytes).toString("base64url"),
      tag: randomBytes(16).toString("base64url"),
    }),
  );
}
