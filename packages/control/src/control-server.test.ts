import {
  buryEntry,
  closeRedisClient,
  createRedisClient,
  DeadLetterReason,
  DeadLetterSchema,
  decodeEnvelope,
  encodeEnvelope,
  enqueueEnvelope,
  ensureGroup,
  ensureTopology,
  instanceInfo,
  type Keyspace,
  Membership,
  OutboundJobSchema,
  partitionOf,
  QueueFamily,
  type RedisClient,
  readGroup,
  WalletMessageSchema,
  waitUntilReady,
} from "@acapy-bridge/protocol";
import { waitFor } from "@acapy-bridge/test-harness";
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ControlClient } from "./control-client.js";
import { ControlServer } from "./control-server.js";

describe.each([
  { name: "standalone", url: () => inject("redisUrl"), cluster: false },
  { name: "cluster", url: () => inject("redisClusterUrl"), cluster: true },
])("control API on $name Redis", ({ name, url, cluster }) => {
  let client: RedisClient;
  let keyspace: Keyspace;
  let server: ControlServer;
  let control: ControlClient;
  let serving = true;

  beforeAll(async () => {
    client = createRedisClient({ url: url(), cluster }, "commands");
    await waitUntilReady(client);
    keyspace = await ensureTopology(client, `t-control-${name}-${Date.now()}`, {
      inboundPartitions: 2,
      outboundPartitions: 4,
      eventPartitions: 1,
      adminPartitions: 1,
    });
    server = new ControlServer({ client, keyspace, isServing: () => serving, token: "s3cret", healthPollMs: 50 });
    const port = await server.listen("127.0.0.1", 0);
    control = new ControlClient(`127.0.0.1:${port}`, "s3cret");
  });
  afterAll(async () => {
    control.close();
    await server.close();
    await closeRedisClient(client);
  });

  it("lists a dead letter with its reason and requeues it onto its partition with the same mid", async () => {
    const job = create(OutboundJobSchema, { mid: "job-1", recipientKey: "rk-1", endpoint: "http://127.0.0.1:1/" });
    const p = partitionOf(job.recipientKey, keyspace.partitionCount("outboundQueue"));
    const queue = keyspace.key("outboundQueue", { partition: p });
    const { consumerGroup: group, entryField } = keyspace.spec("outboundQueue");
    await ensureGroup(client, queue, group);
    await enqueueEnvelope(client, {
      stream: queue,
      entryField,
      payload: encodeEnvelope(OutboundJobSchema, job),
      highWaterMark: 0,
    });
    const [entry] = await readGroup(client, { stream: queue, group, consumer: "d1", entryField, count: 1, after: ">" });
    await buryEntry(client, {
      stream: queue,
      deadLetterStream: keyspace.key("outboundDeadLetters", { partition: p }),
      group,
      entryId: entry?.id as string,
      entryField,
      deadLetter: encodeEnvelope(
        DeadLetterSchema,
        create(DeadLetterSchema, {
          mid: job.mid,
          reason: DeadLetterReason.REJECTED,
          detail: "HTTP 410",
          attempts: 1,
          original: { case: "outboundJob", value: job },
        }),
      ),
      deadLetterCap: 0,
    });

    const partitions = (await control.listPartitions(QueueFamily.OUTBOUND)) as {
      partitions: { partition: number; deadLetters: bigint }[];
    };
    expect(partitions.partitions.find((s) => s.partition === p)?.deadLetters).toBe(1n);
    const { entries } = (await control.listDeadLetters(QueueFamily.OUTBOUND)) as {
      entries: { entryId: string; partition: number; deadLetter: { mid: string; reason: number; detail: string } }[];
    };
    expect(entries).toHaveLength(1);
    expect(entries[0]?.deadLetter).toMatchObject({
      mid: "job-1",
      reason: DeadLetterReason.REJECTED,
      detail: "HTTP 410",
    });

    const { requeued } = (await control.requeueDeadLetters([
      {
        family: QueueFamily.OUTBOUND,
        partition: entries[0]?.partition as number,
        entryId: entries[0]?.entryId as string,
      },
    ])) as { requeued: number };
    expect(requeued).toBe(1);
    const [again] = await readGroup(client, { stream: queue, group, consumer: "d1", entryField, count: 1, after: ">" });
    expect(decodeEnvelope(OutboundJobSchema, again?.payload as Buffer).mid).toBe("job-1");
    expect(await client.xlen(keyspace.key("outboundDeadLetters", { partition: p }))).toBe(0);
  });

  it("requeues a wallet dead letter into the wallet's mailbox and counts it in, for the mailbox gauge", async () => {
    const message = create(WalletMessageSchema, { mid: "w-1", recipientKey: "wallet-1", body: Buffer.from("hi") });
    const p = partitionOf(message.recipientKey, keyspace.partitionCount("outboundDeadLetters"));
    const letter = create(DeadLetterSchema, {
      mid: message.mid,
      reason: DeadLetterReason.MAILBOX_FULL,
      original: { case: "walletMessage", value: message },
    });
    const entryId = (await client.xadd(
      keyspace.key("outboundDeadLetters", { partition: p }),
      "*",
      keyspace.spec("outboundDeadLetters").entryField,
      Buffer.from(encodeEnvelope(DeadLetterSchema, letter)),
    )) as string;

    const { requeued } = (await control.requeueDeadLetters([
      { family: QueueFamily.OUTBOUND, partition: p, entryId },
    ])) as { requeued: number };
    expect(requeued).toBe(1);
    const mailbox = await client.lrangeBuffer(keyspace.key("walletMailbox", { recipient: "wallet-1" }), 0, -1);
    expect(mailbox.map((raw) => decodeEnvelope(WalletMessageSchema, raw).mid)).toEqual(["w-1"]);
    expect(await client.hget(keyspace.key("walletMailboxAndRouteCounts"), "MAILBOX_IN")).toBe("1");
  });

  it("lists live instances from their heartbeats", async () => {
    const membership = new Membership({
      client,
      keyspace,
      info: instanceInfo({ instanceId: "relay-x", role: "relay", pid: 42 }),
    });
    await membership.start();
    const { instances } = (await control.listInstances()) as { instances: { instanceId: string; pid: number }[] };
    expect(instances.find((i) => i.instanceId === "relay-x")?.pid).toBe(42);
    await membership.stop();
  });

  it("reports NOT_SERVING while the process cannot serve, and SERVING again after", async () => {
    expect(await control.checkHealth()).toBe("SERVING");
    serving = false;
    await waitFor("health NOT_SERVING", async () => (await control.checkHealth()) === "NOT_SERVING", 5_000);
    expect(await control.checkHealth()).toBe("NOT_SERVING");
    serving = true;
    await waitFor("health SERVING again", async () => (await control.checkHealth()) === "SERVING", 5_000);
    expect(await control.checkHealth()).toBe("SERVING");
  });

  it("refuses control calls without the bearer token", async () => {
    const anonymous = new ControlClient(control.address);
    await expect(anonymous.listInstances()).rejects.toThrow(/UNAUTHENTICATED|bearer token/);
    anonymous.close();
  });
});
