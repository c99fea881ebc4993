import { once } from "node:events";
import { connect } from "node:net";
import {
  closeRedisClient,
  createRedisClient,
  InboundKind,
  Keyspace,
  partitionCountsOf,
  type RedisClient,
  RelayCommandSchema,
  Transport,
} from "@acapy-bridge/protocol";
import {
  BridgeProcess,
  holdStill,
  loopbackBridgeArgs,
  RedisServer,
  uniquePrefix,
  waitFor,
} from "@acapy-bridge/test-harness";
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { WebSocket } from "ws";
import { EchoConsumer } from "../test-fixtures/echo-consumer.js";
import { fakeJwe, randomVerkey } from "../test-fixtures/fake-envelopes.js";
import { startTestRelay, type TestRelay } from "../test-fixtures/relay-harness.js";
import { pushToRelayInbox } from "../test-fixtures/shim-commands.js";

function open(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));
}

describe("relay WebSocket ingress", () => {
  let t: TestRelay;
  let client: RedisClient;
  let echo: EchoConsumer;
  let keyspace: Keyspace;
  const blocking: RedisClient[] = [];

  beforeAll(async () => {
    t = await startTestRelay({
      redisUrl: inject("redisUrl"),
      prefix: uniquePrefix("relay-ws"),
      config: { maxMessageBytes: 16 * 1024, allowedOrigins: ["https://wallet.example"], wsHeartbeatMs: 200 },
    });
    client = createRedisClient({ url: inject("redisUrl"), cluster: false }, "commands");
    keyspace = new Keyspace(t.connection.prefix, partitionCountsOf(t.connection.partitions));
    for (let i = 0; i < 4; i++)
      blocking.push(createRedisClient({ url: inject("redisUrl"), cluster: false }, "blocking"));
    echo = new EchoConsumer(blocking, client, keyspace, async (m) => {
      if (m.kind !== InboundKind.AGENT_MESSAGE) return undefined;
      const ask = JSON.parse(Buffer.from(m.body).toString()) as { ciphertext: string };
      if (ask.ciphertext.startsWith("slow")) await holdStill(300, "a slow ACA-Py behind the relay");
      return { status: 200, contentType: "application/didcomm-envelope-enc", body: Buffer.from(`reply-to-${m.mid}`) };
    });
    await echo.start();
  });
  afterAll(async () => {
    await echo.stop();
    await t.relay.stop();
    await Promise.all([client, ...blocking].map((c) => closeRedisClient(c)));
  });

  it("writes each frame with its socket id and sends ACA-Py's reply down the same socket", async () => {
    const ws = await open(t.wsUrl);
    const replies: Buffer[] = [];
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      expect(isBinary).toBe(true);
      replies.push(data);
    });
    const kid = randomVerkey();
    ws.send(fakeJwe(kid), { binary: true });
    ws.send(fakeJwe(kid).toString()); // a text frame
    await waitFor("two replies", () => replies.length === 2, 5000);
    const mine = echo.seen.filter((m) => m.recipientKey === kid);
    expect(mine).toHaveLength(2);
    expect(mine.every((m) => m.transport === Transport.WEBSOCKET && m.socketId.startsWith("ws-"))).toBe(true);
    expect(new Set(mine.map((m) => m.socketId)).size).toBe(1);
    expect(mine.map((m) => m.contentType).sort()).toEqual(["application/didcomm-envelope-enc", "application/json"]);
    expect(replies.map((r) => r.toString()).sort()).toEqual(mine.map((m) => `reply-to-${m.mid}`).sort());
    ws.close();
  });

  it("hands a reply for a socket that closed back to ACA-Py", async () => {
    const ws = await open(t.wsUrl);
    const kid = randomVerkey();
    const body = JSON.parse(fakeJwe(kid).toString()) as Record<string, string>;
    const gone = closed(ws);
    ws.send(JSON.stringify({ ...body, ciphertext: "slow" }), () => ws.close());
    await gone;
    const returned = await waitFor(
      "returned reply",
      () =>
        echo.seen.find(
          (m) =>
            m.kind === InboundKind.RETURNED_REPLY &&
            m.recipientKey.includes(kid) === false &&
            m.returnedReply?.socketId,
        ),
      10_000,
    );
    const original = echo.seen.find((m) => m.recipientKey === kid);
    expect(returned.returnedReply?.mid).toBe(original?.mid);
    expect(Buffer.from(returned.returnedReply?.body ?? []).toString()).toBe(`reply-to-${original?.mid}`);
  });

  it("closes with 1003 on a frame that is no DIDComm message, and with 1009 on an oversized frame", async () => {
    const ws = await open(t.wsUrl);
    const c1 = closed(ws);
    ws.send("this is not json");
    expect((await c1).code).toBe(1003);
    const ws2 = await open(t.wsUrl);
    const c2 = closed(ws2);
    ws2.send(Buffer.alloc(16 * 1024 + 1, 0x61), { binary: true });
    expect((await c2).code).toBe(1009);
    expect(t.logs.filter((l) => l.event === "relay.rejected" && l.transport !== "http").length).toBeGreaterThan(0);
  });

  it("refuses an Origin that is not allowed and accepts an allowed one or none", async () => {
    await expect(open(t.wsUrl, { Origin: "https://evil.example" })).rejects.toThrow(/403/);
    (await open(t.wsUrl, { Origin: "https://wallet.example" })).close();
    (await open(t.wsUrl)).close();
  });

  it("pings again once a socket opens after every socket had closed (the heartbeat sleeps meanwhile)", async () => {
    const first = await open(t.wsUrl);
    first.close();
    await closed(first);
    // If the heartbeat has not stopped by then, the test proves less but does not fail: no race.
    await holdStill(300, "several heartbeat ticks (200 ms) with no socket: the heartbeat stops");
    const sweptBefore = t.logs.filter((l) => l.event === "relay.ws_swept").length;
    const silent = await open(t.wsUrl);
    (silent as unknown as { _socket: { pause(): void } })._socket.pause();
    await waitFor(
      "the new silent socket dropped by the relay",
      () => t.logs.filter((l) => l.event === "relay.ws_swept").length > sweptBefore,
      5000,
    );
    silent.terminate();
  });

  /** Opens a socket and learns the id the relay gave it, from a frame it wrote to the inbound partitions. */
  async function openIdentified(): Promise<{ ws: WebSocket; socketId: string }> {
    const ws = await open(t.wsUrl);
    ws.on("message", () => {});
    const kid = randomVerkey();
    ws.send(fakeJwe(kid), { binary: true });
    const seen = await waitFor("the frame written", () => echo.seen.find((m) => m.recipientKey === kid), 5000);
    return { ws, socketId: seen.socketId };
  }

  /** Writes a CloseSocket command to the relay's inbox, as the shim does. */
  async function shimClose(socketId: string, code: number, reason: string): Promise<void> {
    const command = create(RelayCommandSchema, { command: { case: "close", value: { socketId, code, reason } } });
    expect(await pushToRelayInbox(client, keyspace, t.relay.relayId, command)).toBe("OK");
  }

  it("closes a socket on a close command whose reason is over 123 bytes, with the reason cut on a character boundary", async () => {
    const { ws, socketId } = await openIdentified();
    const gone = closed(ws);
    await shimClose(socketId, 4000, "é".repeat(70)); // 140 bytes in UTF-8
    expect(await gone).toEqual({ code: 4000, reason: "é".repeat(61) });
    expect(t.logs.some((l) => l.event === "relay.close_adjusted" && l.socket === socketId)).toBe(true);
  });

  it("closes a socket with 1011 on a close command whose code no close frame may carry, and goes on with the next command", async () => {
    const first = await openIdentified();
    const second = await openIdentified();
    const firstGone = closed(first.ws);
    const secondGone = closed(second.ws);
    await shimClose(first.socketId, 1005, "reserved code");
    await shimClose(second.socketId, 1000, "bye");
    expect(await firstGone).toEqual({ code: 1011, reason: "reserved code" });
    expect(await secondGone).toEqual({ code: 1000, reason: "bye" });
  });

  it("terminates a socket that stops answering pings", async () => {
    const ws = await open(t.wsUrl);
    // Stop answering pings: ws answers automatically, so pause the underlying socket.
    (ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const before = Date.now();
    await waitFor("socket dropped by the relay", () => t.logs.some((l) => l.event === "relay.ws_swept"), 5000);
    expect(Date.now() - before).toBeLessThan(2000);
    ws.terminate();
  });
});

