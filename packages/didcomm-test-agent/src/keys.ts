import bs58 from "bs58";
import { sodiumReady } from "./sodium.js";

/** An Ed25519 signing key with its X25519 twin, which DIDComm v1 uses for all encryption. */
export interface KeyPair {
  /** Base58 of the 32-byte Ed25519 public key: the form ACA-Py calls a verkey. */
  readonly verkey: string;
  readonly publicKey: Uint8Array;
  /** libsodium's 64-byte Ed25519 secret key (seed || public key). */
  readonly secretKey: Uint8Array;
  readonly x25519PublicKey: Uint8Array;
  readonly x25519SecretKey: Uint8Array;
}

/** A fresh key, or the deterministic one for a 32-byte seed (ACA-Py's `--seed`/`their_seed` convention). */
export function generateKeyPair(seed?: string | Uint8Array): KeyPair {
  const sodium = sodiumReady();
  let pair: { publicKey: Uint8Array; privateKey: Uint8Array };
  if (seed === undefined) {
    pair = sodium.crypto_sign_keypair();
  } else {
    const seedBytes = typeof seed === "string" ? new TextEncoder().encode(seed) : seed;
    if (seedBytes.length !== 32) throw new Error(`a key seed must be 32 bytes, got ${seedBytes.length}`);
    pair = sodium.crypto_sign_seed_keypair(seedBytes);
  }
  return {
    verkey: bs58.encode(pair.publicKey),
    publicKey: pair.publicKey,
    secretKey: pair.privateKey,
    x25519PublicKey: sodium.crypto_sign_ed25519_pk_to_curve25519(pair.publicKey),
    x25519SecretKey: sodium.crypto_sign_ed25519_sk_to_curve25519(pair.privateKey),
  };
}

export function verkeyToBytes(verkey: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = bs58.decode(verkey);
  } catch {
    throw new Error(`not a base58 verkey: ${JSON.stringify(verkey)}`);
  }
  if (bytes.length !== 32)
    throw new Error(`a verkey must decode to 32 bytes, ${JSON.stringify(verkey)} has ${bytes.length}`);
  return bytes;
}

export function bytesToVerkey(publicKey: Uint8Array): string {
  if (publicKey.length !== 32) throw new Error(`an Ed25519 public key is 32 bytes, got ${publicKey.length}`);
  return bs58.encode(publicKey);
}

export function verkeyToX25519(verkey: string): Uint8Array {
  return sodiumReady().crypto_sign_ed25519_pk_to_curve25519(verkeyToBytes(verkey));
}

/** The unqualified did:sov-style DID ACA-Py derives from a verkey: base58 of its first 16 bytes. */
export function verkeyToDid(verkey: string): string {
  return bs58.encode(verkeyToBytes(verkey).subarray(0, 16));
}
