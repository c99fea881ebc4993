import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { DIDCOMM_ENVELOPE_MEDIA_TYPE } from "./envelope.js";
import { basicMessage, TRUST_PING_RESPONSE_TYPE, trustPing, trustPingResponse } from "./messages.js";
import { TestAgent } from "./test-agent.js";
import { DidcommWebSocket, HttpInbox, postEnvelope } from "./transports.js";

let alice: TestAgent;
let bob: TestAgent;

beforeAll(async () => {
  alice = await TestAgent.create("alice");
  bob = await TestAgent.create("bob");
});

describe("HTTP", () => {
  let inbox: HttpInbox;
  beforeAll(async () => {
    inbox = await HttpInbox.start();
  });
  afterAll(() => inbox.close());

  it("POSTs envelopes that the receiving inbox hands back in order", async () => {
    const first = basicMessage("one");
    const second = basicMessage("two");
    const delivered = await postEnvelope(inbox.url, alice.pack(first, [bob.verkey]));
    await postEnvelope(inbox.url, alice.pack(second, [bob.verkey]));
    expect(delivered).toMatchObject({ status: 200, body: new Uint8Array() });
    expect(bob.unpack(await inbox.next()).message).toEqual(first);
    expect(bob.unpack(await inbox.next()).message).toEqual(second);
  });

  it("times out clearly when nothing arrives", async () => {
    await expect(inbox.next(50)).rejects.toThrow(/nothing POSTed/);
  });
});

describe("WebSocket", () => {
  let server: WebSocketServer;
  let url: string;

  // A minimal agent that answers pings on the socket they came in on, as return_route asks.
  beforeAll(async () => {
    server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise<void>((resolve) => server.once("listening", () => resolve()));
    const address = server.address();
    if (typeof address !== "object" || address === null) throw new Error("no address");
    url = `ws://127.0.0.1:${address.port}`;
    server.on("connection", (socket) => {
      socket.on("message", (data) => {
        const { message, senderVerkey } = bob.unpack(new Uint8Array(data as Buffer));
        if (!senderVerkey) return;
        // Answer as a text frame, as ACA-Py does.
        socket.send(Buffer.from(bob.pack(trustPingResponse(message), [senderVerkey])).toString());
        socket.send(Buffer.from(bob.pack(trustPingResponse(message, { comment: "again" }), [senderVerkey])));
      });
    });
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("collects and unpacks every frame until the socket goes idle", async () => {
    const ping = trustPing({ returnRoute: "all" });
    const replies = await alice.sendWebSocket(ping, { endpoint: url, recipientKeys: [bob.verkey] }, { idleMs: 300 });
    expect(replies.map((r) => r.message["@type"])).toEqual([TRUST_PING_RESPONSE_TYPE, TRUST_PING_RESPONSE_TYPE]);
    expect(replies.every((r) => r.message["~thread"]?.thid === ping["@id"] && r.senderVerkey === bob.verkey)).toBe(
      true,
    );
  });

  it("stops collecting at the requested count", async () => {
    const socket = await DidcommWebSocket.connect(url);
    try {
      await socket.send(alice.pack(trustPing(), [bob.verkey]));
      expect(await socket.collect({ count: 1 })).toHaveLength(1);
      expect(alice.unpack(await socket.receive()).message.comment).toBe("again");
      await expect(socket.receive(50)).rejects.toThrow(/no websocket frame/);
    } finally {
      await socket.close();
    }
  });
});

describe("TestAgent", () => {
  it("is cheap enough to create by the thousand", async () => {
    const started = performance.now();
    const agents = await Promise.all(Array.from({ length: 1000 }, (_, i) => TestAgent.create(`agent-${i}`)));
    expect(new Set(agents.map((a) => a.verkey)).size).toBe(1000);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it("receives on extra keys it adds", async () => {
    const perConnection = bob.addKey();
    const unpacked = bob.unpack(alice.pack(trustPing(), [perConnection.verkey]));
    expect(unpacked.recipientVerkey).toBe(perConnection.verkey);
  });

  it("uses the DIDComm envelope media type", () => {
    expect(DIDCOMM_ENVELOPE_MEDIA_TYPE).toBe("application/didcomm-envelope-enc");
  });
});
