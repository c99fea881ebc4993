// Writes proto/testdata/vectors.json: key names, hash slots, partitions and
// encoded envelopes for sample inputs. The TypeScript and the Python tests
// both assert against this one file, so the two sides cannot drift apart.
import { writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { create, type DescMessage, toBinary, toJson } from "@bufbuild/protobuf";
import {
  AdminHeaderSchema,
  AdminRequestSchema,
  AdminResponseSchema,
  AgentEventSchema,
  AgentMessageSchema,
  CloseSocketSchema,
  DeadLetterReason,
  DeadLetterSchema,
  DirectReplySchema,
  file_acapy_bridge_v1_envelopes,
  hashSlot,
  InboundKind,
  InstanceInfoSchema,
  JobKind,
  type KeyName,
  Keyspace,
  type KeyVars,
  keySpecs,
  OutboundJobSchema,
  ParkedJobSchema,
  PushNotificationSchema,
  PushPlatform,
  partitionCountsOf,
  partitionOf,
  partitionTag,
  RelayCommandSchema,
  SocketPushSchema,
  TopologySchema,
  Transport,
  WalletMessageSchema,
  WalletPickupSchema,
  WalletPushDeviceSchema,
  WalletRouteSchema,
} from "../packages/protocol/src/index.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const topology = { inboundPartitions: 16, outboundPartitions: 16, eventPartitions: 4, adminPartitions: 1 };
const keyspace = new Keyspace("br", partitionCountsOf(topology));

const verkey = "8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K";
const walletMessage = create(WalletMessageSchema, {
  mid: "01JD0000000000000000000003",
  recipientKey: verkey,
  contentType: "application/didcomm-envelope-enc",
  body: new TextEncoder().encode('{"protected":"eyJ","iv":"x","ciphertext":"y","tag":"z"}'),
  createdAtMs: 1732780800000n,
  expiresAtMs: 1733040000000n,
});
const outboundJob = create(OutboundJobSchema, {
  mid: "01JD0000000000000000000004",
  kind: JobKind.DIDCOMM,
  recipientKey: verkey,
  endpoint: "https://agent.example/didcomm",
  contentType: "application/didcomm-envelope-enc",
  body: Uint8Array.from([0x7b, 0x00, 0xff, 0x7d]),
  headers: { "x-api-key": "k" },
  createdAtMs: 1732780800000n,
  expiresAtMs: 1733040000000n,
  walletId: "base",
  connectionId: "3fa85f64-5717-4562-b3fc-2c963f66afa6",
  recipientKeys: [verkey],
  routingKeys: ["did:key:z6MkmjY8GnV5i9YTDtPETC2uUAW6ejw3nk5mXF5yci5ab7th"],
  producerId: "shim-host-1234",
});
const directReply = create(DirectReplySchema, {
  mid: "01JD0000000000000000000001",
  requestId: "req-7",
  status: 200,
  contentType: "application/didcomm-envelope-enc",
  body: Uint8Array.from([1, 2, 3]),
  replyToVerkey: verkey,
  connectionId: "c-1",
  walletId: "w-1",
});

const samples: [DescMessage, unknown][] = [
  [
    AgentMessageSchema,
    create(AgentMessageSchema, {
      mid: "01JD0000000000000000000001",
      kind: InboundKind.AGENT_MESSAGE,
      recipientKey: verkey,
      contentType: "application/didcomm-envelope-enc",
      body: new TextEncoder().encode('{"protected":"e30","recipients":[]}'),
      receivedAtMs: 1732780800000n,
      expiresAtMs: 1733040000000n,
      transport: Transport.HTTP,
      relayId: "relay-a",
      requestId: "req-7",
      remoteAddress: "127.0.0.1",
    }),
  ],
  [DirectReplySchema, directReply],
  [WalletMessageSchema, walletMessage],
  [SocketPushSchema, create(SocketPushSchema, { socketId: "s-9", routeEpoch: 17n, hop: 1, message: walletMessage })],
  [CloseSocketSchema, create(CloseSocketSchema, { socketId: "s-9", code: 1003, reason: "unparseable" })],
  [RelayCommandSchema, create(RelayCommandSchema, { command: { case: "reply", value: directReply } })],
  [
    WalletRouteSchema,
    create(WalletRouteSchema, { relayId: "relay-a", socketId: "s-9", epoch: 17n, registeredAtMs: 1732780800000n }),
  ],
  [
    WalletPickupSchema,
    create(WalletPickupSchema, {
      version: 2,
      liveDelivery: true,
      liveSession: { relayId: "relay-a", socketId: "s-9", epoch: 17n, registeredAtMs: 1732780800000n },
      updatedAtMs: 1732780800000n,
    }),
  ],
  [
    WalletPushDeviceSchema,
    create(WalletPushDeviceSchema, {
      platform: PushPlatform.FCM,
      token: "fcm-token-1",
      devicePlatform: "android",
      connectionId: "3fa85f64-5717-4562-b3fc-2c963f66afa6",
      setAtMs: 1732780800000n,
    }),
  ],
  [
    PushNotificationSchema,
    create(PushNotificationSchema, {
      walletKey: "8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K",
      device: new Uint8Array([8, 1, 18, 1, 116]),
      mailboxDepth: 3n,
    }),
  ],
  [OutboundJobSchema, outboundJob],
  [
    ParkedJobSchema,
    create(ParkedJobSchema, { attempts: 2, lastError: "HTTP 503", firstAttemptAtMs: 1732780800000n, job: outboundJob }),
  ],
  [
    DeadLetterSchema,
    create(DeadLetterSchema, {
      mid: outboundJob.mid,
      reason: DeadLetterReason.ATTEMPTS_EXHAUSTED,
      detail: "HTTP 503 after 15 attempts",
      attempts: 15,
      deadAtMs: 1732780900000n,
      sourceKey: keyspace.key("outboundQueue", { partition: 3 }),
      instanceId: "deliverer-1",
      original: { case: "outboundJob", value: outboundJob },
    }),
  ],
  [
    AgentEventSchema,
    create(AgentEventSchema, {
      mid: "01JD0000000000000000000005",
      topic: "acapy::record::connections::active",
      webhookTopic: "connections",
      walletId: "base",
      payloadJson: new TextEncoder().encode('{"state":"active"}'),
      createdAtMs: 1732780800000n,
      orderingKey: "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    }),
  ],
  [
    AdminRequestSchema,
    create(AdminRequestSchema, {
      mid: "01JD0000000000000000000006",
      method: "GET",
      path: "/connections?state=active",
      headers: { "x-api-key": "k" },
      walletId: "w1",
      replyTo: "relay-a",
      requestId: "req-8",
      expiresAtMs: 1732780860000n,
    }),
  ],
  [AdminHeaderSchema, create(AdminHeaderSchema, { name: "Content-Type", value: "application/json; charset=utf-8" })],
  [
    AdminResponseSchema,
    create(AdminResponseSchema, {
      mid: "01JD0000000000000000000006",
      requestId: "req-8",
      status: 200,
      headers: [{ name: "Content-Type", value: "application/json; charset=utf-8" }],
      body: new TextEncoder().encode('{"results":[]}'),
      instanceId: "admin-host-1234",
      durationMs: 3n,
    }),
  ],
  [
    InstanceInfoSchema,
    create(InstanceInfoSchema, {
      instanceId: "relay-a",
      role: "relay",
      hostname: "host",
      pid: 1234,
      startedAtMs: 1732780800000n,
      version: "0.1.0",
      listeners: { http: "127.0.0.1:8020" },
    }),
  ],
  [TopologySchema, create(TopologySchema, { ...topology, createdAtMs: 1732780800000n })],
];

const envelopeNames = file_acapy_bridge_v1_envelopes.messages.map((m) => m.typeName).sort();
const sampled = samples.map(([schema]) => schema.typeName).sort();
if (JSON.stringify(envelopeNames) !== JSON.stringify(sampled)) {
  throw new Error(`every envelope needs a vector: have ${sampled}, want ${envelopeNames}`);
}

const varsByKey: Record<string, KeyVars[]> = {};
for (const spec of Object.values(keySpecs)) {
  const base: KeyVars = {};
  if (spec.template.includes("${recipient}")) base.recipient = verkey;
  if (spec.template.includes("${relay}")) base.relay = "relay-a";
  if (spec.template.includes("${instance}")) base.instance = "deliverer-1";
  if (spec.template.includes("${role}")) base.role = "relay";
  if (spec.template.includes("${requester}")) base.requester = "relay-a";
  if (spec.template.includes("${digest}"))
    base.digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  if (spec.template.includes("${mid}")) base.mid = "01JD0000000000000000000004";
  varsByKey[spec.name] = spec.template.includes("${partition}")
    ? [
        ...new Set([0, Math.min(1, keyspace.partitionCount(spec.name) - 1), keyspace.partitionCount(spec.name) - 1]),
      ].map((partition) => ({ ...base, partition }))
    : [base];
}

const routingKeys = [
  verkey,
  "did:key:z6MkmjY8GnV5i9YTDtPETC2uUAW6ejw3nk5mXF5yci5ab7th",
  "sha256:00ff",
  "",
  "é-ünïcödé",
];

const vectors = {
  description:
    "Shared test vectors for the acapy-bridge contract. Generated by scripts/make-test-vectors.ts (npm run gen); asserted by the TypeScript and Python tests.",
  prefix: keyspace.prefix,
  topology,
  crc16: [
    { input: "123456789", crc16: 0x31c3 },
    { input: "", crc16: 0 },
  ],
  slots: ["foo", "somekey", "{user1000}.following", "{}x", "a{b}c", "{br}"].map((key) => ({
    key,
    slot: hashSlot(key),
  })),
  partitions: routingKeys.flatMap((routingKey) =>
    [1, 4, 16, 64].map((count) => ({ routing_key: routingKey, count, partition: partitionOf(routingKey, count) })),
  ),
  partition_tags: (["i", "o", "e", "a"] as const).flatMap((family) =>
    [1, 4, 16].flatMap((count) =>
      Array.from({ length: count }, (_, p) => {
        const tag = partitionTag(family, p, count);
        return { family, partition: p, count, tag, slot: hashSlot(`{${tag}}`) };
      }),
    ),
  ),
  keys: Object.entries(varsByKey).flatMap(([name, list]) =>
    list.map((vars) => {
      const key = keyspace.key(name as KeyName, vars);
      return { name: keySpecs[name as KeyName].protoName, vars, key, slot: hashSlot(key) };
    }),
  ),
  envelopes: samples.map(([schema, message]) => ({
    type: schema.typeName,
    json: toJson(schema, message as never),
    hex: Buffer.from(toBinary(schema, message as never)).toString("hex"),
  })),
  malformed: [
    { type: "acapy_bridge.v1.AgentMessage", hex: "", why: "empty: no mid" },
    {
      type: "acapy_bridge.v1.AgentMessage",
      hex: Buffer.from(toBinary(AgentMessageSchema, samples[0]?.[1] as never))
        .subarray(0, 20)
        .toString("hex"),
      why: "truncated inside a field",
    },
    { type: "acapy_bridge.v1.OutboundJob", hex: "ffffffffffffffffffff", why: "garbage: invalid varint / wire type" },
    { type: "acapy_bridge.v1.RelayCommand", hex: "0a03", why: "truncated length-delimited field" },
    { type: "acapy_bridge.v1.WalletRoute", hex: "1800", why: "valid wire format but no relay or socket" },
    { type: "acapy_bridge.v1.DeadLetter", hex: "7b226d6964223a317d", why: "JSON text, not protobuf" },
  ],
};

writeFileSync(join(root, "proto/testdata/vectors.json"), `${JSON.stringify(vectors, null, 2)}\n`);
console.log(
  `vectors: ${vectors.keys.length} keys, ${vectors.envelopes.length} envelopes, ${vectors.partition_tags.length} tags`,
);