/** The current value of an unlabelled metric of a relay's registry. */
async function metricValue(t: TestRelay, name: string): Promise<number> {
  const metric = t.metrics.getSingleMetric(name);
  return (await metric?.get())?.values[0]?.value ?? 0;
}

describe("relay WebSocket ingress while Redis is slow", () => {
  it("writes at most ws-max-frames-in-flight frames of one socket at once, pausing its reading meanwhile, and writes every frame once Redis is back", async () => {
    // A Redis of its own: CLIENT PAUSE would hold up every other test file's relays too.
    const redis = await RedisServer.start();
    const t = await startTestRelay({
      redisUrl: redis.url,
      prefix: uniquePrefix("relay-ws-in-flight"),
      config: { wsMaxFramesInFlight: 4 },
    });
    const admin = createRedisClient({ url: redis.url, cluster: false }, "commands");
    const keyspace = new Keyspace(t.connection.prefix, partitionCountsOf(t.connection.partitions));
    const written = async () => {
      const lengths = await Promise.all(keyspace.allPartitions("inboundQueue").map((key) => admin.xlen(key)));
      return lengths.reduce((sum, n) => sum + n, 0);
    };
    const ws = await open(t.wsUrl);
    try {
      ws.send(fakeJwe(randomVerkey()), { binary: true });
      await waitFor("the first frame written", async () => (await written()) === 1, 5000);

      await admin.call("CLIENT", "PAUSE", "2000", "WRITE");
      const pausedAt = Date.now();
      for (let i = 0; i < 40; i++) ws.send(fakeJwe(randomVerkey()), { binary: true });
      let mostInFlight = 0;
      while (Date.now() - pausedAt < 1500) {
        mostInFlight = Math.max(mostInFlight, await metricValue(t, "acapy_bridge_relay_ws_frames_in_flight"));
        await holdStill(10, "samples the in-flight gauge through the pause's window");
      }
      expect(mostInFlight).toBe(4);
      expect(await written()).toBe(1);
      expect(await metricValue(t, "acapy_bridge_relay_ws_read_pauses_total")).toBeGreaterThan(0);

      await waitFor("every frame written once Redis is back", async () => (await written()) === 41, 15_000);
      expect(await metricValue(t, "acapy_bridge_relay_ws_frames_in_flight")).toBe(0);
      expect(t.logs.some((l) => l.event === "relay.redis_unavailable")).toBe(false);
    } finally {
      ws.terminate();
      await t.relay.stop();
      await closeRedisClient(admin);
      await redis.stop();
    }
  });
});

