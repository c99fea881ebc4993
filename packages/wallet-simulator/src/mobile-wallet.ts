import { randomUUID } from "node:crypto";
import type { Socket } from "node:net";
import {
  type DidcommMessage,
  didKeyToVerkey,
  type KeyPair,
  packEnvelope,
  postEnvelope,
  serializeEnvelope,
  TestAgent,
  toVerkey,
  verkeyToDidKey,
  wrapInForwards,
} from "@acapy-bridge/didcomm-test-agent";
import WebSocket from "ws";
import { createPeerDid2, parsePeerDid2 } from "./did-peer.js";

export const DIDEXCHANGE = "https://didcomm.org/didexchange/1.1";
export const MEDIATION = "https://didcomm.org/coordinate-mediation/1.0";
/** The endpoint of a wallet that has none: messages wait for its return-route session. */
export const QUEUE_ENDPOINT = "didcomm:transport/queue";

export interface OobInvitation {
  "@id": string;
  services: (string | { serviceEndpoint: string; recipientKeys: string[]; routingKeys?: string[] })[];
  [field: string]: unknown;
}

/** One DIDComm peer of the wallet. */
export interface Peer {
  myKey: KeyPair;
  theirVerkey: string;
  endpoint: string;
  routingKeys: string[];
}

export interface Received {
  message: DidcommMessage;
  /** Our key it was packed for. */
  recipientVerkey: string;
  senderVerkey?: string;
  at: number;
}

