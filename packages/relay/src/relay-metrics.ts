import { Counter, Gauge, Histogram, LATENCY_BUCKETS, type Registry } from "@acapy-bridge/operability";
import { DeadLetterReason, WalletCount, walletCountField } from "@acapy-bridge/protocol";

const WALLET_DEAD_LETTER_REASONS = [DeadLetterReason.MAILBOX_FULL, DeadLetterReason.EXPIRED].map(
  (r) => DeadLetterReason[r],
);

const MAILBOX_MOVES = { in: WalletCount.MAILBOX_IN, out: WalletCount.MAILBOX_OUT };
const ROUTE_CHANGES = {
  registered: WalletCount.ROUTE_REGISTERED,
  replaced: WalletCount.ROUTE_REPLACED,
  cleared: WalletCount.ROUTE_CLEARED,
};

/**
 * Shares one in-flight read among the callers that ask while it runs: a scrape collects every
 * metric at once, and the three wallet-count metrics then cost one HGETALL, not three.
 */
function sharedRead<T>(read: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  return () => {
    inFlight ??= read().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
}

/** A gauge labelled by partition, read at scrape time; on a failed read it keeps its last values. */
function perPartitionGauge(
  registry: Registry,
  name: string,
  help: string,
  read: () => Promise<number[]>,
): Gauge<"partition"> {
  return new Gauge({
    name,
    help,
    labelNames: ["partition"],
    registers: [registry],
    async collect() {
      try {
        (await read()).forEach((n, p) => {
          this.set({ partition: String(p) }, n);
        });
      } catch {
        // Redis away: keep the last values; readiness says the rest.
      }
    },
  });
}

function walletCount(counts: Record<string, string>, count: WalletCount): number {
  return Number(counts[walletCountField(count)]) || 0;
}

/**
 * A counter of deployment-wide totals kept in Redis (one label value per `WalletCount`), read at
 * scrape time; on a failed read it keeps its last values.
 */
function walletCountCounter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  label: L,
  byLabel: Record<string, WalletCount>,
  read: () => Promise<Record<string, string>>,
): Counter<L> {
  return new Counter({
    name,
    help,
    labelNames: [label],
    registers: [registry],
    async collect() {
      try {
        const counts = await read();
        this.reset();
        for (const [value, count] of Object.entries(byLabel)) {
          this.inc({ [label]: value } as Record<L, string>, walletCount(counts, count));
        }
      } catch {
        // Redis away: keep the last values; readiness says the rest.
      }
    },
  });
}

/** Why a message got the answer it got (label `outcome`). */
export type RequestOutcome =
  | "answered" // HTTP: ACA-Py's reply (200 with or without body, 400, 500) went back
  | "accepted" // HTTP: written, answered without waiting (anoncrypt) or 202 after the reply timeout
  | "no_live_shim" // HTTP: written, answered 202 at once: no ACA-Py (shim) alive to give a direct response
  | "queued" // WebSocket frame written
  | "duplicate"
  | "bad_request"
  | "too_large"
  | "busy" // the inbound partition at its high-water mark (entries)
  | "busy_bytes" // ... at its high-water mark in bytes
  | "busy_recipient" // the partition filling and the recipient key over its share
  | "redis_unavailable"
  | "client_gone"
  | "shutting_down"
  | "over_budget"; // HTTP: refused unread, the process's body bytes in flight at their limit

