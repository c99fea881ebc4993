import { randomUUID } from "node:crypto";
import { toVerkey } from "./did-key.js";
import { pythonStyleJson, utf8 } from "./encoding.js";
import type { JweEnvelope } from "./envelope.js";
import { packEnvelope } from "./envelope-pack.js";

export const FORWARD_TYPE = "https://didcomm.org/routing/1.0/forward";

export interface ForwardMessage {
  "@type": typeof FORWARD_TYPE;
  "@id": string;
  /** The base58 verkey the next hop should deliver `msg` to. */
  to: string;
  msg: JweEnvelope;
}

export function forwardMessage(to: string, msg: JweEnvelope): ForwardMessage {
  return { "@type": FORWARD_TYPE, "@id": randomUUID(), to: toVerkey(to), msg };
}

/**
 * Wraps an envelope for each routing key in order, as ACA-Py does: the first routing key is the
 * hop nearest the recipient, each Forward names the previous hop's key (initially the first
 * recipient key), and every Forward is anoncrypted to its routing key.
 */
export function wrapInForwards(
  envelope: JweEnvelope,
  recipientKeys: readonly string[],
  routingKeys: readonly string[],
): JweEnvelope {
  const firstRecipient = recipientKeys[0];
  if (firstRecipient === undefined) throw new Error("cannot route a message without recipient keys");
  let wrapped = envelope;
  let to = firstRecipient;
  for (const routingKey of routingKeys) {
    wrapped = packEnvelope(utf8(pythonStyleJson(forwardMessage(to, wrapped))), [routingKey]);
    to = routingKey;
  }
  return wrapped;
}