function textOf(data: WebSocket.RawData): Uint8Array {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function inlineService(invitation: OobInvitation) {
  const service = invitation.services.find((s) => typeof s === "object");
  if (!service || typeof service !== "object") throw new Error("invitation has no inline service");
  return service;
}

/**
 * A simulated mobile wallet: keys in memory, no endpoint. It connects to a mediator by
 * out-of-band invitation and DID Exchange 1.1 (did:peer:2, service `didcomm:transport/queue`),
 * requests mediation, and holds a WebSocket on which every message asks for return route `all`,
 * so the mediator pushes its messages down that socket. Messages are deduplicated by `@id`
 * (delivery is at-least-once). Thousands fit in one process: one key pair and one socket each.
 */
export class MobileWallet {
  readonly agent: TestAgent;
  mediator: Peer | undefined;
  /** From the mediation grant. */
  routing: { endpoint: string; routingKeys: string[] } | undefined;
  readonly peers = new Map<string, Peer>();
  /** Unique messages received outside request/reply exchanges, in arrival order. */
  readonly inbox: Received[] = [];
  duplicates = 0;
  private readonly seen = new Set<string>();
  private readonly replyWaiters = new Map<string, (message: DidcommMessage) => void>();
  private readonly inboxWaiters = new Set<() => void>();
  private ws: WebSocket | undefined;
  private wsUrl: string | undefined;
  /** Set by keepConnected: a socket that drops is reopened, as a phone's app does. */
  private stayConnected = false;
  /** How long a dropped wallet stays away before its first reconnect attempt (a phone in the background). */
  private offlineAfterDropMs = 0;
  private reconnecting = false;
  /** Sessions reopened after a drop (keepConnected), and attempts that failed on the way. */
  reconnects = 0;
  failedReconnects = 0;
  /** When the last dropped socket went away and when its replacement was announced (ms since epoch). */
  droppedAt: number | undefined;
  reconnectedAt: number | undefined;

  private constructor(agent: TestAgent) {
    this.agent = agent;
  }

  static async create(label: string): Promise<MobileWallet> {
    return new MobileWallet(await TestAgent.create(label));
  }

  get label(): string {
    return this.agent.label;
  }

  /** The wallet's key on its mediator connection (the key its route is registered under). */
  get verkey(): string {
    return this.agent.verkey;
  }

  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  // ---- the socket ----

  /** Opens (or reopens) the WebSocket to `url` (the relay or the load balancer). */
  async openSocket(url: string): Promise<void> {
    this.wsUrl = url;
    const ws = new WebSocket(url, { handshakeTimeout: 10_000 });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    ws.on("error", () => {});
    ws.on("message", (data) => this.onFrame(textOf(data)));
    ws.once("close", () => this.onDropped(ws));
    this.ws = ws;
  }

  /**
   * From now on a socket that drops without the wallet closing it (its relay died, the network
   * blinked) is reopened to the same URL — a load balancer picks a live relay — and announced
   * again, retrying with jittered backoff until it works. With `offlineAfterDropMs` it first stays
   * away that long, as a phone whose app is in the background. closeSocket() ends this.
   */
  keepConnected(options: { offlineAfterDropMs?: number } = {}): void {
    this.stayConnected = true;
    this.offlineAfterDropMs = options.offlineAfterDropMs ?? 0;
  }

  private onDropped(ws: WebSocket): void {
    if (this.ws !== ws) return; // closed, destroyed or replaced on purpose
    this.ws = undefined;
    if (!this.stayConnected || this.reconnecting) return;
    this.droppedAt = Date.now();
    void this.reconnectWithBackoff();
  }

  private async reconnectWithBackoff(): Promise<void> {
    this.reconnecting = true;
    try {
      if (this.offlineAfterDropMs > 0) await new Promise((resolve) => setTimeout(resolve, this.offlineAfterDropMs));
      for (let attempt = 0; this.stayConnected && !this.connected; attempt++) {
        // Jittered, so that a relay's worth of wallets does not come back in one burst.
        const delayMs = Math.min(100 * 2 ** attempt, 2_000) * (0.5 + Math.random() / 2);
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        if (!this.stayConnected) return;
        try {
          await this.reconnect();
          this.reconnects++;
          this.reconnectedAt = Date.now();
        } catch (error) {
          // Refused or dropped again while announcing: the next attempt opens a new socket.
          this.failedReconnects++;
          if (process.env.WALLET_DEBUG) console.error(`${this.label}: reconnect failed: ${(error as Error).message}`);
          const half = this.ws;
          this.ws = undefined;
          half?.terminate();
        }
      }
    } finally {
      this.reconnecting = false;
    }
  }

  /** Opens a socket and announces it: a trust ping asking for return route `all` and no response. */
  async reconnect(url = this.wsUrl): Promise<void> {
    if (!url) throw new Error("no WebSocket URL yet");
    if (!this.mediator) throw new Error("not connected to a mediator");
    await this.openSocket(url);
    await this.sendToMediator({
      "@type": "https://didcomm.org/trust_ping/1.0/ping",
      "@id": randomUUID(),
      response_requested: false,
    });
  }

  /** Closes the socket with a close frame. */
  async closeSocket(): Promise<void> {
    this.stayConnected = false;
    const ws = this.ws;
    this.ws = undefined;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      ws.once("close", () => resolve());
      ws.close();
      setTimeout(() => {
        ws.terminate();
        resolve();
      }, 2_000).unref();
    });
  }

  /** Stops reading the socket, as a phone that lost its network: no close frame, no pong; nothing more is read. */
  freezeSocket(): void {
    const raw = (this.ws as unknown as { _socket?: Socket })?._socket;
    raw?.pause();
    this.ws?.removeAllListeners("message");
  }

  /** Drops the socket at TCP level without a close frame (unread frames are lost with it). */
  destroySocket(): void {
    const ws = this.ws;
    this.ws = undefined;
    if (!ws) return;
    ws.removeAllListeners("message");
    (ws as unknown as { _socket?: Socket })._socket?.destroy();
  }

  private onFrame(bytes: Uint8Array): void {
    let unpacked: ReturnType<typeof this.agent.unpack<DidcommMessage>>;
    try {
      unpacked = this.agent.unpack<DidcommMessage>(bytes);
    } catch (error) {
      if (process.env.WALLET_DEBUG) console.error(`${this.label}: cannot unpack frame: ${(error as Error).message}`);
      return; // not for us
    }
    if (process.env.WALLET_DEBUG) console.error(`${this.label} <- ${JSON.stringify(unpacked.message).slice(0, 200)}`);
    const message = unpacked.message;
    const id = message["@id"];
    if (this.seen.has(id)) {
      this.duplicates++;
      return;
    }
    this.seen.add(id);
    // Replies carry our message's id as thid; a mediate-grant carries no thread, so its type is the key.
    for (const key of [message["~thread"]?.thid, `type:${message["@type"]}`]) {
      const waiter = key ? this.replyWaiters.get(key) : undefined;
      if (waiter && key) {
        this.replyWaiters.delete(key);
        waiter(message);
        return;
      }
    }
    this.inbox.push({ ...unpacked, at: Date.now() });
    for (const w of this.inboxWaiters) w();
  }

  /** Messages of the inbox matching `predicate`, once at least `count` are there. */
  async waitForInbox(predicate: (r: Received) => boolean, count = 1, timeoutMs = 30_000): Promise<Received[]> {
    const matching = () => this.inbox.filter(predicate);
    if (matching().length >= count) return matching();
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = matching();
        if (found.length >= count) {
          clearTimeout(timer);
          this.inboxWaiters.delete(check);
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        this.inboxWaiters.delete(check);
        reject(new Error(`${this.label}: ${matching().length}/${count} messages after ${timeoutMs} ms`));
      }, timeoutMs);
      this.inboxWaiters.add(check);
    });
  }

  // ---- sending ----

  private packFor(peer: Peer, message: object): Uint8Array {
    const inner = packEnvelope(new TextEncoder().encode(JSON.stringify(message)), [peer.theirVerkey], peer.myKey);
    const routed = peer.routingKeys.length ? wrapInForwards(inner, [peer.theirVerkey], peer.routingKeys) : inner;
    return serializeEnvelope(routed);
  }

  private sendFrame(envelope: Uint8Array): Promise<void> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error(`${this.label}: socket not open`));
    return new Promise((resolve, reject) => ws.send(envelope, { binary: true }, (e) => (e ? reject(e) : resolve())));
  }

  /** Sends to the mediator on the socket with return route `all`. */
  async sendToMediator(message: DidcommMessage): Promise<void> {
    if (!this.mediator) throw new Error("not connected to a mediator");
    message["~transport"] = { return_route: "all" };
    await this.sendFrame(this.packFor(this.mediator, message));
  }

  private awaitReply(thid: string, timeoutMs: number): Promise<DidcommMessage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.replyWaiters.delete(thid);
        reject(new Error(`${this.label}: no reply to ${thid} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.replyWaiters.set(thid, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
  }

  /** A request on the socket, answered on the socket (return route). */
  async requestMediator(message: DidcommMessage, timeoutMs = 30_000, replyType?: string): Promise<DidcommMessage> {
    const reply = this.awaitReply(replyType ? `type:${replyType}` : message["@id"], timeoutMs);
    await this.sendToMediator(message);
    return reply;
  }

  // ---- connecting ----

  /**
   * Connects to a mediator over its WebSocket: DID Exchange 1.1 with a did:peer:2 whose only
   * service is `didcomm:transport/queue`, then mediate-request -> mediate-grant.
   */
  async joinMediator(invitation: OobInvitation, wsUrl: string, timeoutMs = 30_000): Promise<void> {
    await this.connectToMediator(invitation, wsUrl, timeoutMs);
    await this.requestMediation(timeoutMs);
  }

  /** DID Exchange 1.1 with the mediator over its WebSocket (no mediation asked yet). */
  async connectToMediator(invitation: OobInvitation, wsUrl: string, timeoutMs = 30_000): Promise<void> {
    const service = inlineService(invitation);
    const invitationKey = didKeyToVerkey(service.recipientKeys[0] as string);
    const myKey = this.agent.keyPair;
    const did = createPeerDid2(myKey.verkey, { serviceEndpoint: QUEUE_ENDPOINT });
    await this.openSocket(wsUrl);
    const requestId = randomUUID();
    const request = {
      "@type": `${DIDEXCHANGE}/request`,
      "@id": requestId,
      "~thread": { thid: requestId, pthid: invitation["@id"] },
      label: this.label,
      did,
      "~transport": { return_route: "all" },
    };
    const invited: Peer = { myKey, theirVerkey: invitationKey, endpoint: wsUrl, routingKeys: [] };
    const responseP = this.awaitReply(requestId, timeoutMs);
    await this.sendFrame(this.packFor(invited, request));
    const response = await responseP;
    if (!String(response["@type"]).endsWith("/response")) {
      throw new Error(`${this.label}: DID Exchange answered ${JSON.stringify(response).slice(0, 300)}`);
    }
    const theirs = parsePeerDid2(String(response.did));
    this.mediator = { myKey, theirVerkey: theirs.verkey, endpoint: wsUrl, routingKeys: [] };
    await this.sendToMediator({
      "@type": `${DIDEXCHANGE}/complete`,
      "@id": randomUUID(),
      "~thread": { thid: requestId, pthid: invitation["@id"] },
    });
  }

  /** mediate-request -> mediate-grant on the mediator connection; throws when no grant comes. */
  async requestMediation(timeoutMs = 30_000): Promise<void> {
    const grant = await this.requestMediator(
      { "@type": `${MEDIATION}/mediate-request`, "@id": randomUUID() },
      timeoutMs,
      `${MEDIATION}/mediate-grant`,
    );
    if (!String(grant["@type"]).endsWith("/mediate-grant")) {
      throw new Error(`${this.label}: mediation answered ${JSON.stringify(grant).slice(0, 300)}`);
    }
    this.routing = {
      endpoint: String(grant.endpoint),
      routingKeys: (grant.routing_keys as string[]).map((k) => toVerkey(k)),
    };
  }

  /** keylist-update add for one of our keys; resolves on the keylist-update-response. */
  async addRoutingKey(verkey: string): Promise<void> {
    const reply = await this.requestMediator({
      "@type": `${MEDIATION}/keylist-update`,
      "@id": randomUUID(),
      updates: [{ recipient_key: verkeyToDidKey(verkey), action: "add" }],
    });
    const updated = (reply.updated as { result: string }[] | undefined) ?? [];
    if (!updated.every((u) => u.result === "success" || u.result === "no_change")) {
      throw new Error(`${this.label}: keylist update failed: ${JSON.stringify(reply)}`);
    }
  }

  /**
   * Accepts another agent's out-of-band invitation (DID Exchange 1.1 over HTTP, response in the
   * HTTP body) with a new key whose did:peer:2 service is the mediator's endpoint and routing key.
   * Returns the peer's verkey.
   */
  async acceptInvitation(invitation: OobInvitation, timeoutMs = 30_000): Promise<Peer> {
    if (!this.routing) throw new Error("no mediation granted yet");
    const service = inlineService(invitation);
    const myKey = this.agent.addKey();
    await this.addRoutingKey(myKey.verkey);
    const did = createPeerDid2(myKey.verkey, {
      serviceEndpoint: this.routing.endpoint,
      // As ACA-Py writes them: did:key URLs with the key fragment (they must dereference to a key).
      routingKeys: this.routing.routingKeys.map((k) => {
        const didKey = verkeyToDidKey(k);
        return `${didKey}#${didKey.slice("did:key:".length)}`;
      }),
    });
    const requestId = randomUUID();
    const invited: Peer = {
      myKey,
      theirVerkey: didKeyToVerkey(service.recipientKeys[0] as string),
      endpoint: service.serviceEndpoint,
      routingKeys: (service.routingKeys ?? []).map((k) => toVerkey(k)),
    };
    const request = {
      "@type": `${DIDEXCHANGE}/request`,
      "@id": requestId,
      "~thread": { thid: requestId, pthid: invitation["@id"] },
      label: this.label,
      did,
      "~transport": { return_route: "all" },
    };
    const delivery = await postEnvelope(invited.endpoint, this.packFor(invited, request), { timeoutMs });
    if (delivery.body.length === 0) throw new Error(`${this.label}: no DID Exchange response in the HTTP body`);
    const response = this.agent.unpack<DidcommMessage>(delivery.body).message;
    const theirs = parsePeerDid2(String(response.did));
    const svc = theirs.services[0];
    const peer: Peer = {
      myKey,
      theirVerkey: theirs.verkey,
      endpoint: svc?.serviceEndpoint ?? invited.endpoint,
      routingKeys: (svc?.routingKeys ?? []).map((k) =>
        k.startsWith("did:key:") ? didKeyToVerkey(k.split("#")[0] as string) : k,
      ),
    };
    await postEnvelope(
      peer.endpoint,
      this.packFor(peer, {
        "@type": `${DIDEXCHANGE}/complete`,
        "@id": randomUUID(),
        "~thread": { thid: requestId, pthid: invitation["@id"] },
      }),
    );
    this.peers.set(peer.theirVerkey, peer);
    return peer;
  }
}
