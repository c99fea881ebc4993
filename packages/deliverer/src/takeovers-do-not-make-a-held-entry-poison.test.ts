import { type OutboundJob, pendingOf } from "@acapy-bridge/protocol";
import { uniquePrefix, waitFor } from "@acapy-bridge/test-harness";
import { afterAll, describe, expect, inject, it } from "vitest";
import {
  closeRedisClient,
  connectionFor,
  enqueueJob,
  makeJob,
  openRedis,
  outboundResidue,
  startTestPartitionWorker,
  type TestPartitionWorker,
} from "../test-fixtures/deliverer-harness.js";
import { readOutboundDeadLetters } from "./dead-letters.js";
import { DEFAULT_DELIVERER_CONFIG } from "./deliverer-options.js";
import type { EndpointDelivery } from "./endpoint-delivery.js";
import type { AttemptOutcome } from "./failure-policy.js";

describe("takeovers", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it("do not dead-letter as POISON an entry held by a hanging endpoint through six hand-overs", async () => {
    const connection = connectionFor(inject("redisUrl"), uniquePrefix("takeover-poison"));
    const { client, keyspace } = await openRedis(connection);
    cleanup.push(() => closeRedisClient(client));
    // An endpoint that never answers while it hangs: every owner's attempt is still in flight when it loses the partition.
    const answers: ((outcome: AttemptOutcome) => void)[] = [];
    const hangingEndpoint = {
      deliver: (_job: OutboundJob) => new Promise<AttemptOutcome>((answer) => answers.push(answer)),
    } as unknown as EndpointDelivery;
    const job = makeJob({ recipientKey: "rk-held", endpoint: "https://agent.example/slow" });
    const partition = await enqueueJob(client, keyspace, job);
    const maxDeliveries = DEFAULT_DELIVERER_CONFIG.maxDeliveries;
    const handOvers = 6;
    expect(maxDeliveries).toBeLessThan(2 * handOvers); // two per hand-over would have made it poison

    let owner: TestPartitionWorker | undefined;
    for (let ownership = 0; ownership <= handOvers; ownership++) {
      await owner?.stop();
      owner = await startTestPartitionWorker(
        connection,
        client,
        keyspace,
        partition,
        ownership % 2 === 0 ? "d-held-a" : "d-held-b",
        { delivery: hangingEndpoint, config: { maxDeliveries, partitionBuffer: 10_000 } },
      );
      await waitFor(
        `owner ${ownership} attempting the job, or a dead letter`,
        async () => answers.length > ownership || (await readOutboundDeadLetters(client, keyspace)).length > 0,
        10_000,
      );
      expect(await readOutboundDeadLetters(client, keyspace)).toEqual([]);
    }
    const last = owner as TestPartitionWorker;
    cleanup.push(() => last.stop());
    // Handed out once at first and once per hand-over; the takeover claims did not count.
    const pending = await pendingOf(client, last.scripts.stream, last.scripts.group, "d-held-a", 10);
    expect(pending.map((p) => p.deliveries)).toEqual([1 + handOvers]);

    // The endpoint answers at last: the job is delivered and leaves nothing behind.
    answers.at(-1)?.({ ok: true, status: 200 });
    await waitFor("no residue", async () => {
      const r = await outboundResidue(client, keyspace);
      return r.backlog === 0 && r.pending === 0 && r.parked === 0;
    });
    expect(await readOutboundDeadLetters(client, keyspace)).toEqual([]);
  });
});