/** A raw WebSocket upgrade request, so that the test controls the TCP connection (ws clients cannot reset it). */
function upgradeRequest(origin: string): string {
  return [
    "GET / HTTP/1.1",
    "Host: relay.test",
    "Upgrade: websocket",
    "Connection: Upgrade",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version: 13",
    `Origin: ${origin}`,
    "",
    "",
  ].join("\r\n");
}

// A real relay process: an unhandled socket error ends the process, which vitest's own handler would hide in-process.
describe("relay process refusing WebSocket upgrades", () => {
  let relay: BridgeProcess | undefined;
  afterAll(async () => {
    await relay?.stop();
  });

  it("stays up when a client resets the connection before its refused upgrade is answered", async () => {
    relay = await BridgeProcess.start(
      "relay",
      loopbackBridgeArgs("relay", inject("redisUrl"), uniquePrefix("relay-ws-reset"), [
        "--allowed-origins",
        "https://wallet.example",
      ]),
    );
    const httpAddress = relay.address("http");
    const port = Number(httpAddress.slice(httpAddress.lastIndexOf(":") + 1));
    for (let i = 0; i < 5; i++) {
      const socket = connect(port, "127.0.0.1");
      await once(socket, "connect");
      await new Promise<void>((resolve, reject) =>
        socket.write(upgradeRequest("https://evil"), (error) => (error ? reject(error) : resolve())),
      );
      socket.resetAndDestroy();
    }
    // The refusal is still answered, on a connection that waits for it.
    const polite = connect(port, "127.0.0.1");
    polite.write(upgradeRequest("https://evil"));
    let answer = "";
    polite.on("data", (chunk: Buffer) => {
      answer += chunk.toString();
    });
    await once(polite, "close");
    expect(answer).toMatch(/^HTTP\/1\.1 403 /);
    const live = await fetch(`http://${relay.address("ops")}/health/live`);
    expect(live.status).toBe(200);
    expect(relay.isRunning).toBe(true);
  }, 60_000);
});
