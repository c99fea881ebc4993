import { verkeyToDidKey } from "./did-key.js";
import { fromUtf8, utf8 } from "./encoding.js";
import { packEnvelope, serializeEnvelope } from "./envelope-pack.js";
import { unpackEnvelope } from "./envelope-unpack.js";
import { wrapInForwards } from "./forward.js";
import { generateKeyPair, type KeyPair, verkeyToDid } from "./keys.js";
import type { DidcommMessage } from "./messages.js";
import { initDidcomm } from "./sodium.js";
import { DidcommWebSocket, type HttpDelivery, postEnvelope } from "./transports.js";

export interface PackOptions {
  /** Encrypt without revealing or authenticating the sender. */
  anoncrypt?: boolean;
  /** Mediator keys (base58 or did:key), nearest-to-recipient first, as in a DIDComm service block. */
  routingKeys?: readonly string[];
}

export interface UnpackedMessage<M = DidcommMessage> {
  message: M;
  recipientVerkey: string;
  /** Absent for anoncrypted messages. */
  senderVerkey?: string;
}

/** Where and how to reach another agent: a DIDComm service block in short. */
export interface DidcommDestination {
  endpoint: string;
  recipientKeys: readonly string[];
  routingKeys?: readonly string[];
}

export interface HttpExchange extends HttpDelivery {
  /** The unpacked reply carried in the response body, when there was one. */
  reply?: UnpackedMessage;
}

/**
 * A DIDComm v1 agent that is only keys in memory: creating thousands per process costs one
 * Ed25519 key generation each, and nothing here holds a socket or timer.
 */
export class TestAgent {
  private readonly keys = new Map<string, KeyPair>();

  private constructor(
    readonly label: string,
    readonly keyPair: KeyPair,
  ) {
    this.keys.set(keyPair.verkey, keyPair);
  }

  static async create(label: string, opts: { seed?: string | Uint8Array } = {}): Promise<TestAgent> {
    await initDidcomm();
    return new TestAgent(label, generateKeyPair(opts.seed));
  }

  get verkey(): string {
    return this.keyPair.verkey;
  }

  /** The unqualified DID ACA-Py pairs with this verkey (e.g. as `their_did` of a static connection). */
  get did(): string {
    return verkeyToDid(this.keyPair.verkey);
  }

  get didKey(): string {
    return verkeyToDidKey(this.keyPair.verkey);
  }

  /** Another key this agent can receive on (e.g. one per connection, as a wallet would). */
  addKey(seed?: string | Uint8Array): KeyPair {
    const key = generateKeyPair(seed);
    this.keys.set(key.verkey, key);
    return key;
  }

  hasKey(verkey: string): boolean {
    return this.keys.has(verkey);
  }

  /** The wire bytes of `message` packed to `recipientKeys`, then forward-wrapped for each routing key. */
  pack(message: object, recipientKeys: readonly string[], opts: PackOptions = {}): Uint8Array {
    const inner = packEnvelope(utf8(JSON.stringify(message)), recipientKeys, opts.anoncrypt ? undefined : this.keyPair);
    const routed = opts.routingKeys?.length ? wrapInForwards(inner, recipientKeys, opts.routingKeys) : inner;
    return serializeEnvelope(routed);
  }

  unpack<M = DidcommMessage>(bytes: Uint8Array | string): UnpackedMessage<M> {
    const { plaintext, ...keys } = unpackEnvelope(bytes, (verkey) => this.keys.get(verkey));
    return { message: JSON.parse(fromUtf8(plaintext)) as M, ...keys };
  }

  /** POSTs the packed message to `to.endpoint` and unpacks a reply that came back on the response. */
  async sendHttp(
    message: object,
    to: DidcommDestination,
    opts: PackOptions & { timeoutMs?: number } = {},
  ): Promise<HttpExchange> {
    const delivery = await postEnvelope(to.endpoint, this.pack(message, to.recipientKeys, withRouting(opts, to)), opts);
    if (delivery.body.length === 0 || !looksLikeJson(delivery.body)) return delivery;
    return { ...delivery, reply: this.unpack(delivery.body) };
  }

  /**
   * Sends over a fresh WebSocket to `to.endpoint` (ws:// or wss://) and returns the unpacked frames
   * received until `count` arrive or the socket stays idle for `idleMs`.
   */
  async sendWebSocket(
    message: object,
    to: DidcommDestination,
    opts: PackOptions & { count?: number; idleMs?: number } = {},
  ): Promise<UnpackedMessage[]> {
    const socket = await DidcommWebSocket.connect(to.endpoint);
    try {
      await socket.send(this.pack(message, to.recipientKeys, withRouting(opts, to)));
      const frames = await socket.collect(opts);
      return frames.map((frame) => this.unpack(frame));
    } finally {
      await socket.close();
    }
  }

  toString(): string {
    return `TestAgent(${this.label}, ${this.verkey})`;
  }
}

function withRouting(opts: PackOptions, to: DidcommDestination): PackOptions {
  return { ...opts, routingKeys: opts.routingKeys ?? to.routingKeys ?? [] };
}

function looksLikeJson(body: Uint8Array): boolean {
  return body[0] === 0x7b; // "{"
}
