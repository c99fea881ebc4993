import {
  closeRedisClient,
  createRedisClient,
  encodeEnvelope,
  enqueueEnvelope,
  ensureTopology,
  JobKind,
  OutboundJobSchema,
  partitionOf,
  waitUntilReady,
} from "@acapy-bridge/protocol";
import {
  BridgeProcess,
  loopbackBridgeArgs,
  RedisServer,
  uniquePrefix,
  WebhookSink,
  waitFor,
} from "@acapy-bridge/test-harness";
import { create } from "@bufbuild/protobuf";
import { afterAll, expect, it } from "vitest";

// Issue 18: the Redis password was logged in clear in process.starting, and an invalid
// endpoint URL verbatim (credentials and api_key included) in deliverer.dead_letter.
const REDIS_PASSWORD = "redis-pw-9f3a1c";
const SECRETS = [REDIS_PASSWORD, "endpoint-pw-77b2", "apikey-q-51de", "webhook-key-0c4e", "token-q-8a11"];

const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
});

it("logs no Redis password, endpoint credential, api_key query or x-api-key header", async () => {
  const redis = await RedisServer.start();
  cleanup.push(() => redis.stop());
  await redis.cli("ACL", "SETUSER", "bridge", "on", `>${REDIS_PASSWORD}`, "~*", "&*", "+@all");
  const sink = await WebhookSink.start(() => 410);
  cleanup.push(() => sink.close());
  const prefix = uniquePrefix("secrets");
  const redisUrl = `redis://bridge:${REDIS_PASSWORD}@127.0.0.1:${redis.port}`;
  const bridge = await BridgeProcess.start("all", loopbackBridgeArgs("all", redisUrl, prefix));
  cleanup.push(() => bridge.stop());

  const client = createRedisClient({ url: redisUrl, cluster: false }, "commands");
  cleanup.push(() => closeRedisClient(client));
  await waitUntilReady(client);
  const keyspace = await ensureTopology(client, prefix, {
    inboundPartitions: 16,
    outboundPartitions: 16,
    eventPartitions: 4,
    adminPartitions: 1,
  });
  const sinkAddress = new URL(sink.url).host;
  const endpoints = {
    // Not a URL (a space in the host): the deliverer dead-letters it with the endpoint in the detail.
    "secret-invalid": "http://agent:endpoint-pw-77b2@bad host/in?api_key=apikey-q-51de",
    // A URL the sink refuses for good (410): dead-lettered after one attempt.
    "secret-gone": `http://agent:endpoint-pw-77b2@${sinkAddress}/topic/x/?token=token-q-8a11`,
  };
  for (const [mid, endpoint] of Object.entries(endpoints)) {
    const job = create(OutboundJobSchema, {
      mid,
      kind: JobKind.WEBHOOK,
      recipientKey: `webhook:${mid}`,
      endpoint,
      contentType: "application/json",
      headers: { "x-api-key": "webhook-key-0c4e" },
      body: new TextEncoder().encode("{}"),
      createdAtMs: BigInt(Date.now()),
      expiresAtMs: BigInt(Date.now() + 600_000),
    });
    const partition = partitionOf(job.recipientKey, keyspace.partitionCount("outboundQueue"));
    await enqueueEnvelope(client, {
      stream: keyspace.key("outboundQueue", { partition }),
      entryField: keyspace.spec("outboundQueue").entryField,
      payload: encodeEnvelope(OutboundJobSchema, job),
      highWaterMark: 0,
    });
  }
  await waitFor(
    "both jobs dead-lettered",
    async () => new Set(bridge.events("deliverer.dead_letter").map((l) => l.mid)).size === 2,
    30_000,
    100,
  );

  const starting = bridge.events("process.starting")[0] as { options: Record<string, string> };
  expect(starting.options["redis-url"]).toBe(`redis://bridge:***@127.0.0.1:${redis.port}`);
  const invalid = bridge.events("deliverer.dead_letter").find((l) => l.mid === "secret-invalid");
  expect(invalid?.detail).toContain("http://agent:***@bad host/in?api_key=***");
  const logs = bridge.lines.map((line) => JSON.stringify(line)).join("\n");
  for (const secret of SECRETS) expect(logs, secret).not.toContain(secret);
}, 90_000);
