import { fuzzSeed, seededRandom } from "@acapy-bridge/test-harness";
import { type DescMessage, fromJson, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { loadTestVectors } from "../../test-fixtures/test-vectors.js";
import { file_acapy_bridge_v1_envelopes } from "../gen/acapy_bridge/v1/envelopes_pb.js";
import { decodeEnvelope, EnvelopeDecodeError, encodeEnvelope } from "./envelope-codec.js";

const vectors = loadTestVectors();
const schemas = new Map<string, DescMessage>(file_acapy_bridge_v1_envelopes.messages.map((m) => [m.typeName, m]));

describe("envelope codec", () => {
  it("encodes every envelope byte for byte as the shared vectors", () => {
    for (const v of vectors.envelopes) {
      const schema = schemas.get(v.type) as DescMessage;
      const message = fromJson(schema, v.json as never);
      expect(Buffer.from(encodeEnvelope(schema, message)).toString("hex"), v.type).toBe(v.hex);
    }
    expect(vectors.envelopes.map((v) => v.type).sort()).toEqual([...schemas.keys()].sort());
  });

  it("decodes every shared vector to the same message", () => {
    for (const v of vectors.envelopes) {
      const schema = schemas.get(v.type) as DescMessage;
      const decoded = decodeEnvelope(schema, Buffer.from(v.hex, "hex"));
      expect(Buffer.from(toBinary(schema, decoded)).toString("hex")).toBe(v.hex);
    }
  });

  it("throws a typed error for truncated, garbage or incomplete envelopes", () => {
    for (const v of vectors.malformed) {
      const schema = schemas.get(v.type) as DescMessage;
      const attempt = () => decodeEnvelope(schema, Buffer.from(v.hex, "hex"));
      expect(attempt, v.why).toThrow(EnvelopeDecodeError);
      try {
        attempt();
      } catch (error) {
        expect((error as EnvelopeDecodeError).typeName).toBe(v.type);
      }
    }
  });

  const seed = fuzzSeed();
  it(`never throws anything but EnvelopeDecodeError on random bytes (FUZZ_SEED=${seed})`, () => {
    const schema = schemas.get("acapy_bridge.v1.OutboundJob") as DescMessage;
    const random = seededRandom(seed);
    for (let i = 0; i < 2000; i++) {
      const bytes = Buffer.from(Array.from({ length: 1 + (i % 64) }, () => Math.floor(random() * 256)));
      try {
        decodeEnvelope(schema, bytes);
      } catch (error) {
        expect(error).toBeInstanceOf(EnvelopeDecodeError);
      }
    }
  });
});
