// `npm run bench -- push [--notifications 6000] [--rounds 3]`
//
// Push notifications per second one notifier process (`acapy-bridge deliverer`, the built CLI,
// production defaults plus its FCM flags) sends to a local FCM-shaped sink, against a bare HTTP
// client loop to the same sink in the same run. The sink (FcmTestServer: OAuth2 JWT grant, FCM v1
// send with its checks) runs in a worker thread in both cases.
//
// The notifier drains a backlog: N push jobs (one per wallet, as the shim writes them, each with
// its wallet's device) are put on the outbound partitions first, then the deliverer starts. Its
// rate is taken at the sink from the 10th to the last percentile of arrival times (the first
// arrivals include the process's start, the token grant and JIT warm-up). The baseline is undici
// POSTing the same v1 message with a bearer at the deliverer's per-origin concurrency (32, the
// default --delivery-endpoint-concurrency), over the same count. Rounds alternate; medians.
// The last line is one JSON object; `ratio` = notifier/s over baseline/s (target >= 0.5).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import {
  closeRedisClient,
  createRedisClient,
  DEFAULT_PARTITIONS,
  ensureTopology,
  waitUntilReady,
} from "@acapy-bridge/protocol";
import {
  BridgeProcess,
  loopbackBridgeArgs,
  RedisServer,
  type TestServiceAccount,
  uniquePrefix,
} from "@acapy-bridge/test-harness";
import { Agent } from "undici";
import { enqueueJob } from "../packages/deliverer/test-fixtures/deliverer-harness.js";
import { pushJob, registerDevice } from "../packages/deliverer/test-fixtures/push-jobs.js";

const here = dirname(fileURLToPath(import.meta.url));
/** The deliverer's default connections and requests in flight to one origin. */
const ORIGIN_CONCURRENCY = 32;
const PREFILL_WINDOW = 500;

interface SinkHello {
  url: string;
  serviceAccount: TestServiceAccount;
  bearer: string;
}

class SinkWorker {
  private constructor(
    private readonly worker: Worker,
    readonly hello: SinkHello,
  ) {}

  static async start(): Promise<SinkWorker> {
    const worker = new Worker(join(here, "push-sink-worker.mjs"));
    const hello = await new Promise<SinkHello>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    return new SinkWorker(worker, hello);
  }

  private ask<T>(command: string): Promise<T> {
    return new Promise((resolve) => {
      this.worker.once("message", resolve);
      this.worker.postMessage({ command });
    });
  }

  times(): Promise<{ times: number[]; refusals: string[] }> {
    return this.ask("times");
  }

  reset(): Promise<unknown> {
    return this.ask("reset");
  }

  async close(): Promise<void> {
    await this.ask("close");
    await this.worker.terminate();
  }
}

/** Notifications/s between the 10th percentile arrival and the last. */
function rateOf(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  const from = Math.floor(sorted.length * 0.1);
  const span = (sorted.at(-1) as number) - (sorted[from] as number);
  return span > 0 ? Math.round(((sorted.length - 1 - from) * 1000) / span) : 0;
}

async function waitForSends(sink: SinkWorker, count: number, timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { times, refusals } = await sink.times();
    if (refusals.length) throw new Error(`the sink refused: ${refusals.join("; ")}`);
    if (times.length >= count) return times;
    if (Date.now() > deadline) throw new Error(`only ${times.length} of ${count} notifications in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The bare loop: the same v1 message POSTed with a bearer, ORIGIN_CONCURRENCY at a time. */
async function baseline(sink: SinkWorker, count: number): Promise<number> {
  await sink.reset();
  const { url, serviceAccount, bearer } = sink.hello;
  const agent = new Agent({ connections: ORIGIN_CONCURRENCY });
  const path = `/v1/projects/${serviceAccount.project_id}/messages:send`;
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const body = JSON.stringify({
        message: {
          token: `fcm-bench-${i}`,
          notification: { title: "New message", body: "You have a new message." },
          data: { type: "didcomm-message-waiting", connection_id: `conn-${i}` },
          android: { priority: "HIGH" },
          apns: { headers: { "apns-priority": "10" }, payload: { aps: { "content-available": 1 } } },
        },
      });
      const answer = await agent.request({
        origin: url,
        path,
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${bearer}` },
        body,
      });
      await answer.body.dump();
      if (answer.statusCode !== 200) throw new Error(`baseline: HTTP ${answer.statusCode}`);
    }
  };
  await Promise.all(Array.from({ length: ORIGIN_CONCURRENCY }, worker));
  await agent.close();
  return rateOf((await waitForSends(sink, count, 10_000)).slice(0, count));
}

/** The notifier: a backlog of `count` push jobs, then a deliverer process drains it. */
async function notifier(redisUrl: string, sink: SinkWorker, count: number, accountFile: string): Promise<number> {
  await sink.reset();
  const prefix = uniquePrefix("bench-push");
  const client = createRedisClient({ url: redisUrl, cluster: false }, "commands");
  await waitUntilReady(client);
  const keyspace = await ensureTopology(client, prefix, DEFAULT_PARTITIONS);
  const writes: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    writes.push(
      registerDevice(client, keyspace, `wallet-bench-${i}`, "fcm", `fcm-bench-${i}`).then((device) =>
        enqueueJob(client, keyspace, pushJob(`wallet-bench-${i}`, device, "fcm")),
      ),
    );
    if (writes.length >= PREFILL_WINDOW) await Promise.all(writes.splice(0));
  }
  await Promise.all(writes);
  const deliverer = await BridgeProcess.start(
    "deliverer",
    loopbackBridgeArgs("deliverer", redisUrl, prefix, [
      "--push-fcm-service-account-file",
      accountFile,
      "--push-fcm-url",
      sink.hello.url,
    ]),
  );
  try {
    return rateOf(await waitForSends(sink, count, 120_000));
  } finally {
    await deliverer.stop();
    await client.flushall();
    await closeRedisClient(client);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

export async function main(args: string[]): Promise<void> {
  const flag = (name: string, fallback: number) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
  const count = flag("--notifications", 6_000);
  const rounds = Math.max(1, flag("--rounds", 3));
  const redis = await RedisServer.start();
  const sink = await SinkWorker.start();
  const accountFile = join(mkdtempSync(join(tmpdir(), "bench-push-")), "service-account.json");
  writeFileSync(accountFile, JSON.stringify(sink.hello.serviceAccount));
  const bases: number[] = [];
  const mines: number[] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      const base = await baseline(sink, count);
      const mine = await notifier(redis.url, sink, count, accountFile);
      bases.push(base);
      mines.push(mine);
      console.log(`round ${round}: notifier ${mine}/s, bare HTTP loop ${base}/s (${count} notifications each)`);
    }
  } finally {
    await sink.close();
    await redis.stop();
  }
  const notifierPerSecond = median(mines);
  const baselinePerSecond = median(bases);
  console.log(
    JSON.stringify({
      bench: "push",
      notifications: count,
      concurrency: ORIGIN_CONCURRENCY,
      notifierPerSecond,
      baselinePerSecond,
      ratio: Math.round((notifierPerSecond / baselinePerSecond) * 100) / 100,
    }),
  );
}
