import { DeadLetterReason, partitionOf } from "@acapy-bridge/protocol";
import { uniquePrefix, waitFor } from "@acapy-bridge/test-harness";
import { afterAll, describe, expect, inject, it } from "vitest";
import {
  closeRedisClient,
  connectionFor,
  enqueueJob,
  makeJob,
  openRedis,
  outboundResidue,
  RecordingSink,
  startTestDeliverer,
} from "../test-fixtures/deliverer-harness.js";
import { readOutboundDeadLetters } from "./dead-letters.js";

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
});