export interface RelayMetrics {
  requests: Counter<"transport" | "outcome">;
  enqueueSeconds: Histogram<"transport">;
  directResponseSeconds: Histogram<"status">;
  returnedReplies: Counter<"reason">;
  inboxCommands: Counter<"command" | "result">;
  openSockets: Gauge;
  slowConsumers: Counter<"reason">;
  framesInFlight: Gauge;
  readPauses: Counter;
  latePongsStillReceiving: Counter;
  walletPushes: Counter<"result">;
  walletPushSeconds: Histogram;
  janitorRecovered: Counter<"command" | "result">;
  janitorLeaseLost: Counter;
  walletDeadLetters: Counter<"reason">;
  walletMailboxMessages: Gauge;
  walletMailboxMoves: Counter<"direction">;
  walletRouteChanges: Counter<"change">;
  liveShims: Gauge;
  pendingRequests: Gauge;
  inboundBacklog: Gauge<"partition">;
  inboundDeadLetters: Gauge<"partition">;
  inboxBacklog: Gauge;
  openConnections: Gauge;
  connectionsRefused: Counter<"reason">;
  rateLimited: Counter<"transport">;
  bodyBytesInFlight: Gauge;
  timedOut: Counter<"kind">;
}

/**
 * The relay's Prometheus metrics. `backlog` reads XLEN per partition at
 * scrape time: entries are deleted when acknowledged, so XLEN is exactly the
 * consumers' lag (written, not yet processed).
 */
