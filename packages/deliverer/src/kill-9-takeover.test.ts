import type { ChildProcess } from "node:child_process";
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
  pendingBodiesOf,
  RecordingSink,
} from "../test-fixtures/deliverer-harness.js";
import { killAll, killed, spawnDeliverer } from "../test-fixtures/spawn-deliverer.js";

// Issue 4, "Done when" 4: kill -9 of one of two deliverers while 1,000 messages
// are queued: all 1,000 arrive, none lost; duplicates counted and reported.
describe("kill -9 of a deliverer", () => {
  const children: ChildProcess[] = [];
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    await killAll(children);
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it("loses none of 1,000 queued messages; the survivor takes over the dead one's partitions", async () => {
    const redisUrl = inject("redisUrl");
    const prefix = uniquePrefix("kill9");
    const connection = connectionFor(redisUrl, prefix);
    const sink = await RecordingSink.start();
    sink.delayMs = 15; // slow enough that the kill lands while most messages are still queued
    cleanup.push(() => sink.close());
    const { client, keyspace } = await openRedis(connection);
    cleanup.push(() => closeRedisClient(client));

    // No acknowledgement linger: the duplicate bound below counts what was in flight and one batch
    // on the wire. With the default linger a crash also repeats what was delivered in its last
    // 20 ms (docs/guarantees.md); crash-recovery.e2e.test.ts kills deliverers that run it.
    const config = JSON.stringify({ concurrency: 8, ackLingerMs: 0 });
    const a = await spawnDeliverer({
      REDIS_URL: redisUrl,
      PREFIX: prefix,
      INSTANCE_ID: "kill9-a",
      DELIVERER_CONFIG: config,
    });
    children.push(a);
    const b = await spawnDeliverer({
      REDIS_URL: redisUrl,
      PREFIX: prefix,
      INSTANCE_ID: "kill9-b",
      DELIVERER_CONFIG: config,
    });
    children.push(b);
    const holders = async () => {
      const values = await Promise.all(
        keyspace
          .allPartitions("outboundLease")
          .map((_, partition) => client.get(keyspace.key("outboundLease", { partition }))),
      );
      return values.map((v) => v?.split(":")[0]);
    };
    await waitFor(
      "both deliverers own partitions",
      async () => {
        const h = await holders();
        return h.includes("kill9-a") && h.includes("kill9-b") && h.every(Boolean);
      },
      15_000,
    );
    const ownedByA = (await holders()).filter((h) => h === "kill9-a").length;

    const total = 1_000;
    const pipeline: Promise<number>[] = [];
    for (let seq = 0; seq < 10; seq++) {
      for (let r = 0; r < 100; r++) {
        const rk = `rk-k9-${r}`;
        pipeline.push(
          enqueueJob(
            client,
            keyspace,
            makeJob({
              recipientKey: rk,
              endpoint: `${sink.url}/in`,
              contentType: "application/json",
              body: Buffer.from(JSON.stringify({ rk, seq })),
            }),
          ),
        );
      }
    }
    await Promise.all(pipeline);
    await waitFor("some deliveries", () => sink.delivered.length >= 150, 15_000);
    // B is frozen while A dies, so that what A held unacknowledged is still A's to read: B claims
    // nothing meanwhile. Those entries are the only ones a crash may repeat.
    b.kill("SIGSTOP");
    a.kill("SIGKILL");
    await killed(a);
    const deliveredAtKill = sink.delivered.length;
    const heldByA = new Set(await pendingBodiesOf(client, keyspace, "kill9-a"));
    b.kill("SIGCONT");
    const killedAt = Date.now();

    await waitFor(
      "all 1,000 messages",
      () => new Set(sink.delivered.map((r) => r.body.toString())).size >= total,
      60_000,
      100,
    );
    const takeoverMs = Date.now() - killedAt;
    const bodies = sink.delivered.map((r) => r.body.toString());
    const unique = new Set(bodies);
    const duplicates = bodies.length - unique.size;
    console.log(
      `[kill -9] ${total} queued, ${deliveredAtKill} delivered before the kill, A owned ${ownedByA}/8 partitions; ` +
        `A held ${heldByA.size} unacknowledged; all delivered ${takeoverMs} ms after the kill; duplicates: ${duplicates}`,
    );
    expect(unique.size).toBe(total);
    // Duplicates are what A had delivered but not yet acknowledged when it died, and nothing else:
    // its attempts in flight and the acknowledgements still waiting or on the wire. How many that is
    // depends on how long an acknowledgement takes (8 when run alone here; 26 and 103 with other suites
    // running beside it), so the test checks which messages repeat, not how many.
    const repeated = [...unique].filter((body) => bodies.indexOf(body) !== bodies.lastIndexOf(body));
    expect(repeated.filter((body) => !heldByA.has(body))).toEqual([]);
    expect(
      orderViolations(sink.delivered.map((r) => JSON.parse(r.body.toString()) as { rk: string; seq: number })),
    ).toEqual([]);
    expect((await holders()).every((h) => h === "kill9-b")).toBe(true);
    await waitFor("no residue", async () => {
      const residue = await outboundResidue(client, keyspace);
      return residue.backlog === 0 && residue.pending === 0 && residue.parked === 0;
    });
  });
});
