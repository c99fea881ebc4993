import { beforeAll, describe, expect, it } from "vitest";
import { didKeyToVerkey, toVerkey, verkeyToDidKey } from "./did-key.js";
import { generateKeyPair, verkeyToDid } from "./keys.js";
import { initDidcomm } from "./sodium.js";

// The well-known indy "Trustee1" key; did:key computed by ACA-Py 1.7.0's DIDKey.from_public_key_b58.
const TRUSTEE_SEED = "000000000000000000000000Trustee1";
const TRUSTEE_VERKEY = "GJ1SzoWzavQYfNL9XkaJdrQejfztN4XqdsiV4ct3LXKL";
const TRUSTEE_DID = "V4SGRU86Z58d6TV7PBUe6f";
const TRUSTEE_DID_KEY = "did:key:z6MkukGVb3mRvTu1msArDKY9UwxeZFGjmwnCKtdQttr4Fk6i";
const TRUSTEE_PUBLIC_HEX = "e33aaf381fffa6109ad591fdc38717945f8fabf7abf02086ae401c63e9913097";

beforeAll(initDidcomm);

describe("keys", () => {
  it("derives the indy verkey and DID from a 32-byte seed as ACA-Py does", () => {
    const key = generateKeyPair(TRUSTEE_SEED);
    expect(key.verkey).toBe(TRUSTEE_VERKEY);
    expect(Buffer.from(key.publicKey).toString("hex")).toBe(TRUSTEE_PUBLIC_HEX);
    expect(verkeyToDid(key.verkey)).toBe(TRUSTEE_DID);
    expect(key.x25519PublicKey).toHaveLength(32);
    expect(key.x25519SecretKey).toHaveLength(32);
  });

  it("rejects seeds that are not 32 bytes", () => {
    expect(() => generateKeyPair("short")).toThrow(/32 bytes/);
  });
});

describe("did:key", () => {
  it("encodes an Ed25519 verkey with the 0xed01 multicodec and base58btc", () => {
    expect(verkeyToDidKey(TRUSTEE_VERKEY)).toBe(TRUSTEE_DID_KEY);
    expect(TRUSTEE_DID_KEY.startsWith("did:key:z6Mk")).toBe(true);
  });

  it("decodes with or without a key fragment", () => {
    expect(didKeyToVerkey(TRUSTEE_DID_KEY)).toBe(TRUSTEE_VERKEY);
    expect(didKeyToVerkey(`${TRUSTEE_DID_KEY}#${TRUSTEE_DID_KEY.slice(8)}`)).toBe(TRUSTEE_VERKEY);
  });

  it("round-trips random keys", () => {
    for (let i = 0; i < 20; i++) {
      const { verkey } = generateKeyPair();
      expect(didKeyToVerkey(verkeyToDidKey(verkey))).toBe(verkey);
    }
  });

  it("normalises either form to a base58 verkey", () => {
    expect(toVerkey(TRUSTEE_DID_KEY)).toBe(TRUSTEE_VERKEY);
    expect(toVerkey(TRUSTEE_VERKEY)).toBe(TRUSTEE_VERKEY);
    expect(() => toVerkey("not-a-key!")).toThrow(/base58/);
  });

  it("refuses a did:key of another key type", () => {
    // An X25519 did:key (multicodec 0xec01) from the did:key spec.
    expect(() => didKeyToVerkey("did:key:z6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc")).toThrow(/not an Ed25519/);
  });
});