export function createRelayMetrics(
  registry: Registry,
  gauges: {
    openSockets: () => number;
    /** Frames of all sockets being written to Redis right now. */
    framesInFlight: () => number;
    pendingRequests: () => number;
    /** Shims (ACA-Py instances) whose heartbeat is live, at the last read. */
    liveShims: () => number;
    /** DIDComm connections (HTTP and WebSocket) open now. */
    openConnections: () => number;
    /** Bytes of HTTP bodies held now (`BodyByteBudget`). */
    bodyBytesInFlight: () => number;
    inboundBacklog: () => Promise<number[]>;
    /** XLEN of every inbound dead-letter partition. */
    inboundDeadLetters: () => Promise<number[]>;
    inboxBacklog: () => Promise<number>;
    /** The deployment's wallet dead-letter counts by reason (`wallet_dead_letter_counts`). */
    walletDeadLetters: () => Promise<Record<string, string>>;
    /** The deployment's wallet mailbox and route counts by `WalletCount` name (`wallet_mailbox_and_route_counts`). */
    walletCounts: () => Promise<Record<string, string>>;
  },
): RelayMetrics {
  const walletCounts = sharedRead(gauges.walletCounts);
  return {
    requests: new Counter({
      name: "acapy_bridge_relay_messages_total",
      help: "DIDComm messages received by the relay, by transport and outcome.",
      labelNames: ["transport", "outcome"],
      registers: [registry],
    }),
    enqueueSeconds: new Histogram({
      name: "acapy_bridge_relay_enqueue_seconds",
      help: "Time to write one message to its inbound partition.",
      labelNames: ["transport"],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    directResponseSeconds: new Histogram({
      name: "acapy_bridge_relay_direct_response_seconds",
      help: "From the inbound write to ACA-Py's reply reaching the waiting HTTP request.",
      labelNames: ["status"],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    returnedReplies: new Counter({
      name: "acapy_bridge_relay_returned_replies_total",
      help: "Direct responses handed back to ACA-Py because their request or socket was gone.",
      labelNames: ["reason"],
      registers: [registry],
    }),
    inboxCommands: new Counter({
      name: "acapy_bridge_relay_inbox_commands_total",
      help: "Entries read from this relay's inbox, by command and result.",
      labelNames: ["command", "result"],
      registers: [registry],
    }),
    walletPushes: new Counter({
      name: "acapy_bridge_relay_wallet_pushes_total",
      help: "Wallet messages by what became of them here: confirmed by the wallet, returned to its mailbox, sent to its mailbox, drained to a session, or dropped as a live Message Pickup copy whose message stays in the mailbox (held_dropped).",
      labelNames: ["result"],
      registers: [registry],
    }),
    walletPushSeconds: new Histogram({
      name: "acapy_bridge_relay_wallet_push_seconds",
      help: "From the shim handing a wallet message to Redis until the wallet confirmed it (pong after the frame).",
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    janitorRecovered: new Counter({
      name: "acapy_bridge_relay_janitor_recovered_total",
      help: "Entries of dead relays' inboxes this relay's janitor re-routed, by command and result.",
      labelNames: ["command", "result"],
      registers: [registry],
    }),
    janitorLeaseLost: new Counter({
      name: "acapy_bridge_relay_janitor_lease_lost_total",
      help: "Janitor rounds this relay stopped because it could not renew the janitor lease (a round outlived it, or Redis was slow).",
      registers: [registry],
    }),
    walletDeadLetters: new Counter({
      name: "acapy_bridge_wallet_dead_letters_total",
      help: "Wallet messages dead-lettered in the whole deployment (MAILBOX_FULL, EXPIRED), counted in Redis by the shims; every relay reports the same totals.",
      labelNames: ["reason"],
      registers: [registry],
      // The shims (inside ACA-Py) have no metrics endpoint; they count in one small hash, read here
      // with one HGETALL per scrape. Its fields are the few DeadLetterReason names, so the series stay bounded.
      async collect() {
        try {
          const counts = await gauges.walletDeadLetters();
          this.reset();
          // Both wallet reasons are always present (0 until the first), so rate() and alerts see them from the start.
          for (const reason of WALLET_DEAD_LETTER_REASONS) this.inc({ reason }, 0);
          for (const [reason, count] of Object.entries(counts)) this.inc({ reason }, Number(count) || 0);
        } catch {
          // as above
        }
      },
    }),
    // Like the dead letters: shims, relays and the control API count in one small hash, read here
    // with one HGETALL per scrape (shared by the three metrics), so every relay reports the same
    // deployment-wide values: aggregate with max, not sum. On a failed read each keeps its last value.
    walletMailboxMessages: new Gauge({
      name: "acapy_bridge_wallet_mailbox_messages",
      help: "Messages waiting in all wallets' mailboxes in the whole deployment (approximate: stored minus taken, counted in Redis; never below 0); every relay reports the same value.",
      registers: [registry],
      async collect() {
        try {
          const counts = await walletCounts();
          // The count is bumped after the mailbox write, not with it: a lost bump (or mailboxes
          // filled before these counts existed) can leave "out" ahead of "in"; a depth is never negative.
          this.set(
            Math.max(0, walletCount(counts, WalletCount.MAILBOX_IN) - walletCount(counts, WalletCount.MAILBOX_OUT)),
          );
        } catch {
          // as above
        }
      },
    }),
    walletMailboxMoves: walletCountCounter(
      registry,
      "acapy_bridge_wallet_mailbox_moves_total",
      "Messages stored in (in) and taken from (out: moved to a session or expired) wallets' mailboxes in the whole deployment, counted in Redis; every relay reports the same totals.",
      "direction",
      MAILBOX_MOVES,
      walletCounts,
    ),
    walletRouteChanges: walletCountCounter(
      registry,
      "acapy_bridge_wallet_route_changes_total",
      "Wallet routes registered (no route before), replaced (by a newer session) and cleared (their socket closed) in the whole deployment, counted in Redis; every relay reports the same totals.",
      "change",
      ROUTE_CHANGES,
      walletCounts,
    ),
    openSockets: new Gauge({
      name: "acapy_bridge_relay_open_websockets",
      help: "WebSocket connections currently open.",
      registers: [registry],
      collect() {
        this.set(gauges.openSockets());
      },
    }),
    slowConsumers: new Counter({
      name: "acapy_bridge_relay_ws_slow_consumers_total",
      help: "WebSockets terminated because they did not take what was sent to them: a send not done within ws-send-timeout-ms (send_timeout) or more than ws-max-buffered-bytes waiting (buffer_full).",
      labelNames: ["reason"],
      registers: [registry],
    }),
    framesInFlight: new Gauge({
      name: "acapy_bridge_relay_ws_frames_in_flight",
      help: "WebSocket frames received and not yet written to Redis (each holds its body in memory).",
      registers: [registry],
      collect() {
        this.set(gauges.framesInFlight());
      },
    }),
    readPauses: new Counter({
      name: "acapy_bridge_relay_ws_read_pauses_total",
      help: "Times the relay stopped reading a WebSocket because ws-max-frames-in-flight of its frames were still being written to Redis.",
      registers: [registry],
    }),
    latePongsStillReceiving: new Counter({
      name: "acapy_bridge_relay_ws_late_pongs_still_receiving_total",
      help: "Heartbeat turns that kept a WebSocket whose pong was late because what was sent before the ping was still reaching the wallet (a large frame on a slow link).",
      registers: [registry],
    }),
    liveShims: new Gauge({
      name: "acapy_bridge_relay_live_shims",
      help: "ACA-Py instances (their shims) with a live heartbeat, as the relay last read it; at 0 an authcrypted POST is answered 202 at once instead of waiting for a direct response.",
      registers: [registry],
      collect() {
        this.set(gauges.liveShims());
      },
    }),
    pendingRequests: new Gauge({
      name: "acapy_bridge_relay_pending_requests",
      help: "HTTP requests waiting for ACA-Py's answer.",
      registers: [registry],
      collect() {
        this.set(gauges.pendingRequests());
      },
    }),
    inboundBacklog: perPartitionGauge(
      registry,
      "acapy_bridge_relay_inbound_backlog",
      "Inbound messages written and not yet acknowledged by ACA-Py (consumer lag), per partition.",
      gauges.inboundBacklog,
    ),
    // The shims write these (ACA-Py has no Prometheus endpoint); every relay reports the same
    // values, so aggregate with max. Above 0 means an operator has something to requeue or drop.
    inboundDeadLetters: perPartitionGauge(
      registry,
      "acapy_bridge_inbound_dead_letters",
      "Inbound messages ACA-Py could not take (POISON after too many deliveries, MALFORMED, EXPIRED) waiting in the dead-letter streams, per partition; `acapy-bridge dlq` lists, requeues and drops them.",
      gauges.inboundDeadLetters,
    ),
    openConnections: new Gauge({
      name: "acapy_bridge_relay_open_connections",
      help: "DIDComm connections (HTTP and WebSocket, all listeners) open now; at max-connections new ones are refused.",
      registers: [registry],
      collect() {
        this.set(gauges.openConnections());
      },
    }),
    connectionsRefused: new Counter({
      name: "acapy_bridge_relay_connections_refused_total",
      help: "New DIDComm connections refused (503 and closed): the process at max-connections (process_limit) or the client address at max-connections-per-ip (client_limit).",
      labelNames: ["reason"],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: "acapy_bridge_relay_rate_limited_total",
      help: "Requests answered 429 because their client address was above rate-limit-per-ip (http: any request; ws: an upgrade).",
      labelNames: ["transport"],
      registers: [registry],
    }),
    bodyBytesInFlight: new Gauge({
      name: "acapy_bridge_relay_body_bytes_in_flight",
      help: "Bytes of HTTP bodies held now, being read or written to Redis; at max-body-bytes-in-flight new bodies get 503 unread.",
      registers: [registry],
      collect() {
        this.set(gauges.bodyBytesInFlight());
      },
    }),
    timedOut: new Counter({
      name: "acapy_bridge_relay_timed_out_total",
      help: "Connections closed for slowness: an HTTP request not all received within its headers or request timeout (http_request), a WebSocket without a frame within ws-first-frame-timeout-ms (ws_first_frame).",
      labelNames: ["kind"],
      registers: [registry],
    }),
    inboxBacklog: new Gauge({
      name: "acapy_bridge_relay_inbox_backlog",
      help: "Entries in this relay's inbox not yet handled.",
      registers: [registry],
      async collect() {
        try {
          this.set(await gauges.inboxBacklog());
        } catch {
          // as above
        }
      },
    }),
  };
}
