import {
  AgentMessageSchema,
  closeRedisClient,
  createRedisClient,
  DirectReplySchema,
  decodeEnvelope,
  encodeEnvelope,
  InboundKind,
  Keyspace,
  partitionCountsOf,
  type RedisClient,
  RelayCommandSchema,
  Transport,
  waitUntilReady,
} from "@acapy-bridge/protocol";
import { holdStill, RedisServer, uniquePrefix, waitFor } from "@acapy-bridge/test-harness";
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { EchoConsumer } from "../test-fixtures/echo-consumer.js";
import { fakeJwe, randomVerkey } from "../test-fixtures/fake-envelopes.js";
import { startTestRelay, type TestRelay } from "../test-fixtures/relay-harness.js";

const ENC = "application/didcomm-envelope-enc";

function keyspaceOf(t: TestRelay): Keyspace {
  return new Keyspace(t.connection.prefix, partitionCountsOf(t.connection.partitions));
}

async function inboundEntries(client: RedisClient, keyspace: Keyspace) {
  const out = [];
  for (const key of keyspace.allPartitions("inboundQueue")) {
    const rows = (await client.xrangeBuffer(key, "-", "+")) as [Buffer, Buffer[]][];
    for (const [, fields] of rows) out.push(decodeEnvelope(AgentMessageSchema, fields[1] as Buffer));
  }
  return out;
}

async function post(url: string, body: string | Buffer, contentType = ENC) {
  const res = await fetch(url, { method: "POST", headers: { "content-type": contentType }, body });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()), headers: res.headers };
}

