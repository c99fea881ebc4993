import { type AgentEvent, AgentEventSchema, decodeEnvelope } from "@acapy-bridge/protocol";

/** One ACA-Py event as a controller's handler gets it. */
export interface ControllerEvent {
  /** The stream entry id: unique per event and stream, so with `partition` it recognises a second delivery. */
  readonly entryId: string;
  readonly partition: number;
  /** The event's message id, written once by the shim: the key for recognising duplicates across partitions. */
  readonly mid: string;
  /** ACA-Py's event topic, e.g. "acapy::record::connections::active". */
  readonly topic: string;
  /** The webhook topic ACA-Py would post to, e.g. "connections"; "" for events ACA-Py sends no webhook for. */
  readonly webhookTopic: string;
  /** The sub-wallet's id in a multitenant ACA-Py; "" for the base wallet. */
  readonly walletId: string;
  /** The webhook body: ACA-Py's JSON payload, parsed. */
  readonly payload: unknown;
  readonly orderingKey: string;
  readonly createdAtMs: number;
  /** 1 the first time this consumer group hands the event out; more after a takeover or a failed handler. */
  readonly attempt: number;
}

export class EventDecodeError extends Error {
  override name = "EventDecodeError";
}

/** Decodes one events stream entry's `AgentEvent` (the payload stays JSON text until `parsePayload`). */
export function decodeAgentEvent(payload: Uint8Array): AgentEvent {
  try {
    return decodeEnvelope(AgentEventSchema, payload);
  } catch (error) {
    throw new EventDecodeError(`not an AgentEvent envelope: ${(error as Error).message}`);
  }
}

export function toControllerEvent(
  event: AgentEvent,
  where: { entryId: string; partition: number; attempt: number },
): ControllerEvent {
  let payload: unknown;
  const text = Buffer.from(event.payloadJson).toString("utf8");
  try {
    payload = text ? JSON.parse(text) : null;
  } catch (error) {
    throw new EventDecodeError(
      `event ${event.mid} (${event.topic}) has a payload that is not JSON: ${(error as Error).message}`,
    );
  }
  return {
    entryId: where.entryId,
    partition: where.partition,
    mid: event.mid,
    topic: event.topic,
    webhookTopic: event.webhookTopic,
    walletId: event.walletId,
    payload,
    orderingKey: event.orderingKey,
    createdAtMs: Number(event.createdAtMs),
    attempt: where.attempt,
  };
}
