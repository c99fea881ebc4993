import type { IncomingMessage } from "node:http";
import { DeadLetterReason } from "@acapy-bridge/protocol";
import { SendConfirmations } from "@acapy-bridge/websocket-confirmation";
import { type ClientOptions, WebSocket } from "ws";
import { type AttemptOutcome, classifyError, classifyStatus } from "./failure-policy.js";
import type { FilteringLookup } from "./target-policy.js";

export interface WebSocketDeliveryOptions {
  connectTimeoutMs: number;
  totalTimeoutMs: number;
  /** A reused socket is closed after this long without a send. */
  idleMs: number;
  /** Resolves host names for connections; the target policy's keeps only allowed addresses. */
  lookup?: FilteringLookup | undefined;
}

/** A frame written and not yet confirmed by the peer. */
interface UnconfirmedSend {
  settle: (outcome: AttemptOutcome) => void;
}

interface Connection {
  socket: WebSocket;
  open: Promise<AttemptOutcome | undefined>;
  idleTimer: NodeJS.Timeout | undefined;
  sending: number;
  /** Frames written and awaiting the peer's pong; confirmed, each counts as delivered. */
  confirmations: SendConfirmations<UnconfirmedSend>;
}

/**
 * Sends each message as one frame (binary for packed DIDComm, text for JSON)
 * over a WebSocket that is reused per endpoint URL while it stays open, and
 * closed after a while without sends; frames the remote sends back are ignored.
 *
 * A send counts as delivered only once the peer has read it: the frame is
 * followed by a ping, and the peer's pong comes back after it read every frame
 * written before that ping (one ping confirms all the frames written in the
 * same turn of the event loop). That the frame was written proves nothing: it
 * may sit in the kernel's buffer of a socket whose peer vanished without FIN or
 * RST, and stay OPEN until TCP gives up. Without a pong within the attempt's
 * total timeout the socket is terminated and the send fails, to be retried: a
 * duplicate is possible, a loss is not.
 */
export class WebSocketDelivery {
  private readonly connections = new Map<string, Connection>();

  constructor(private readonly options: WebSocketDeliveryOptions) {}

  async send(url: URL, contentType: string, body: Uint8Array): Promise<AttemptOutcome> {
    const key = url.href;
    let connection = this.connections.get(key);
    if (!connection || connection.socket.readyState > WebSocket.OPEN) {
      try {
        connection = this.connect(url);
      } catch (error) {
        // `ws` throws at once for a URL it will never open (a fragment, say): no attempt can succeed.
        return {
          ok: false,
          retryable: false,
          reason: DeadLetterReason.INVALID_ENDPOINT,
          detail: `WebSocket refused the URL: ${(error as Error).message}`,
        };
      }
      this.connections.set(key, connection);
    }
    const failure = await connection.open;
    if (failure) {
      if (this.connections.get(key) === connection) this.connections.delete(key);
      return failure;
    }
    const c = connection;
    if (c.idleTimer) clearTimeout(c.idleTimer);
    c.sending++;
    try {
      return await new Promise<AttemptOutcome>((resolve) => {
        const pending: UnconfirmedSend = {
          settle: (outcome) => {
            clearTimeout(timer);
            resolve(outcome);
          },
        };
        const timer = setTimeout(() => {
          // Unconfirmed in time: the peer may be gone without a FIN, so the socket cannot be trusted
          // with the next frames either. Closing it fails the other unconfirmed sends at once.
          c.confirmations.forget(pending);
          c.socket.terminate();
          resolve(
            classifyError(
              Object.assign(new Error(`peer did not confirm the frame within ${this.options.totalTimeoutMs} ms`), {
                code: "WS_UNCONFIRMED",
              }),
            ),
          );
        }, this.options.totalTimeoutMs);
        c.confirmations.expect(pending);
        const binary = !contentType.toLowerCase().startsWith("application/json");
        c.socket.send(Buffer.from(body.buffer, body.byteOffset, body.byteLength), { binary }, (error) => {
          if (!error) return; // written; the pong settles it
          c.confirmations.forget(pending);
          pending.settle(classifyError(error));
        });
        c.confirmations.followWithPing();
      });
    } finally {
      c.sending--;
      if (c.sending === 0 && this.connections.get(key) === c) {
        c.idleTimer = setTimeout(() => this.drop(key, c), this.options.idleMs);
        c.idleTimer.unref();
      }
    }
  }

  private connect(url: URL): Connection {
    // `ws` hands these options on to `http.request`, and `lookup` on to `net.connect`; it follows
    // no redirect (`followRedirects` stays false), so the upgrade goes nowhere the policy did not see.
    const options: ClientOptions & { lookup?: FilteringLookup } = {
      handshakeTimeout: this.options.connectTimeoutMs,
      perMessageDeflate: false,
      followRedirects: false,
    };
    if (this.options.lookup) options.lookup = this.options.lookup;
    const socket = new WebSocket(url, options);
    const open = new Promise<AttemptOutcome | undefined>((resolve) => {
      socket.once("open", () => resolve(undefined));
      socket.once("unexpected-response", (_req, res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        const retryAfter = res.headers["retry-after"];
        resolve(
          status < 400
            ? {
                ok: false,
                retryable: false,
                reason: DeadLetterReason.REJECTED,
                detail: `HTTP ${status} to a WebSocket upgrade`,
              }
            : classifyStatus(status, Array.isArray(retryAfter) ? retryAfter[0] : retryAfter),
        );
        res.resume();
        socket.terminate();
      });
      socket.once("error", (error) => resolve(classifyError(error)));
      socket.once("close", () => resolve(classifyError(Object.assign(new Error("closed"), { code: "ECLOSED" }))));
    });
    // Frames from the remote (e.g. return-route replies) are not for us; errors end the socket.
    socket.on("message", () => {});
    socket.on("error", () => {});
    const connection: Connection = {
      socket,
      open,
      idleTimer: undefined,
      sending: 0,
      confirmations: new SendConfirmations(socket, (confirmed) => {
        for (const pending of confirmed) pending.settle({ ok: true, status: 101 });
      }),
    };
    socket.on("pong", (payload: Buffer) => connection.confirmations.pongReceived(payload));
    socket.on("close", () => {
      if (this.connections.get(url.href) === connection) this.connections.delete(url.href);
      // The peer may not have read these frames: they are retried (a duplicate is possible, a loss is not).
      const unconfirmed = connection.confirmations.takeUnconfirmed();
      if (unconfirmed.length === 0) return;
      const failure = classifyError(
        Object.assign(new Error("socket closed before the peer confirmed the frame"), { code: "ECLOSED" }),
      );
      for (const pending of unconfirmed) pending.settle(failure);
    });
    return connection;
  }

  private drop(key: string, connection: Connection): void {
    if (this.connections.get(key) === connection) this.connections.delete(key);
    connection.socket.close(1000);
  }

  async close(): Promise<void> {
    for (const [key, connection] of this.connections) this.drop(key, connection);
  }
}