describe("relay HTTP ingress", () => {
  let t: TestRelay;
  let client: RedisClient;
  let keyspace: Keyspace;

  beforeAll(async () => {
    t = await startTestRelay({
      redisUrl: inject("redisUrl"),
      prefix: uniquePrefix("relay-http"),
      config: { replyTimeoutMs: 1500, maxMessageBytes: 64 * 1024 },
    });
    client = createRedisClient({ url: inject("redisUrl"), cluster: false }, "commands");
    keyspace = keyspaceOf(t);
  });
  afterAll(async () => {
    await t.relay.stop();
    await closeRedisClient(client);
  });

  it("answers GET / with 200 and GET /?c_i= with the invitation text, like ACA-Py", async () => {
    expect((await fetch(`${t.url}/`)).status).toBe(200);
    const res = await fetch(`${t.url}/?c_i=abc`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("connection invitation");
  });

  it("rejects empty, garbage, non-object, non-envelope and oversized bodies with a clear status, a log line and nothing in Redis", async () => {
    const cases: [string, string | Buffer, number, string][] = [
      ["empty", "", 400, "empty"],
      ["garbage", "\u0000\u0001not json at all", 400, "not_json"],
      ["array", "[1,2,3]", 400, "not_object"],
      ["no envelope", JSON.stringify({ hello: "world" }), 400, "not_envelope"],
      ["oversized", Buffer.alloc(64 * 1024 + 1, 0x61), 413, "too_large"],
    ];
    for (const [name, body, status, reason] of cases) {
      const res = await post(t.url, body);
      expect(res.status, name).toBe(status);
      expect(JSON.parse(res.body.toString()).error, name).toBe(reason);
      expect(
        t.logs.some((l) => l.event === "relay.rejected" && l.reason === reason),
        `log line for ${name}`,
      ).toBe(true);
    }
    expect(await inboundEntries(client, keyspace)).toEqual([]);
    expect(await client.keys(`${t.connection.prefix}:*seen*`)).toEqual([]);
    // still serving
    expect((await fetch(`${t.url}/`)).status).toBe(200);
  });

  it("writes an anoncrypted message to its recipient's partition and answers 200 at once (no direct response is possible)", async () => {
    const kid = randomVerkey();
    const res = await post(t.url, fakeJwe(kid, "Anoncrypt"));
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(0);
    const entries = await inboundEntries(client, keyspace);
    const mine = entries.find((m) => m.recipientKey === kid);
    expect(mine?.transport).toBe(Transport.HTTP);
    expect(mine?.kind).toBe(InboundKind.AGENT_MESSAGE);
    expect(mine?.requestId).toBe("");
    expect(mine?.relayId).toBe(t.relay.relayId);
    expect(mine?.contentType).toBe(ENC);
    // a byte-identical resend is acknowledged without a second entry
    const again = await post(t.url, Buffer.from(mine?.body ?? []));
    expect(again.status).toBe(200);
    expect((await inboundEntries(client, keyspace)).filter((m) => m.recipientKey === kid)).toHaveLength(1);
  });

  it("accepts an envelope whose recipient it cannot read, routed by sha256 of the body, and lets ACA-Py decide", async () => {
    const body = JSON.stringify({ protected: "!!not base64 json!!", iv: "a", ciphertext: "b", tag: "c" });
    const res = await post(t.url, body);
    // no shim is live in this test: 202 at once, the message stays queued
    expect(res.status).toBe(202);
    const entries = await inboundEntries(client, keyspace);
    expect(entries.some((m) => m.recipientKey.startsWith("sha256:") && Buffer.from(m.body).toString() === body)).toBe(
      true,
    );
  });
});

describe("relay direct responses over HTTP", () => {
  let t: TestRelay;
  let client: RedisClient;
  let keyspace: Keyspace;
  let echo: EchoConsumer;
  const blocking: RedisClient[] = [];
  const delays = new Map<string, number>();

  beforeAll(async () => {
    t = await startTestRelay({
      redisUrl: inject("redisUrl"),
      prefix: uniquePrefix("relay-direct"),
      config: { replyTimeoutMs: 800 },
    });
    client = createRedisClient({ url: inject("redisUrl"), cluster: false }, "commands");
    keyspace = keyspaceOf(t);
    for (let i = 0; i < 4; i++)
      blocking.push(createRedisClient({ url: inject("redisUrl"), cluster: false }, "blocking"));
    echo = new EchoConsumer(blocking, client, keyspace, async (m) => {
      if (m.kind !== InboundKind.AGENT_MESSAGE) return undefined;
      const text = JSON.parse(Buffer.from(m.body).toString()) as { ciphertext: string };
      const delay = delays.get(m.recipientKey);
      if (delay) await holdStill(delay, "a slow ACA-Py behind the relay");
      if (text.ciphertext.startsWith("ask400")) return { status: 400, error: "Message JSON parsing failed" };
      if (text.ciphertext.startsWith("ask500")) return { status: 500, error: "Unexpected error" };
      if (text.ciphertext.startsWith("empty")) return { status: 200 };
      if (text.ciphertext.startsWith("published")) {
        // As the shim answers "no direct response": published on the relay's signals channel, not stored.
        const reply = create(DirectReplySchema, { mid: m.mid, requestId: m.requestId, status: 200 });
        const command = create(RelayCommandSchema, { command: { case: "reply", value: reply } });
        await client.publish(
          keyspace.key("relaySignals", { relay: m.relayId }),
          Buffer.from(encodeEnvelope(RelayCommandSchema, command)),
        );
        return undefined;
      }
      return {
        status: 200,
        contentType: ENC,
        body: Buffer.from(`reply-to-${m.mid}`),
        replyToVerkey: m.recipientKey,
        connectionId: "conn-1",
      };
    });
    await echo.start();
  });
  afterAll(async () => {
    await echo.stop();
    await t.relay.stop();
    await Promise.all([client, ...blocking].map((c) => closeRedisClient(c)));
  });

  // A distinct ciphertext per envelope, so no two requests are byte-identical resends.
  let envelopesMade = 0;
  function jwe(kid: string, ciphertext: string): Buffer {
    const base = JSON.parse(fakeJwe(kid).toString()) as Record<string, string>;
    envelopesMade += 1;
    return Buffer.from(JSON.stringify({ ...base, ciphertext: `${ciphertext}-${envelopesMade}` }));
  }

  it("answers the POST with ACA-Py's direct response body, status and content type", async () => {
    const res = await post(t.url, jwe(randomVerkey(), "hello"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain(ENC);
    expect(res.body.toString()).toMatch(/^reply-to-/);
  });

  it("answers 200 with an empty body when ACA-Py has no direct response", async () => {
    const res = await post(t.url, jwe(randomVerkey(), "empty"));
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(0);
  });

  it("answers 200 with an empty body at once from a bodiless answer published on its signals channel", async () => {
    const started = Date.now();
    const res = await post(t.url, jwe(randomVerkey(), "published"));
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(0);
    expect(Date.now() - started).toBeLessThan(800); // the published answer (nothing is in the inbox), not the reply timeout
  });

  it("passes ACA-Py's 400 and 500 through with the reason", async () => {
    const r400 = await post(t.url, jwe(randomVerkey(), "ask400"));
    expect(r400.status).toBe(400);
    expect(JSON.parse(r400.body.toString()).detail).toContain("parsing failed");
    const r500 = await post(t.url, jwe(randomVerkey(), "ask500"));
    expect(r500.status).toBe(500);
  });

  it("answers 202 when ACA-Py is too slow, and hands the late reply back to ACA-Py as a RETURNED_REPLY", async () => {
    const kid = randomVerkey();
    delays.set(kid, 1500);
    const res = await post(t.url, jwe(kid, "slow"));
    expect(res.status).toBe(202);
    const returned = await waitFor(
      "returned reply in an inbound partition",
      () => echo.seen.find((m) => m.kind === InboundKind.RETURNED_REPLY && m.returnedReply?.replyToVerkey === kid),
      10_000,
    );
    expect(Buffer.from(returned.returnedReply?.body ?? []).toString()).toMatch(/^reply-to-/);
    expect(returned.returnedReply?.connectionId).toBe("conn-1");
    expect(returned.recipientKey).toBe(kid);
    expect(t.logs.some((l) => l.event === "relay.reply_returned")).toBe(true);
  });

  it("finishes a request in flight before it stops (graceful shutdown)", async () => {
    const own = await startTestRelay({ redisUrl: inject("redisUrl"), prefix: t.connection.prefix });
    const kid = randomVerkey();
    delays.set(kid, 300);
    const inFlight = post(own.url, jwe(kid, "hello"));
    await waitFor("request written", () => echo.seen.some((m) => m.recipientKey === kid), 5000, 5);
    const stopped = own.relay.stop();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.body.toString()).toMatch(/^reply-to-/);
    await stopped;
    await expect(fetch(`${own.url}/`)).rejects.toThrow();
  });
});

describe("relay under Redis trouble", () => {
  it("answers 503 with Retry-After when the partition is at its high-water mark", async () => {
    const t = await startTestRelay({
      redisUrl: inject("redisUrl"),
      prefix: uniquePrefix("relay-hwm"),
      partitions: { inboundPartitions: 1 },
      config: { inboundHighWaterMark: 2 },
    });
    try {
      expect((await post(t.url, fakeJwe(randomVerkey(), "Anoncrypt"))).status).toBe(200);
      expect((await post(t.url, fakeJwe(randomVerkey(), "Anoncrypt"))).status).toBe(200);
      const full = await post(t.url, fakeJwe(randomVerkey(), "Anoncrypt"));
      expect(full.status).toBe(503);
      expect(full.headers.get("retry-after")).toBe("2");
      expect(JSON.parse(full.body.toString()).error).toBe("busy");
      expect(t.logs.some((l) => l.event === "relay.partition_full")).toBe(true);
    } finally {
      await t.relay.stop();
    }
  });

  it("answers 503 while Redis is stopped, is not ready, keeps serving, and recovers when Redis is back", async () => {
    const redis = await RedisServer.start();
    const t = await startTestRelay({ redisUrl: redis.url, prefix: uniquePrefix("relay-down") });
    try {
      expect((await post(t.url, fakeJwe(randomVerkey(), "Anoncrypt"))).status).toBe(200);
      expect(t.health.readiness().ready).toBe(true);
      await redis.kill();
      const down = await post(t.url, fakeJwe(randomVerkey(), "Anoncrypt"));
      expect(down.status).toBe(503);
      expect(down.headers.get("retry-after")).toBe("2");
      expect(JSON.parse(down.body.toString()).error).toBe("redis_unavailable");
      expect(t.logs.some((l) => l.event === "relay.redis_unavailable")).toBe(true);
      await waitFor("not ready", () => !t.health.readiness().ready, 5000);
      expect((await fetch(`${t.url}/`)).status).toBe(200);
      await redis.restart();
      await waitFor("ready again", () => t.health.readiness().ready, 15_000);
      const kid = randomVerkey();
      expect((await post(t.url, fakeJwe(kid, "Anoncrypt"))).status).toBe(200);
      // Only the messages answered 200 are in Redis (the restarted Redis is empty: no AOF).
      const client = createRedisClient({ url: redis.url, cluster: false }, "commands");
      await waitUntilReady(client);
      const entries = await inboundEntries(client, keyspaceOf(t));
      await closeRedisClient(client);
      expect(entries.map((e) => e.recipientKey)).toEqual([kid]);
    } finally {
      await t.relay.stop();
      await redis.stop();
    }
  });
});
