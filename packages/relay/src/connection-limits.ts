import type { Server } from "node:http";
import type { Socket } from "node:net";
import { clientKey } from "./client-address.js";

export type ConnectionRefusal = "process_limit" | "client_limit";

/**
 * How long a refused connection may stay open to get its 503: long enough for a client to send the
 * request it already has, short enough that a flood of refused connections holds few descriptors.
 */
const REFUSED_LINGER_MS = 1_000;
/** Refused connections waiting for their request at once; beyond this a refused connection is closed at once. */
const MAX_REFUSED_LINGERING = 256;

export interface ConnectionLimitsConfig {
  /** Open connections (HTTP and WebSocket, all listeners) of this process; 0 = none beyond the OS's. */
  maxConnections: number;
  /** Open connections from one client (`clientKey`); 0 = no per-client limit. */
  maxConnectionsPerClient: number;
  /** Clients the per-client limits do not apply to (`clientKey`s). */
  exemptClients: ReadonlySet<string>;
}

/**
 * Counts the open connections of the DIDComm listeners, in all and per client, and marks each new
 * one above either limit as refused before any byte of it is read: its first request (or upgrade)
 * is answered 503 with Retry-After and the connection closed, and one that sends nothing within
 * a second is closed. The count is kept by the listeners' 'connection' and each socket's 'close',
 * so a WebSocket counts for as long as its TCP connection lives. The ops listener is another
 * server: a flood here leaves health and metrics reachable as long as `maxConnections` stays
 * below the process's descriptor limit (see `effectiveMaxConnections`).
 */
export class ConnectionLimits {
  private open = 0;
  private readonly perClient = new Map<string, number>();
  private readonly refused = new WeakSet<Socket>();
  private lingering = 0;

  constructor(
    private readonly config: ConnectionLimitsConfig,
    private readonly onRefused: (reason: ConnectionRefusal, client: string) => void,
  ) {}

  get openConnections(): number {
    return this.open;
  }

  /** Puts the limits on a listener; call before it listens. */
  guard(server: Server): void {
    server.on("connection", (socket: Socket) => this.admit(socket));
  }

  /** Whether the request or upgrade on this socket is to be answered 503 (the connection was refused). */
  isRefused(socket: Socket): boolean {
    return this.refused.has(socket);
  }

  private admit(socket: Socket): void {
    const client = clientKey(socket.remoteAddress ?? "");
    const reason = this.refusal(client);
    if (reason) {
      this.refuse(socket, reason, client);
      return;
    }
    this.open++;
    const perClient = !this.config.exemptClients.has(client) && this.config.maxConnectionsPerClient > 0;
    if (perClient) this.perClient.set(client, (this.perClient.get(client) ?? 0) + 1);
    socket.once("close", () => {
      this.open--;
      if (!perClient) return;
      const left = (this.perClient.get(client) ?? 1) - 1;
      if (left > 0) this.perClient.set(client, left);
      else this.perClient.delete(client);
    });
  }

  private refusal(client: string): ConnectionRefusal | undefined {
    const { maxConnections, maxConnectionsPerClient, exemptClients } = this.config;
    if (maxConnections > 0 && this.open >= maxConnections) return "process_limit";
    if (
      maxConnectionsPerClient > 0 &&
      !exemptClients.has(client) &&
      (this.perClient.get(client) ?? 0) >= maxConnectionsPerClient
    ) {
      return "client_limit";
    }
    return undefined;
  }

  private refuse(socket: Socket, reason: ConnectionRefusal, client: string): void {
    this.onRefused(reason, client);
    if (this.lingering >= MAX_REFUSED_LINGERING) {
      socket.destroy();
      return;
    }
    this.refused.add(socket);
    this.lingering++;
    const timer = setTimeout(() => socket.destroy(), REFUSED_LINGER_MS);
    timer.unref();
    socket.once("close", () => {
      clearTimeout(timer);
      this.lingering--;
    });
  }
}
