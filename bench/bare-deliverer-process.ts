// The least a deliverer can do, as a reference point for `bench deliverer`:
// read every outbound partition as the consumer group, decode each job, POST
// it with the same HTTP client (undici, keep-alive), one job of a recipient
// at a time, and acknowledge delivered entries in one script call per
// partition, after the same linger as the deliverer's default. No leases, retries, parking, timeouts,
// dead letters, metrics or logs: what the real deliverer costs beyond this is
// its bookkeeping, what this costs beyond the baseline is Redis and decoding.
//
//   node --conditions=@acapy-bridge/source --import tsx bench/bare-deliverer-process.ts
// env: REDIS_URL, PREFIX, PARTITION_PLAN (JSON), as for the deliverer fixture.
import {
  ackEntries,
  createRedisClient,
  ensureGroup,
  ensureTopology,
  type PartitionPlan,
  type RedisClient,
  readGroup,
  waitUntilReady,
} from "@acapy-bridge/protocol";
import { Agent, type Dispatcher } from "undici";
import { decodeOutboundJob } from "../packages/deliverer/src/outbound-job-decoder.js";

const READ_COUNT = 100;
/** Entries held per partition (queued or in flight) before reading pauses. */
const HELD_LIMIT = 200;
const CONSUMER = "bare-deliverer";
/** As the deliverer's AckBatcher: wait up to this long, or until this many are waiting. */
const ACK_LINGER_MS = 20;
const ACK_AT_ONCE = 64;

interface Job {
  entryId: string;
  origin: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** Resolves when the answer has been read; the body is dropped. */
class Answer implements Dispatcher.DispatchHandler {
  constructor(private readonly done: () => void) {}
  onConnect(): void {}
  onHeaders(): boolean {
    return true;
  }
  onData(): boolean {
    return true;
  }
  onComplete(): void {
    this.done();
  }
  onError(error: Error): void {
    process.stderr.write(`bare deliverer: ${error.message}\n`);
    this.done();
  }
}

const env = process.env;
const redisUrl = env.REDIS_URL as string;
const plan = JSON.parse(env.PARTITION_PLAN as string) as PartitionPlan;
const commands = createRedisClient({ url: redisUrl, cluster: false }, "commands");
await waitUntilReady(commands);
const keyspace = await ensureTopology(commands, env.PREFIX as string, plan);
const spec = keyspace.spec("outboundQueue");
const http = new Agent({ connections: 256, pipelining: 1 });

/** Endpoint URLs parsed once (few endpoints, many jobs), as the deliverer does. */
const endpoints = new Map<string, URL>();
function endpointOf(raw: string): URL {
  let url = endpoints.get(raw);
  if (!url) {
    url = new URL(raw);
    endpoints.set(raw, url);
  }
  return url;
}

function post(job: Job): Promise<void> {
  return new Promise((resolve) => {
    http.dispatch(
      { origin: job.origin, path: job.path, method: "POST", headers: job.headers, body: job.body },
      new Answer(resolve),
    );
  });
}

async function deliverPartition(partition: number, blocking: RedisClient): Promise<void> {
  const stream = keyspace.key("outboundQueue", { partition });
  await ensureGroup(commands, stream, spec.consumerGroup);
  const lanes = new Map<string, Job[]>();
  let held = 0;
  let resumeReading: (() => void) | undefined;
  let delivered: string[] = [];
  let lingering: NodeJS.Timeout | undefined;
  const acknowledge = () => {
    clearTimeout(lingering);
    lingering = undefined;
    const ids = delivered;
    delivered = [];
    void ackEntries(commands, stream, spec.consumerGroup, ids);
  };
  const runLane = async (lane: Job[]) => {
    for (let job = lane[0]; job; job = lane[0]) {
      await post(job);
      lane.shift();
      const waiting = delivered.push(job.entryId);
      if (waiting >= ACK_AT_ONCE) acknowledge();
      else if (waiting === 1) lingering = setTimeout(acknowledge, ACK_LINGER_MS);
      held--;
      if (resumeReading && held < HELD_LIMIT / 2) {
        resumeReading();
        resumeReading = undefined;
      }
    }
  };
  for (;;) {
    if (held >= HELD_LIMIT) await new Promise<void>((resolve) => (resumeReading = resolve));
    const entries = await readGroup(blocking, {
      stream,
      group: spec.consumerGroup,
      consumer: CONSUMER,
      count: READ_COUNT,
      blockMs: 2_000,
      after: ">",
      entryField: spec.entryField,
    });
    for (const entry of entries) {
      const job = decodeOutboundJob(entry.payload as Buffer);
      const url = endpointOf(job.endpoint);
      const queued: Job = {
        entryId: entry.id,
        origin: url.origin,
        path: url.pathname,
        headers: { ...job.headers, "content-type": job.contentType },
        body: Buffer.from(job.body.buffer, job.body.byteOffset, job.body.byteLength),
      };
      held++;
      const lane = lanes.get(job.recipientKey);
      if (lane && lane.length > 0) lane.push(queued);
      else {
        const fresh = [queued];
        lanes.set(job.recipientKey, fresh);
        void runLane(fresh);
      }
    }
  }
}

for (let partition = 0; partition < plan.outboundPartitions; partition++) {
  void deliverPartition(partition, createRedisClient({ url: redisUrl, cluster: false }, "blocking"));
}
process.stdout.write(`${JSON.stringify({ event: "process.ready" })}\n`);
process.on("SIGTERM", () => process.exit(0));
