import { randomBytes } from "node:crypto";
import {
  decodeEnvelope,
  EnvelopeDecodeError,
  encodeEnvelope,
  JobKind,
  type OutboundJob,
  OutboundJobSchema,
} from "@acapy-bridge/protocol";
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { decodeOutboundJob, fastDecoderMatchesContract } from "./outbound-job-decoder.js";

function generic(bytes: Uint8Array): OutboundJob | string {
  try {
    return decodeEnvelope(OutboundJobSchema, bytes);
  } catch (error) {
    return (error as Error).message;
  }
}

function fast(bytes: Uint8Array): OutboundJob | string {
  try {
    return decodeOutboundJob(bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(EnvelopeDecodeError);
    return (error as Error).message;
  }
}

const full = create(OutboundJobSchema, {
  mid: "01JD0000000000000000000009",
  kind: JobKind.WEBHOOK,
  recipientKey: "webhook:conn-1",
  endpoint: "https://controller.example/topic/connections/",
  contentType: "application/json",
  body: new TextEncoder().encode('{"state":"active","ü":"✓"}'),
  headers: { "x-api-key": "secret", "x-wallet-id": "w1", "": "empty name" },
  createdAtMs: 1_732_780_800_000n,
  expiresAtMs: -1n,
  walletId: "w1",
  connectionId: "conn-1",
  recipientKeys: ["k1", "k2"],
  routingKeys: ["r1"],
  producerId: "shim-1",
});

describe("the fast OutboundJob decoder", () => {
  it("is on for the contract it was written for", () => {
    expect(fastDecoderMatchesContract).toBe(true);
  });

  it("gives what the generic decoder gives, for full, minimal and default-valued jobs", () => {
    const jobs = [full, create(OutboundJobSchema, { mid: "m" }), create(OutboundJobSchema, { ...full, headers: {} })];
    for (const job of jobs) {
      const bytes = encodeEnvelope(OutboundJobSchema, job);
      expect(fast(bytes)).toEqual(generic(bytes));
      expect(fast(bytes)).toEqual(job);
    }
  });

  it("drops unknown fields as the generic decoder does", () => {
    const known = encodeEnvelope(OutboundJobSchema, full);
    // field 99, length-delimited, 3 bytes; field 98, varint
    const unknown = Uint8Array.from([0x9a, 0x06, 3, 1, 2, 3, 0x90, 0x06, 0x7f]);
    const bytes = new Uint8Array([...known, ...unknown]);
    expect(fast(bytes)).toEqual(generic(bytes));
  });

  it("accepts or rejects corrupt input exactly as the generic decoder does", () => {
    const valid = encodeEnvelope(OutboundJobSchema, full);
    const inputs: Uint8Array[] = [new Uint8Array(0), Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff])];
    for (let cut = 1; cut < valid.length; cut += 7) inputs.push(valid.subarray(0, cut));
    for (let i = 0; i < 300; i++) {
      const flipped = Uint8Array.from(valid);
      flipped[i % flipped.length] = randomBytes(1)[0] as number;
      inputs.push(flipped);
      inputs.push(randomBytes(1 + (i % 64)));
    }
    for (const bytes of inputs) expect(fast(bytes)).toEqual(generic(bytes));
  });
});
