import { toVerkey } from "./did-key.js";
import { pythonStyleJson, toBase64Url, utf8 } from "./encoding.js";
import { ENVELOPE_ENC, ENVELOPE_TYP, type JweEnvelope, type JweRecipient, type ProtectedHeader } from "./envelope.js";
import { type KeyPair, verkeyToX25519 } from "./keys.js";
import { sodiumReady } from "./sodium.js";

/**
 * Encrypts `plaintext` to every recipient key (base58 verkeys or did:keys) the way askar's
 * `pack_message` does: authcrypt when a sender key is given, anoncrypt otherwise.
 */
export function packEnvelope(plaintext: Uint8Array, recipientKeys: readonly string[], sender?: KeyPair): JweEnvelope {
  if (recipientKeys.length === 0) throw new Error("cannot pack a message without recipient keys");
  const sodium = sodiumReady();
  const cek = sodium.crypto_aead_chacha20poly1305_ietf_keygen();
  const recipients = recipientKeys.map((key) => encryptCek(cek, toVerkey(key), sender));
  const header: ProtectedHeader = {
    enc: ENVELOPE_ENC,
    typ: ENVELOPE_TYP,
    alg: sender ? "Authcrypt" : "Anoncrypt",
    recipients,
  };
  const protectedB64 = toBase64Url(utf8(pythonStyleJson(header)));
  // Despite `enc: "xchacha20poly1305_ietf"`, askar (KeyAlg.C20P) and indy-sdk encrypt the payload
  // with plain IETF ChaCha20-Poly1305 and a 12-byte nonce; a 24-byte XChaCha nonce is not what they send.
  const iv = sodium.randombytes_buf(sodium.crypto_aead_chacha20poly1305_ietf_NPUBBYTES);
  const { ciphertext, mac } = sodium.crypto_aead_chacha20poly1305_ietf_encrypt_detached(
    plaintext,
    utf8(protectedB64),
    null,
    iv,
    cek,
  );
  return { protected: protectedB64, iv: toBase64Url(iv), ciphertext: toBase64Url(ciphertext), tag: toBase64Url(mac) };
}

export function serializeEnvelope(envelope: JweEnvelope): Uint8Array {
  return utf8(pythonStyleJson(envelope));
}

function encryptCek(cek: Uint8Array, recipientVerkey: string, sender: KeyPair | undefined): JweRecipient {
  const sodium = sodiumReady();
  const recipientX25519 = verkeyToX25519(recipientVerkey);
  if (!sender) {
    return {
      encrypted_key: toBase64Url(sodium.crypto_box_seal(cek, recipientX25519)),
      header: { kid: recipientVerkey },
    };
  }
  const nonce = sodium.randombytes_buf(sodium.crypto_box_NONCEBYTES);
  return {
    encrypted_key: toBase64Url(sodium.crypto_box_easy(cek, nonce, recipientX25519, sender.x25519SecretKey)),
    header: {
      kid: recipientVerkey,
      // The sealed sender is the verkey's base58 text, not its 32 raw bytes.
      sender: toBase64Url(sodium.crypto_box_seal(utf8(sender.verkey), recipientX25519)),
      iv: toBase64Url(nonce),
    },
  };
}
