import { uniquePrefix, waitFor } from "@acapy-bridge/test-harness";
import { afterAll, describe, expect, inject, it } from "vitest";
import {
  closeRedisClient,
  connectionFor,
  enqueueJob,
  makeJob,
  openRedis,
  orderViolations,
  outboundResidue,
  RecordingSink,
  startTestDeliverer,
} from "../test-fixtures/deliverer-harness.js";

function seqOf(body: Buffer): { rk: string; seq: number } {
  return JSON.parse(body.toString()) as { rk: string; seq: number };
}

describe("deliverer on a standalone Redis", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it("delivers every job once, in order per recipient, and leaves nothing behind", async () => {
    const connection = connectionFor(inject("redisUrl"), uniquePrefix("order"));
    const sink = await RecordingSink.start();
    cleanup.push(() => sink.close());
    const { client, keyspace } = await openRedis(connection);
    cleanup.push(() => closeRedisClient(client));
    const { deliverer } = await startTestDeliverer(connection, "d-order");
    cleanup.push(() => deliverer.stop());

    const recipients = Array.from({ length: 20 }, (_, i) => `rk-order-${i}`);
    for (let seq = 0; seq < 15; seq++) {
      for (const rk of recipients) {
        await enqueueJob(
          client,
          keyspace,
          makeJob({
            recipientKey: rk,
            endpoint: `${sink.url}/${rk}`,
            contentType: "application/json",
            body: Buffer.from(JSON.stringify({ rk, seq })),
          }),
        );
      }
    }
    await waitFor("300 deliveries", () => sink.delivered.length >= 300, 20_000);
    const got = sink.delivered.map((r) => seqOf(r.body));
    expect(orderViolations(got)).toEqual([]);
    expect(new Set(got.map((g) => `${g.rk}#${g.seq}`)).size).toBe(300);
    expect(sink.delivered[0]?.headers["content-type"]).toBe("application/json");
    await waitFor("no residue", async () => {
      const r = await outboundResidue(client, keyspace);
      return r.backlog === 0 && r.pending === 0 && r.parked === 0;
    });
  });

  it("parks a failing recipient in order while the others keep flowing, then delivers it", async () => {
    const connection = connectionFor(inject("redisUrl"), uniquePrefix("park"));
    let downUntil = Date.now() + 1_500;
    const sink = await RecordingSink.start((req) => (req.path === "/down" && Date.now() < downUntil ? 503 : 200));
    cleanup.push(() => sink.close());
    const { client, keyspace } = await openRedis(connection);
    cleanup.push(() => closeRedisClient(client));
    const { deliverer } = await startTestDeliverer(connection, "d-park", { maxAttempts: 50 });
    cleanup.push(() => deliverer.stop());
    downUntil = Date.now() + 1_500;

    for (let seq = 0; seq < 20; seq++) {
      for (const rk of ["rk-down", "rk-up-1", "rk-up-2"]) {
        await enqueueJob(
          client,
          keyspace,
          makeJob({
            recipientKey: rk,
            endpoint: `${sink.url}/${rk === "rk-down" ? "down" : "up"}`,
            contentType: "application/json",
            body: Buffer.from(JSON.stringify({ rk, seq })),
          }),
        );
      }
    }
    // The healthy recipients are done while the failing one is still in backoff.
    await waitFor(
      "healthy recipients delivered",
      () => sink.delivered.filter((r) => r.path === "/up").length >= 40,
      5_000,
    );
    expect(Date.now()).toBeLessThan(downUntil);
    const parkedNow = await outboundResidue(client, keyspace);
    expect(parkedNow.parked).toBe(1);

    await waitFor(
      "failing recipient delivered after recovery",
      () => sink.delivered.filter((r) => r.path === "/down").length >= 20,
      15_000,
    );
    const down = sink.delivered.filter((r) => r.path === "/down").map((r) => seqOf(r.body));
    expect(orderViolations(down)).toEqual([]);
    expect(down.map((d) => d.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(sink.received.filter((r) => r.path === "/down" && r.status === 503).length).toBeGreaterThan(1);
    await waitFor("no residue", async () => {
      const r = await outboundResidue(client, keyspace);
      return r.backlog === 0 && r.pending === 0 && r.parked === 0;
    });
  });

  it("acknowledges a recipient's delivered entry before it parks the next one, however long acknowledgements linger", async () => {
    const connection = connectionFor(inject("redisUrl"), uniquePrefix("ack-before-park"));
    let answered = 0;
    const sink = await RecordingSink.start(() => (answered++ === 0 ? 200 : 503));
    cleanup.push(() => sink.close());
    const { client, keyspace } = await openRedis(connection);
    cleanup.push(() => closeRedisClient(client));
    // A linger far longer than the test: only the deliverer's ordering can have sent the first ack.
    const { deliverer } = await startTestDeliverer(connection, "d-ack-park", { maxAttempts: 50, ackLingerMs: 60_000 });
    cleanup.push(() => deliverer.stop());

    for (const seq of [0, 1]) {
      await enqueueJob(
        client,
        keyspace,
        makeJob({
          recipientKey: "rk-flaky",
          endpoint: `${sink.url}/flaky`,
          contentType: "application/json",
          body: Buffer.from(JSON.stringify({ rk: "rk-flaky", seq })),
        }),
      );
    }
    await waitFor("the second job parked", async () => (await outboundResidue(client, keyspace)).parked === 1, 10_000);
    expect(sink.delivered.map((r) => seqOf(r.body).seq)).toEqual([0]);
    // Had the parked job's entry left the stream before the delivered one's, a crash now would
    // deliver job 0 again after job 1.
    const residue = await outboundResidue(client, keyspace);
    expect({ backlog: residue.backlog, pending: residue.pending }).toEqual({ backlog: 0, pending: 0 });
  });
});
