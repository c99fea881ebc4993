import type { ChildProcess } from "node:child_process";
import { FcmTestServer, uniquePrefix, waitFor } from "@acapy-bridge/test-harness";
import { afterAll, describe, expect, inject, it } from "vitest";
import {
  closeRedisClient,
  connectionFor,
  enqueueJob,
  openRedis,
  outboundResidue,
} from "../test-fixtures/deliverer-harness.js";
import { pushConfigFor, pushJob, registerDevice } from "../test-fixtures/push-jobs.js";
import { killAll, killed, spawnDeliverer } from "../test-fixtures/spawn-deliverer.js";

// Issue 17, "Done when" 5: kill -9 of the notifier (the deliverer process) with notifications
// queued and in its hands: each is sent after another instance takes over, none lost.
describe("kill -9 of the notifier", () => {
  const children: ChildProcess[] = [];
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    await killAll(children);
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it("sends every queued notification after another instance takes over", async () => {
    const redisUrl = inject("redisUrl");
    const prefix = uniquePrefix("push-kill9");
    const { client, keyspace } = await openRedis(connectionFor(redisUrl, prefix));
    cleanup.push(() => closeRedisClient(client));
    const fcm = await FcmTestServer.start();
    cleanup.push(() => fcm.close());
    // FCM is down first: the notifications are in the dying notifier's hands (in flight, in backoff).
    fcm.answer = () => 503;
    const env = {
      REDIS_URL: redisUrl,
      PREFIX: prefix,
      DELIVERER_CONFIG: JSON.stringify({ push: pushConfigFor({ fcm }), maxAttempts: 100 }),
    };
    const first = await spawnDeliverer({ ...env, INSTANCE_ID: "push-k9-a" });
    children.push(first);

    const tokens = Array.from({ length: 30 }, (_, i) => `fcm-k9-${i}`);
    for (const [i, token] of tokens.entries()) {
      const wallet = `wallet-k9-${i}`;
      const device = await registerDevice(client, keyspace, wallet, "fcm", token);
      await enqueueJob(client, keyspace, pushJob(wallet, device, "fcm"));
    }
    await waitFor(
      "the notifications in the first notifier's hands",
      async () => {
        const r = await outboundResidue(client, keyspace);
        return r.backlog === 0 && r.pending + r.parked > 0;
      },
      15_000,
    );
    first.kill("SIGKILL");
    await killed(first);
    expect(fcm.sends).toEqual([]);

    fcm.answer = () => 200;
    children.push(await spawnDeliverer({ ...env, INSTANCE_ID: "push-k9-b" }));
    await waitFor("every notification sent", () => tokens.every((t) => fcm.sentTo(t).length > 0), 30_000);
    await waitFor("nothing left", async () => {
      const r = await outboundResidue(client, keyspace);
      return r.backlog === 0 && r.pending === 0 && r.parked === 0;
    });
    const duplicates = fcm.sends.length - tokens.length;
    console.log(`[push kill -9] ${tokens.length} notifications, all sent after the takeover; ${duplicates} duplicates`);
    expect(fcm.refusals).toEqual([]);
  });
});
