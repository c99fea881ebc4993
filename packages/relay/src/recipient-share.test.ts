import { uniquePrefix } from "@acapy-bridge/test-harness";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { fakeJwe, randomVerkey } from "../test-fixtures/fake-envelopes.js";
import { startTestRelay, type TestRelay } from "../test-fixtures/relay-harness.js";

async function post(url: string, kid: string): Promise<number> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/didcomm-envelope-enc" },
    body: fakeJwe(kid, "Anoncrypt"),
  });
  await res.arrayBuffer();
  return res.status;
}

// One inbound partition, no consumer: every message stays in the backlog.
describe("relay inbound partition shared by recipient keys", () => {
  let t: TestRelay;

  beforeAll(async () => {
    t = await startTestRelay({
      redisUrl: inject("redisUrl"),
      prefix: uniquePrefix("relay-recipient-share"),
      partitions: { inboundPartitions: 1 },
      config: { inboundHighWaterMark: 40, inboundRecipientCap: 10 },
    });
  });
  afterAll(async () => {
    await t.relay.stop();
  });

  it("refuses a flood to one recipient key once the partition is half full, and still takes another key's messages", async () => {
    const flooded = randomVerkey();
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push(await post(t.url, flooded));
    // Taken until the backlog is at half the mark (20), then 503: the key is over its cap of 10.
    expect(statuses.filter((s) => s === 200).length).toBe(20);
    expect(statuses.slice(20).every((s) => s === 503)).toBe(true);
    const other = randomVerkey();
    for (let i = 0; i < 10; i++) expect(await post(t.url, other)).toBe(200);
    expect(t.logs.some((l) => l.event === "relay.partition_full" && l.reason === "recipient" && l.amount === 20)).toBe(
      true,
    );
    const metric = await t.metrics.getSingleMetric("acapy_bridge_relay_messages_total")?.get();
    const busyRecipient = metric?.values.find((v) => v.labels.outcome === "busy_recipient");
    expect(busyRecipient?.value).toBe(20);
  });
});
