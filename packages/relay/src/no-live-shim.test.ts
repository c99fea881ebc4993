import {
  AgentMessageSchema,
  closeRedisClient,
  createRedisClient,
  decodeEnvelope,
  InboundKind,
  Keyspace,
  partitionCountsOf,
  type RedisClient,
} from "@acapy-bridge/protocol";
import { uniquePrefix } from "@acapy-bridge/test-harness";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { EchoConsumer } from "../test-fixtures/echo-consumer.js";
import { fakeJwe, randomVerkey } from "../test-fixtures/fake-envelopes.js";
import { startTestRelay, type TestRelay } from "../test-fixtures/relay-harness.js";

const ENC = "application/didcomm-envelope-enc";
const REPLY_TIMEOUT_MS = 15_000;

async function timedPost(url: string, body: Buffer) {
  const started = Date.now();
  const res = await fetch(url, { method: "POST", headers: { "content-type": ENC }, body });
  const text = await res.text();
  return { status: res.status, text, ms: Date.now() - started };
}

function metricLine(text: string, name: string, labels: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.slice(line.lastIndexOf(" ") + 1)) : 0;
}

// Issue 18: with every ACA-Py down, each authcrypted POST was held for the full reply timeout (15 s)
// and then answered 202. With no live shim no direct response can come: the message is stored all
// the same (nothing lost) and answered 202 at once, counted as outcome="no_live_shim".
describe("relay with no live shim", () => {
  let t: TestRelay;
  let client: RedisClient;
  let keyspace: Keyspace;
  const blocking: RedisClient[] = [];

  beforeAll(async () => {
    t = await startTestRelay({
      redisUrl: inject("redisUrl"),
      prefix: uniquePrefix("no-live-shim"),
      config: { replyTimeoutMs: REPLY_TIMEOUT_MS },
    });
    client = createRedisClient({ url: inject("redisUrl"), cluster: false }, "commands");
    keyspace = new Keyspace(t.connection.prefix, partitionCountsOf(t.connection.partitions));
  });
  afterAll(async () => {
    await t.relay.stop();
    await Promise.all([client, ...blocking].map((c) => closeRedisClient(c)));
  });

  it("answers an authcrypted POST 202 at once, keeps the message queued and counts it", async () => {
    const kid = randomVerkey();
    const res = await timedPost(t.url, fakeJwe(kid));
    expect(res.status).toBe(202);
    expect(res.ms).toBeLessThan(REPLY_TIMEOUT_MS / 5);

    const stored = [];
    for (const key of keyspace.allPartitions("inboundQueue")) {
      for (const [, fields] of (await client.xrangeBuffer(key, "-", "+")) as [Buffer, Buffer[]][]) {
        stored.push(decodeEnvelope(AgentMessageSchema, fields[1] as Buffer));
      }
    }
    const mine = stored.find((m) => m.recipientKey === kid);
    expect(mine?.kind).toBe(InboundKind.AGENT_MESSAGE);
    // Still names its request: a shim that takes it later sends its reply back through ACA-Py.
    expect(mine?.requestId).toBe(mine?.mid);

    const metrics = await t.metrics.metrics();
    expect(metricLine(metrics, "acapy_bridge_relay_messages_total", 'outcome="no_live_shim"')).toBe(1);
    expect(metrics).toMatch(/^acapy_bridge_relay_live_shims(\{[^}]*\})? 0$/m);
    expect(t.logs.some((l) => l.event === "relay.no_live_shim" && l.level === "warn")).toBe(true);
  });

  it("waits for the direct response again as soon as a shim heartbeats", async () => {
    for (let i = 0; i < 2; i++) {
      blocking.push(createRedisClient({ url: inject("redisUrl"), cluster: false }, "blocking"));
    }
    const echo = new EchoConsumer(blocking, client, keyspace, (m) =>
      m.kind === InboundKind.AGENT_MESSAGE ? { status: 200, contentType: ENC, body: Buffer.from("direct") } : undefined,
    );
    await echo.start();
    try {
      const res = await timedPost(t.url, fakeJwe(randomVerkey()));
      expect(res.status).toBe(200);
      expect(res.text).toBe("direct");
    } finally {
      await echo.stop();
    }
  });
});
