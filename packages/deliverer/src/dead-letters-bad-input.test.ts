import { createRedisClient, DeadLetterReason, lua, partitionOf } from "@acapy-bridge/protocol";
import { uniquePrefix, waitFor } from "@acapy-bridge/test-harness";
import { afterAll, describe, expect, inject, it } from "vitest";
import {
  closeRedisClient,
  connectionFor,
  enqueueJob,
  FAST_CONFIG,
  makeJob,
  openRedis,
  outboundResidue,
  RecordingSink,
  startTestDeliverer,
  testServices,
} from "../test-fixtures/deliverer-harness.js";
import { AckBatcher } from "./ack-batcher.js";
import { readOutboundDeadLetters } from "./dead-letters.js";
import { createDelivererMetrics } from "./deliverer-metrics.js";
import type { EndpointDelivery } from "./endpoint-delivery.js";
import { PartitionWorker } from "./outbound-consumer.js";
import { PartitionScripts } from "./partition-scripts.js";

// Issue 4, "Done when" 6: bad input goes to the dead-letter stream with a reason; the deliverer keeps running.
describe("dead letters", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it("dead-letters invalid URLs, unsupported schemes, corrupt entries, rejections, expired and exhausted jobs, and keeps delivering", async () => {
    const connection = connectionFor(inject("redisUrl"), uniquePrefix("dlq"));
    const sink = await RecordingSink.start((req) => (req.path === "/gone" ? 410 : req.path === "/broken" ? 500 : 200));
    cleanup.push(() => sink.close());
    const { client, keyspace } = await openRedis(connection);
    cleanup.push(() => closeRedisClient(client));
    const { deliverer } = await startTestDeliverer(connection, "d-dlq", { maxAttempts: 3 });
    cleanup.push(() => deliverer.stop());

    const jobs = {
      invalid: makeJob({ recipientKey: "rk-invalid", endpoint: "http//missing-colon" }),
      scheme: makeJob({ recipientKey: "rk-scheme", endpoint: "ftp://127.0.0.1/x" }),
      queue: makeJob({ recipientKey: "rk-queue", endpoint: "didcomm:transport/queue" }),
      gone: makeJob({ recipientKey: "rk-gone", endpoint: `${sink.url}/gone` }),
      expired: makeJob({ recipientKey: "rk-expired", endpoint: `${sink.url}/ok`, expiresAtMs: BigInt(Date.now() - 1) }),
      broken: makeJob({ recipientKey: "rk-broken", endpoint: `${sink.url}/broken` }),
    };
    for (const job of Object.values(jobs)) await enqueueJob(client, keyspace, job);
    // Raw garbage written straight into a partition stream, as a buggy producer might.
    const corruptPartition = partitionOf("rk-corrupt", keyspace.partitionCount("outboundQueue"));
    const stream = keyspace.key("outboundQueue", { partition: corruptPartition });
    await client.xadd(
      stream,
      "*",
      keyspace.spec("outboundQueue").entryField,
      Buffer.from([0xff, 0xfe, 0x00, 0x13, 0x37]),
    );
    await client.xadd(stream, "*", "unexpected-field", "no envelope here");

    const letters = await waitFor(
      "8 dead letters",
      async () => {
        const all = await readOutboundDeadLetters(client, keyspace);
        return all.length >= 8 ? all : undefined;
      },
      15_000,
    );
    const byMid = new Map(letters.map((l) => [l.letter.mid, l.letter]));
    expect(byMid.get(jobs.invalid.mid)?.reason).toBe(DeadLetterReason.INVALID_ENDPOINT);
    expect(byMid.get(jobs.scheme.mid)?.reason).toBe(DeadLetterReason.UNSUPPORTED_SCHEME);
    expect(byMid.get(jobs.queue.mid)?.reason).toBe(DeadLetterReason.UNSUPPORTED_SCHEME);
    expect(byMid.get(jobs.gone.mid)).toMatchObject({
      reason: DeadLetterReason.REJECTED,
      detail: "HTTP 410",
      attempts: 1,
    });
    expect(byMid.get(jobs.expired.mid)?.reason).toBe(DeadLetterReason.EXPIRED);
    expect(byMid.get(jobs.broken.mid)).toMatchObject({
      reason: DeadLetterReason.ATTEMPTS_EXHAUSTED,
      detail: "HTTP 500",
      attempts: 3,
    });
    // The original job is kept for a requeue with the same mid.
    expect(byMid.get(jobs.gone.mid)?.original.case).toBe("outboundJob");
    const malformed = letters.filter((l) => l.letter.reason === DeadLetterReason.MALFORMED);
    expect(malformed).toHaveLength(2);
    expect(malformed[0]?.letter.original.case).toBe("undecodable");
    expect(malformed.every((l) => l.letter.detail.length > 0)).toBe(true);
    expect(sink.received.filter((r) => r.path === "/broken")).toHaveLength(3);

    // Still running: a good job afterwards is delivered.
    const good = makeJob({ recipientKey: "rk-good", endpoint: `${sink.url}/ok`, body: Buffer.from("fine") });
    await enqueueJob(client, keyspace, good);
    await waitFor("the good job", () => sink.delivered.some((r) => r.body.toString() === "fine"), 5_000);
    expect(sink.delivered.filter((r) => r.path === "/ok")).toHaveLength(1); // the expired one never went out
    await waitFor("no residue", async () => {
      const r = await outboundResidue(client, keyspace);
      return r.backlog === 0 && r.pending === 0 && r.parked === 0;
    });
  });

  it("dead-letters a job to a WebSocket URL with a fragment as INVALID_ENDPOINT and holds nothing", async () => {
    const connection = connectionFor(inject("redisUrl"), uniquePrefix("dlq-ws-fragment"));
    const { client, keyspace } = await openRedis(connection);
    cleanup.push(() => closeRedisClient(client));
    const { deliverer } = await startTestDeliverer(connection, "d-dlq-ws-fragment");
    cleanup.push(() => deliverer.stop());

    const job = makeJob({ recipientKey: "rk-ws-fragment", endpoint: "ws://127.0.0.1:1/p#x" });
    await enqueueJob(client, keyspace, job);

    const [letter] = await waitFor("the dead letter", async () => {
      const all = await readOutboundDeadLetters(client, keyspace);
      return all.length > 0 ? all : undefined;
    });
    expect(letter?.letter).toMatchObject({ mid: job.mid, reason: DeadLetterReason.INVALID_ENDPOINT, attempts: 1 });
    expect(letter?.letter.detail).toContain("fragment");
    expect(await outboundResidue(client, keyspace)).toEqual({ backlog: 0, pending: 0, parked: 0 });
  });

  it("dead-letters a job with headers the HTTP client refuses as MALFORMED after one attempt, sending nothing", async () => {
    const connection = connectionFor(inject("redisUrl"), uniquePrefix("dlq-bad-headers"));
    const sink = await RecordingSink.start();
    cleanup.push(() => sink.close());
    const { client, keyspace } = await openRedis(connection);
    cleanup.push(() => closeRedisClient(client));
    // Many attempts allowed: a retried job would still be in backoff when the test looks.
    const { deliverer, services } = await startTestDeliverer(connection, "d-dlq-bad-headers", { maxAttempts: 15 });
    cleanup.push(() => deliverer.stop());

    const newlineInValue = makeJob({
      recipientKey: "rk-newline",
      endpoint: `${sink.url}/h`,
      headers: { "x-bad": "a\nb" },
    });
    const expectHeader = makeJob({
      recipientKey: "rk-expect",
      endpoint: `${sink.url}/h`,
      headers: { expect: "100-continue" },
    });
    for (const job of [newlineInValue, expectHeader]) await enqueueJob(client, keyspace, job);

    const letters = await waitFor("2 dead letters", async () => {
      const all = await readOutboundDeadLetters(client, keyspace);
      return all.length >= 2 ? all : undefined;
    });
    const byMid = new Map(letters.map((l) => [l.letter.mid, l.letter]));
    for (const job of [newlineInValue, expectHeader]) {
      expect(byMid.get(job.mid)).toMatchObject({ reason: DeadLetterReason.MALFORMED, attempts: 1 });
    }
    expect(byMid.get(newlineInValue.mid)?.detail).toContain("UND_ERR_INVALID_ARG");
    expect(byMid.get(expectHeader.mid)?.detail).toContain("UND_ERR_NOT_SUPPORTED");
    expect(sink.received).toHaveLength(0); // refused before anything was sent
    expect(await services.metrics.metrics()).toMatch(/dead_letters_total\{[^}]*reason="MALFORMED"[^}]*\} 2/);
    expect(await outboundResidue(client, keyspace)).toEqual({ backlog: 0, pending: 0, parked: 0 });
  });

  it("dead-letters a job whose transport throws after one attempt instead of retrying it in place", async () => {
    const connection = connectionFor(inject("redisUrl"), uniquePrefix("dlq-throws"));
    const { client, keyspace } = await openRedis(connection);
    cleanup.push(() => closeRedisClient(client));
    const job = makeJob({ recipientKey: "rk-throws", endpoint: "https://agent.example/" });
    const partition = await enqueueJob(client, keyspace, job);
    const leaseValue = "d-dlq-throws:1";
    const scripts = new PartitionScripts(client, keyspace, partition, leaseValue, 0);
    expect(await lua.leaseAcquire(client, { lease: scripts.lease, owner: leaseValue, ttlMs: 60_000 })).toEqual(["OK"]);
    let attempts = 0;
    const throwingDelivery = {
      deliver: () => {
        attempts++;
        throw new TypeError("cannot build a request from this job");
      },
    } as unknown as EndpointDelivery;
    const services = testServices("d-dlq-throws");
    const acks = new AckBatcher(client);
    cleanup.push(async () => acks.close());
    const worker = new PartitionWorker({
      scripts,
      commands: client,
      openBlocking: () => createRedisClient(connection.redis, "blocking"),
      delivery: throwingDelivery,
      acks,
      config: { ...FAST_CONFIG, maxAttempts: 15 },
      instanceId: "d-dlq-throws",
      logger: services.logger,
      metrics: createDelivererMetrics(services.metrics),
      onFenced: () => {},
    });
    await worker.start();
    cleanup.push(() => worker.stop(0));

    const [letter] = await waitFor(
      "the dead letter",
      async () => {
        const all = await readOutboundDeadLetters(client, keyspace);
        return all.length > 0 ? all : undefined;
      },
      5_000,
    );
    expect(letter?.letter).toMatchObject({ mid: job.mid, reason: DeadLetterReason.MALFORMED, attempts: 1 });
    expect(letter?.letter.detail).toContain("cannot build a request from this job");
    expect(attempts).toBe(1);
    await waitFor("nothing held", () => worker.heldEntries === 0);
    const residue = await outboundResidue(client, keyspace);
    expect(residue).toEqual({ backlog: 0, pending: 0, parked: 0 });
  });
});
