import { readFileSync } from "node:fs";
import sodium from "libsodium-wrappers-sumo";
import { beforeAll, describe, expect, it } from "vitest";
import { fromBase64Url, fromUtf8, toBase64Url, utf8 } from "./encoding.js";
import type { JweEnvelope, ProtectedHeader } from "./envelope.js";
import { DidcommUnpackError } from "./envelope-unpack.js";
import { generateKeyPair } from "./keys.js";
import { basicMessage, trustPing } from "./messages.js";
import { TestAgent } from "./test-agent.js";

/** Envelopes written by ACA-Py 1.7.0's askar `pack_message` (see test-fixtures/make-askar-envelopes.py). */
const askar = JSON.parse(readFileSync(new URL("../test-fixtures/askar-envelopes.json", import.meta.url), "utf8")) as {
  seeds: Record<"sender" | "recipient" | "other", string>;
  verkeys: Record<"sender" | "recipient" | "other", string>;
  message: string;
  authcrypt: string;
  anoncrypt: string;
};

let alice: TestAgent;
let bob: TestAgent;

beforeAll(async () => {
  alice = await TestAgent.create("alice");
  bob = await TestAgent.create("bob");
});

function decodeEnvelope(bytes: Uint8Array): { envelope: JweEnvelope; header: ProtectedHeader } {
  const envelope = JSON.parse(fromUtf8(bytes)) as JweEnvelope;
  return { envelope, header: JSON.parse(fromUtf8(fromBase64Url(envelope.protected))) as ProtectedHeader };
}

describe("pack/unpack", () => {
  it("round-trips an authcrypted message and authenticates the sender", () => {
    const ping = trustPing({ returnRoute: "all" });
    const unpacked = bob.unpack(alice.pack(ping, [bob.verkey]));
    expect(unpacked).toEqual({ message: ping, senderVerkey: alice.verkey, recipientVerkey: bob.verkey });
  });

  it("round-trips an anoncrypted message without revealing the sender", () => {
    const message = basicMessage("hello");
    const unpacked = bob.unpack(alice.pack(message, [bob.verkey], { anoncrypt: true }));
    expect(unpacked.message).toEqual(message);
    expect(unpacked.recipientVerkey).toBe(bob.verkey);
    expect(unpacked).not.toHaveProperty("senderVerkey");
  });

  it("lets each of several recipients open the same envelope, addressed by base58 or did:key", async () => {
    const carol = await TestAgent.create("carol");
    const packed = alice.pack(basicMessage("to both"), [bob.didKey, carol.verkey]);
    expect(bob.unpack(packed).recipientVerkey).toBe(bob.verkey);
    expect(carol.unpack(packed).recipientVerkey).toBe(carol.verkey);
  });

  it("writes the envelope in askar's shape", () => {
    const { envelope, header } = decodeEnvelope(alice.pack(trustPing(), [bob.verkey]));
    expect(Object.keys(envelope)).toEqual(["protected", "iv", "ciphertext", "tag"]);
    expect(Object.keys(header)).toEqual(["enc", "typ", "alg", "recipients"]);
    expect(header).toMatchObject({ enc: "xchacha20poly1305_ietf", typ: "JWM/1.0", alg: "Authcrypt" });
    const [recipient] = header.recipients;
    expect(Object.keys(recipient?.header ?? {})).toEqual(["kid", "sender", "iv"]);
    expect(recipient?.header.kid).toBe(bob.verkey);
    for (const field of [envelope.protected, envelope.iv, envelope.ciphertext, envelope.tag]) {
      expect(field).toMatch(/^[A-Za-z0-9_-]+$/); // base64url, unpadded
    }
    expect(fromBase64Url(envelope.iv)).toHaveLength(12);
    expect(fromBase64Url(envelope.tag)).toHaveLength(16);
    expect(fromBase64Url(recipient?.header.iv ?? "")).toHaveLength(24);
    expect(fromBase64Url(recipient?.encrypted_key ?? "")).toHaveLength(32 + 16);
  });

  it("writes anoncrypt recipients with a kid only", () => {
    const { header } = decodeEnvelope(alice.pack(trustPing(), [bob.verkey], { anoncrypt: true }));
    expect(header.alg).toBe("Anoncrypt");
    expect(header.recipients[0]?.header).toEqual({ kid: bob.verkey });
    expect(fromBase64Url(header.recipients[0]?.encrypted_key ?? "")).toHaveLength(32 + 48);
  });
});

