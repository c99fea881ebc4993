import { type DescMessage, fromBinary, type MessageShape, toBinary } from "@bufbuild/protobuf";
import {
  AdminRequestSchema,
  AdminResponseSchema,
  AgentEventSchema,
  AgentMessageSchema,
  DeadLetterSchema,
  DirectReplySchema,
  OutboundJobSchema,
  ParkedJobSchema,
  RelayCommandSchema,
  WalletMessageSchema,
  WalletRouteSchema,
} from "../gen/acapy_bridge/v1/envelopes_pb.js";

/** An envelope read from Redis could not be decoded: truncated, garbage or incomplete. */
export class EnvelopeDecodeError extends Error {
  constructor(
    readonly typeName: string,
    readonly byteLength: number,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot decode ${typeName} (${byteLength} bytes): ${reason}`, options);
    this.name = "EnvelopeDecodeError";
  }
}

// Random bytes can parse as a protobuf full of unknown fields, so an envelope
// is only accepted when the field that identifies it is present.
const identityChecks = new Map<string, (m: never) => boolean>([
  [AgentMessageSchema.typeName, (m: { mid: string }) => m.mid !== ""],
  [DirectReplySchema.typeName, (m: { mid: string }) => m.mid !== ""],
  [WalletMessageSchema.typeName, (m: { mid: string }) => m.mid !== ""],
  [OutboundJobSchema.typeName, (m: { mid: string }) => m.mid !== ""],
  [AgentEventSchema.typeName, (m: { mid: string }) => m.mid !== ""],
  [AdminRequestSchema.typeName, (m: { mid: string }) => m.mid !== ""],
  [AdminResponseSchema.typeName, (m: { mid: string }) => m.mid !== ""],
  [DeadLetterSchema.typeName, (m: { mid: string }) => m.mid !== ""],
  [ParkedJobSchema.typeName, (m: { job?: { mid: string } }) => (m.job?.mid ?? "") !== ""],
  [RelayCommandSchema.typeName, (m: { command: { case: string | undefined } }) => m.command.case !== undefined],
  [WalletRouteSchema.typeName, (m: { relayId: string; socketId: string }) => m.relayId !== "" && m.socketId !== ""],
]);

export function encodeEnvelope<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): Uint8Array {
  return toBinary(schema, message);
}

/** Decodes an envelope, or throws EnvelopeDecodeError; never returns a half-valid message. */
export function decodeEnvelope<Desc extends DescMessage>(schema: Desc, bytes: Uint8Array): MessageShape<Desc> {
  let message: MessageShape<Desc>;
  try {
    message = fromBinary(schema, bytes, { readUnknownFields: false });
  } catch (cause) {
    throw new EnvelopeDecodeError(schema.typeName, bytes.byteLength, (cause as Error).message, { cause });
  }
  const isComplete = identityChecks.get(schema.typeName) as ((m: MessageShape<Desc>) => boolean) | undefined;
  if (isComplete && !isComplete(message)) {
    throw new EnvelopeDecodeError(schema.typeName, bytes.byteLength, "identifying field missing");
  }
  return message;
}
