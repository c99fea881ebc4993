import type { AgentEvent } from "@acapy-bridge/protocol";

/**
 * Which events a controller application wants. Every given criterion must match;
 * an omitted one matches everything. Events that do not match are acknowledged
 * for the group without calling the handler.
 */
export interface EventFilter {
  /** ACA-Py event topics: exact strings or patterns, e.g. /^acapy::record::connections::/. */
  topics?: readonly (string | RegExp)[];
  /** Webhook topics, e.g. ["connections", "basicmessages"]. */
  webhookTopics?: readonly string[];
  /** Sub-wallet ids; "" is the base wallet. */
  walletIds?: readonly string[];
}

export function matchesFilter(filter: EventFilter | undefined, event: AgentEvent): boolean {
  if (!filter) return true;
  if (filter.topics && !filter.topics.some((t) => (typeof t === "string" ? t === event.topic : t.test(event.topic)))) {
    return false;
  }
  if (filter.webhookTopics && !filter.webhookTopics.includes(event.webhookTopic)) return false;
  if (filter.walletIds && !filter.walletIds.includes(event.walletId)) return false;
  return true;
}