describe("unpacking ACA-Py's own envelopes", () => {
  it("opens an askar authcrypt envelope addressed to two recipients", async () => {
    const recipient = await TestAgent.create("recipient", { seed: askar.seeds.recipient });
    expect(recipient.verkey).toBe(askar.verkeys.recipient);
    const unpacked = recipient.unpack(askar.authcrypt);
    expect(unpacked.message).toEqual(JSON.parse(askar.message));
    expect(unpacked.senderVerkey).toBe(askar.verkeys.sender);
    expect(unpacked.recipientVerkey).toBe(askar.verkeys.recipient);
  });

  it("opens an askar anoncrypt envelope", async () => {
    const recipient = await TestAgent.create("recipient", { seed: askar.seeds.recipient });
    const unpacked = recipient.unpack(askar.anoncrypt);
    expect(unpacked.message).toEqual(JSON.parse(askar.message));
    expect(unpacked.senderVerkey).toBeUndefined();
  });
});

describe("tolerant reading", () => {
  it("accepts a 24-byte XChaCha20 payload nonce from senders that took `enc` literally, and padded base64url", () => {
    const cek = sodium.crypto_aead_xchacha20poly1305_ietf_keygen();
    const header: ProtectedHeader = {
      enc: "xchacha20poly1305_ietf",
      typ: "JWM/1.0",
      alg: "Anoncrypt",
      recipients: [
        {
          encrypted_key: toBase64Url(sodium.crypto_box_seal(cek, bob.keyPair.x25519PublicKey)),
          header: { kid: bob.verkey },
        },
      ],
    };
    const protectedB64 = Buffer.from(JSON.stringify(header)).toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
    const iv = sodium.randombytes_buf(24);
    const message = basicMessage("literal xchacha");
    const { ciphertext, mac } = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
      utf8(JSON.stringify(message)),
      utf8(protectedB64),
      null,
      iv,
      cek,
    );
    const envelope = {
      protected: protectedB64,
      iv: `${toBase64Url(iv)}`,
      ciphertext: Buffer.from(ciphertext).toString("base64"),
      tag: Buffer.from(mac).toString("base64"),
    };
    expect(bob.unpack(JSON.stringify(envelope)).message).toEqual(message);
  });
});

describe("rejecting bad envelopes", () => {
  function tamper(bytes: Uint8Array, field: keyof JweEnvelope): string {
    const envelope = JSON.parse(fromUtf8(bytes)) as JweEnvelope;
    const raw = Buffer.from(fromBase64Url(envelope[field] as string));
    raw[raw.length - 1] = (raw[raw.length - 1] ?? 0) ^ 0x01;
    return JSON.stringify({ ...envelope, [field]: raw.toString("base64url") });
  }

  it.each(["ciphertext", "tag", "iv"] as const)("fails clearly when the %s was altered", (field) => {
    const tampered = tamper(alice.pack(basicMessage("secret"), [bob.verkey]), field);
    expect(() => bob.unpack(tampered)).toThrow(DidcommUnpackError);
    expect(() => bob.unpack(tampered)).toThrow(/payload authentication failed/);
  });

  it("fails when the protected header was altered (it is the AEAD's associated data)", () => {
    const envelope = JSON.parse(fromUtf8(alice.pack(basicMessage("secret"), [bob.verkey]))) as JweEnvelope;
    const header = JSON.parse(fromUtf8(fromBase64Url(envelope.protected))) as Record<string, unknown>;
    header.extra = "x";
    const altered = { ...envelope, protected: Buffer.from(JSON.stringify(header)).toString("base64url") };
    expect(() => bob.unpack(JSON.stringify(altered))).toThrow(/payload authentication failed/);
  });

  it("fails when the encrypted CEK was altered", () => {
    const envelope = JSON.parse(fromUtf8(alice.pack(basicMessage("secret"), [bob.verkey]))) as JweEnvelope;
    const header = JSON.parse(fromUtf8(fromBase64Url(envelope.protected))) as ProtectedHeader;
    const recipient = header.recipients[0];
    if (!recipient) throw new Error("no recipient");
    const cek = Buffer.from(fromBase64Url(recipient.encrypted_key));
    cek[0] = (cek[0] ?? 0) ^ 0x01;
    recipient.encrypted_key = cek.toString("base64url");
    const altered = { ...envelope, protected: Buffer.from(JSON.stringify(header)).toString("base64url") };
    expect(() => bob.unpack(JSON.stringify(altered))).toThrow(/cannot decrypt the content key/);
  });

  it("names the recipient keys when none is ours", () => {
    const stranger = generateKeyPair().verkey;
    expect(() => bob.unpack(alice.pack(trustPing(), [stranger]))).toThrow(
      new RegExp(`none of the recipient keys.*${stranger}`),
    );
  });

  it("says so when handed a plaintext message", () => {
    expect(() => bob.unpack(JSON.stringify(trustPing()))).toThrow(/plaintext message/);
  });
});
