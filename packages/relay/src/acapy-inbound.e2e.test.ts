import { AcaPyAdmin, type AcaPyProcess, connectAgents, uniquePrefix, WebhookSink } from "@acapy-bridge/test-harness";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { bridgedAgent, plainAgent } from "../test-fixtures/agents.js";
import { startTestRelay, type TestRelay } from "../test-fixtures/relay-harness.js";

describe("ACA-Py behind the relay (real ACA-Py 1.7.0, real Redis)", () => {
  let relay: TestRelay;
  let alice: AcaPyProcess;
  let bob: AcaPyProcess;
  let aliceHooks: WebhookSink;
  let bobHooks: WebhookSink;
  const prefix = uniquePrefix("e2e-inbound");

  beforeAll(async () => {
    relay = await startTestRelay({ redisUrl: inject("redisUrl"), prefix, partitions: { inboundPartitions: 16 } });
    [aliceHooks, bobHooks] = await Promise.all([WebhookSink.start(), WebhookSink.start()]);
    [alice, bob] = await Promise.all([
      bridgedAgent({
        label: "alice",
        redisUrl: inject("redisUrl"),
        prefix,
        relayUrl: relay.url,
        webhookUrl: aliceHooks.url,
      }),
      plainAgent("bob", bobHooks.url),
    ]);
  });
  afterAll(async () => {
    await Promise.all([alice?.stop(), bob?.stop()]);
    await relay?.relay.stop();
    await Promise.all([aliceHooks?.close(), bobHooks?.close()]);
  });

  it("connects Bob to Alice through the relay, delivers Bob's basic messages and answers Bob's trust ping", async () => {
    const aliceAdmin = new AcaPyAdmin(alice.adminUrl);
    const bobAdmin = new AcaPyAdmin(bob.adminUrl);
    const invitation = await aliceAdmin.createInvitation("alice");
    const service = (invitation.services as { serviceEndpoint: string }[])[0];
    expect(service?.serviceEndpoint).toBe(relay.url);

    const { inviteeConnectionId } = await connectAgents(aliceAdmin, bobAdmin).catch((error: Error) => {
      throw new Error(`${error.message}\n--- alice ---\n${alice.logs}`);
    });
    await bobAdmin.sendMessage(inviteeConnectionId, "hello alice");
    await bobAdmin.sendMessage(inviteeConnectionId, "second message");
    await aliceHooks.waitFor("hello alice", (w) => w.topic === "basicmessages" && w.body.content === "hello alice");
    await aliceHooks.waitFor("second", (w) => w.topic === "basicmessages" && w.body.content === "second message");

    await bobAdmin.sendPing(inviteeConnectionId, "are you there");
    await aliceHooks.waitFor("ping received", (w) => w.topic === "ping" && w.body.state === "received");
    await bobHooks.waitFor("ping answered", (w) => w.topic === "ping" && w.body.state === "response_received");

    // Every message took the relay: requests answered by ACA-Py's replies, nothing left behind.
    const counted = await relay.metrics.getSingleMetricAsString("acapy_bridge_relay_messages_total");
    expect(counted).toMatch(/outcome="answered"[^\n]* ([4-9]|\d\d+)/);
    expect(alice.logs).not.toContain("Cannot queue message for delivery");
  });
});
