import bs58 from "bs58";
import { bytesToVerkey, verkeyToBytes } from "./keys.js";

/** The varint multicodec prefix of an ed25519-pub key. */
const ED25519_PUB_MULTICODEC = Uint8Array.of(0xed, 0x01);

export function verkeyToDidKey(verkey: string): string {
  const publicKey = verkeyToBytes(verkey);
  const prefixed = new Uint8Array(ED25519_PUB_MULTICODEC.length + publicKey.length);
  prefixed.set(ED25519_PUB_MULTICODEC);
  prefixed.set(publicKey, ED25519_PUB_MULTICODEC.length);
  return `did:key:z${bs58.encode(prefixed)}`;
}

/** Accepts `did:key:z6Mk…` with or without a `#z6Mk…` key fragment (invitations carry both). */
export function didKeyToVerkey(didKey: string): string {
  const match = /^did:key:z([1-9A-HJ-NP-Za-km-z]+)(?:#.*)?$/.exec(didKey);
  if (!match?.[1]) throw new Error(`not a base58btc did:key: ${JSON.stringify(didKey)}`);
  const decoded = bs58.decode(match[1]);
  if (decoded[0] !== ED25519_PUB_MULTICODEC[0] || decoded[1] !== ED25519_PUB_MULTICODEC[1]) {
    throw new Error(`did:key is not an Ed25519 key: ${didKey}`);
  }
  return bytesToVerkey(decoded.subarray(ED25519_PUB_MULTICODEC.length));
}

/** A recipient or routing key as ACA-Py may hand it out (base58 verkey or did:key) → base58 verkey. */
export function toVerkey(key: string): string {
  return key.startsWith("did:key:") ? didKeyToVerkey(key) : bytesToVerkey(verkeyToBytes(key));
}
