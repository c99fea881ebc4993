import { decodeEnvelope, type JobKind, type OutboundJob, OutboundJobSchema } from "@acapy-bridge/protocol";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";

/**
 * The OutboundJob fields this decoder knows, as `number name kind type`; they
 * are compared with the generated schema when the module loads, so a change
 * of the contract switches the fast path off instead of losing a field.
 */
const KNOWN_FIELDS = [
  "1 mid scalar 9",
  "2 kind enum",
  "3 recipientKey scalar 9",
  "4 endpoint scalar 9",
  "5 contentType scalar 9",
  "6 body scalar 12",
  "7 headers map 9:9",
  "8 createdAtMs scalar 3",
  "9 expiresAtMs scalar 3",
  "10 walletId scalar 9",
  "11 connectionId scalar 9",
  "12 recipientKeys list 9",
  "13 routingKeys list 9",
  "14 producerId scalar 9",
].join(",");

function describeSchemaFields(): string {
  return OutboundJobSchema.fields
    .map((f) => {
      switch (f.fieldKind) {
        case "scalar":
          return `${f.number} ${f.localName} scalar ${f.scalar}`;
        case "enum":
          return `${f.number} ${f.localName} enum`;
        case "map":
          return `${f.number} ${f.localName} map ${f.mapKey}:${f.mapKind === "scalar" ? f.scalar : f.mapKind}`;
        case "list":
          return `${f.number} ${f.localName} list ${f.listKind === "scalar" ? f.scalar : f.listKind}`;
        default:
          return `${f.number} ${f.localName} ${f.fieldKind}`;
      }
    })
    .join(",");
}

/** proto3 strings must be valid UTF-8; the generic decoder rejects them otherwise, and so does this one. */
const STRICT_UTF8 = true;

/** True when the generated OutboundJob is exactly the one this decoder was written for. */
export const fastDecoderMatchesContract =
  describeSchemaFields() === KNOWN_FIELDS && OutboundJobSchema.fields.every((f) => f.utf8Validation === STRICT_UTF8);

/** Thrown inside the fast path for anything unusual; the generic decoder then decides. */
class Unusual extends Error {}

function expectWireType(actual: WireType, expected: WireType): void {
  if (actual !== expected) throw new Unusual();
}

function fastDecode(bytes: Uint8Array): OutboundJob {
  const reader = new BinaryReader(bytes);
  const job: OutboundJob = {
    $typeName: "acapy_bridge.v1.OutboundJob",
    mid: "",
    kind: 0 as JobKind,
    recipientKey: "",
    endpoint: "",
    contentType: "",
    body: new Uint8Array(0),
    headers: {},
    createdAtMs: 0n,
    expiresAtMs: 0n,
    walletId: "",
    connectionId: "",
    recipientKeys: [],
    routingKeys: [],
    producerId: "",
  };
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    switch (field) {
      case 1:
        expectWireType(wireType, WireType.LengthDelimited);
        job.mid = reader.string(STRICT_UTF8);
        break;
      case 2:
        expectWireType(wireType, WireType.Varint);
        job.kind = reader.int32() as JobKind;
        break;
      case 3:
        expectWireType(wireType, WireType.LengthDelimited);
        job.recipientKey = reader.string(STRICT_UTF8);
        break;
      case 4:
        expectWireType(wireType, WireType.LengthDelimited);
        job.endpoint = reader.string(STRICT_UTF8);
        break;
      case 5:
        expectWireType(wireType, WireType.LengthDelimited);
        job.contentType = reader.string(STRICT_UTF8);
        break;
      case 6:
        expectWireType(wireType, WireType.LengthDelimited);
        job.body = reader.bytes();
        break;
      case 7: {
        expectWireType(wireType, WireType.LengthDelimited);
        const end = reader.uint32() + reader.pos;
        let key = "";
        let value = "";
        while (reader.pos < end) {
          const [entryField, entryWireType] = reader.tag();
          expectWireType(entryWireType, WireType.LengthDelimited);
          if (entryField === 1) key = reader.string(STRICT_UTF8);
          else if (entryField === 2) value = reader.string(STRICT_UTF8);
          else throw new Unusual();
        }
        if (reader.pos !== end) throw new Unusual();
        job.headers[key] = value;
        break;
      }
      case 8:
        expectWireType(wireType, WireType.Varint);
        job.createdAtMs = BigInt(reader.int64());
        break;
      case 9:
        expectWireType(wireType, WireType.Varint);
        job.expiresAtMs = BigInt(reader.int64());
        break;
      case 10:
        expectWireType(wireType, WireType.LengthDelimited);
        job.walletId = reader.string(STRICT_UTF8);
        break;
      case 11:
        expectWireType(wireType, WireType.LengthDelimited);
        job.connectionId = reader.string(STRICT_UTF8);
        break;
      case 12:
        expectWireType(wireType, WireType.LengthDelimited);
        job.recipientKeys.push(reader.string(STRICT_UTF8));
        break;
      case 13:
        expectWireType(wireType, WireType.LengthDelimited);
        job.routingKeys.push(reader.string(STRICT_UTF8));
        break;
      case 14:
        expectWireType(wireType, WireType.LengthDelimited);
        job.producerId = reader.string(STRICT_UTF8);
        break;
      default:
        // Unknown fields (a newer producer) are dropped, as the generic decoder does.
        reader.skip(wireType, field);
    }
  }
  if (reader.pos !== reader.len || job.mid === "") throw new Unusual();
  return job;
}

/**
 * Decodes an OutboundJob read from a partition, exactly as
 * `decodeEnvelope(OutboundJobSchema, ...)` does (same result, same
 * EnvelopeDecodeError), about five times faster: the generic decoder walks the
 * schema by reflection for every field of every job, and decoding was the
 * largest share of the deliverer's own work per message. Anything unusual
 * (unexpected wire types, truncation, a missing mid) goes to the generic
 * decoder, which accepts it or names the error.
 */
export function decodeOutboundJob(bytes: Uint8Array): OutboundJob {
  if (fastDecoderMatchesContract) {
    try {
      return fastDecode(bytes);
    } catch {
      // fall through: the generic decoder accepts it or throws the canonical error
    }
  }
  return decodeEnvelope(OutboundJobSchema, bytes);
}
