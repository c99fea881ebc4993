import { describe, expect, it } from "vitest";
import { fakeJwe, randomVerkey } from "../test-fixtures/fake-envelopes.js";
import { inspectEnvelope, isBase58Verkey } from "./envelope-recipient.js";

describe("routing key of an envelope", () => {
  it("is the first recipient kid of the JWE protected header, and anoncrypt cannot get a direct response", () => {
    const kid = randomVerkey();
    expect(inspectEnvelope(fakeJwe(kid, "Authcrypt"))).toEqual({
      ok: true,
      routingKey: kid,
      form: "authcrypt",
      mayGetDirectResponse: true,
    });
    expect(inspectEnvelope(fakeJwe(kid, "Anoncrypt"))).toMatchObject({ routingKey: kid, mayGetDirectResponse: false });
  });

  it("falls back to sha256 of the body for a kid that is not a base58 verkey", () => {
    const result = inspectEnvelope(fakeJwe("did:example:123#key-1"));
    expect(result.ok && result.routingKey).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(isBase58Verkey("0OIl")).toBe(false);
    expect(isBase58Verkey("{tag}")).toBe(false);
  });

  it("accepts a plaintext DIDComm message and rejects JSON that is no envelope", () => {
    expect(inspectEnvelope(Buffer.from('{"@type":"https://didcomm.org/trust_ping/1.0/ping"}')).ok).toBe(true);
    expect(inspectEnvelope(Buffer.from('{"a":1}'))).toMatchObject({ ok: false, reason: "not_envelope" });
    expect(inspectEnvelope(Buffer.from("  \n"))).toMatchObject({ ok: false, reason: "empty" });
  });
});
