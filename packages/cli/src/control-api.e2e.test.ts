import { ControlClient } from "@acapy-bridge/control";
import {
  closeRedisClient,
  createRedisClient,
  encodeEnvelope,
  enqueueEnvelope,
  ensureTopology,
  JobKind,
  OutboundJobSchema,
  partitionOf,
  QueueFamily,
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
import { afterAll, describe, expect, it } from "vitest";

// Issue 5, "Done when" 5: gRPC health follows Redis; a dead letter is listed,
// requeued through the control API, and then delivered.
describe("control API of a running acapy-bridge", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it("reports NOT_SERVING while Redis is unreachable and SERVING again after", async () => {
    const redis = await RedisServer.start();
    cleanup.push(() => redis.stop());
    const bridge = await BridgeProcess.start("all", loopbackBridgeArgs("all", redis.url, uniquePrefix("health")));
    cleanup.push(() => bridge.stop());
    const control = new ControlClient(bridge.address("grpc"));
    cleanup.push(async () => control.close());

    expect(await control.checkHealth()).toBe("SERVING");
    await redis.kill();
    await waitFor("NOT_SERVING", async () => (await control.checkHealth()) === "NOT_SERVING", 15_000, 200);
    const ready = await fetch(`http://${bridge.address("ops")}/health/ready`);
    expect(ready.status).toBe(503);
    await redis.restart();
    await waitFor("SERVING again", async () => (await control.checkHealth()) === "SERVING", 20_000, 200);
  }, 90_000);

  it("lists a dead letter, requeues it, and the deliverer then delivers it", async () => {
    const redis = await RedisServer.start();
    cleanup.push(() => redis.stop());
    let endpointUp = false;
    const sink = await WebhookSink.start(() => (endpointUp ? 200 : 410));
    cleanup.push(() => sink.close());
    const prefix = uniquePrefix("dlq");
    const bridge = await BridgeProcess.start("all", loopbackBridgeArgs("all", redis.url, prefix));
    cleanup.push(() => bridge.stop());
    const control = new ControlClient(bridge.address("grpc"));
    cleanup.push(async () => control.close());

    const client = createRedisClient({ url: redis.url, cluster: false }, "commands");
    cleanup.push(() => closeRedisClient(client));
    await waitUntilReady(client);
    const keyspace = await ensureTopology(client, prefix, {
      inboundPartitions: 16,
      outboundPartitions: 16,
      eventPartitions: 4,
      adminPartitions: 1,
    });
    const job = create(OutboundJobSchema, {
      mid: "dlq-job-1",
      kind: JobKind.DIDCOMM,
      recipientKey: "rk-dlq",
      endpoint: `${sink.url}/topic/test/`,
      contentType: "application/json",
      body: new TextEncoder().encode('{"hello":"dlq"}'),
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

    const entry = await waitFor(
      "the job in the dead-letter stream",
      async () => {
        const { entries } = (await control.listDeadLetters(QueueFamily.OUTBOUND)) as {
          entries: { entryId: string; partition: number; deadLetter: { mid: string; detail: string } }[];
        };
        return entries.find((e) => e.deadLetter.mid === "dlq-job-1");
      },
      30_000,
      200,
    );
    expect(entry.deadLetter.detail).toMatch(/410/);
    endpointUp = true;
    const { requeued } = (await control.requeueDeadLetters([
      { family: QueueFamily.OUTBOUND, partition: entry.partition, entryId: entry.entryId },
    ])) as { requeued: number };
    expect(requeued).toBe(1);
    const delivered = await sink.waitFor("the requeued job delivered", (w) => w.body.hello === "dlq", 30_000);
    expect(delivered.path).toBe("/topic/test/");
  }, 90_000);
});
