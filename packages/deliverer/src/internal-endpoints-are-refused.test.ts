import type { AddressInfo } from "node:net";
import { createMetricsRegistry, Health, OpsServer } from "@acapy-bridge/operability";
import { DeadLetterReason, JobKind } from "@acapy-bridge/protocol";
import { waitFor } from "@acapy-bridge/test-harness";
import { afterAll, describe, expect, inject, it } from "vitest";
import { WebSocketServer } from "ws";
import {
  enqueueJob,
  LOOPBACK_CIDRS,
  makeJob,
  openTestBed,
  outboundResidue,
  RecordingSink,
  startTestDeliverer,
} from "../test-fixtures/deliverer-harness.js";
import { readOutboundDeadLetters } from "./dead-letters.js";

// Issue 18 (SSRF): remote agents choose their endpoints. By default the deliverer refuses every
// internal address, whatever form the endpoint gives it, and whatever a host name resolves to:
// a dead letter naming the address, no retry, nothing reaches the endpoint. With the operator's
// allow list the same deliveries go through. Webhook URLs (the operator's own) are not checked.
describe("outbound target policy, end to end", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  async function endpoints() {
    const sinkV6 = await RecordingSink.start(undefined, 0, "::1");
    cleanup.push(() => sinkV6.close());
    const wsFrames: Buffer[] = [];
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
    wss.on("connection", (socket) => socket.on("message", (frame: Buffer) => wsFrames.push(frame)));
    cleanup.push(() => new Promise<void>((resolve) => wss.close(() => resolve())));
    // Stands in for the deliverer's own ops port: its listener on loopback (metrics, health).
    const ops = new OpsServer(new Health(), [createMetricsRegistry()]);
    const opsAddress = await ops.listen("127.0.0.1", 0);
    cleanup.push(() => ops.close());
    return { sinkV6, wsFrames, wsPort: (wss.address() as AddressInfo).port, opsPort: opsAddress.port };
  }

  it("dead-letters loopback endpoints in every form by default and delivers them once allowed; webhooks pass", async () => {
    const { sinkV6, wsFrames, wsPort, opsPort } = await endpoints();
    const run = async (name: string, allow: string[]) => {
      const bed = await openTestBed(inject("redisUrl"), name, cleanup);
      const port = new URL(bed.sink.url).port;
      const targets: Record<string, string> = {
        v4: `http://127.0.0.1:${port}/v4`,
        v6: `http://[::1]:${new URL(sinkV6.url).port}/v6`,
        decimal: `http://2130706433:${port}/decimal`,
        hostname: `http://localhost:${port}/hostname`,
        ws: `ws://127.0.0.1:${wsPort}/ws`,
        wsHostname: `ws://localhost:${wsPort}/ws`,
        opsPort: `http://127.0.0.1:${opsPort}/metrics`,
      };
      for (const [rk, endpoint] of Object.entries(targets)) {
        await enqueueJob(bed.client, bed.keyspace, makeJob({ recipientKey: rk, endpoint, body: Buffer.from(rk) }));
      }
      await enqueueJob(
        bed.client,
        bed.keyspace,
        makeJob({ recipientKey: "webhook", kind: JobKind.WEBHOOK, endpoint: `${bed.sink.url}/topic/connections/` }),
      );
      const { deliverer, services } = await startTestDeliverer(bed.connection, `d-${name}`, {
        outboundAllowCidrs: allow,
      });
      cleanup.push(() => deliverer.stop());
      return { bed, services, targets };
    };

    // Default: public addresses only.
    const refused = await run("ssrf-default", []);
    const refusedTargets = Object.keys(refused.targets).length;
    const letters = await waitFor("a dead letter per internal endpoint", async () => {
      const all = await readOutboundDeadLetters(refused.bed.client, refused.bed.keyspace);
      return all.length >= refusedTargets ? all : undefined;
    });
    const recipients = letters.map(({ letter }) =>
      letter.original.case === "outboundJob" ? letter.original.value.recipientKey : "?",
    );
    expect(recipients.sort()).toEqual(Object.keys(refused.targets).sort());
    for (const { letter } of letters) {
      expect(letter.reason).toBe(DeadLetterReason.INVALID_ENDPOINT);
      expect(letter.attempts).toBe(1);
      expect(letter.detail).toMatch(
        /^target (address|localhost resolved to) (127\.0\.0\.1|::1) is not allowed \(loopback\); allow it with --outbound-allow-cidrs$/,
      );
    }
    // Only the webhook reached the sink: nothing else was ever sent to loopback.
    await waitFor("the webhook delivered", () => refused.bed.sink.delivered.length === 1);
    expect(refused.bed.sink.received.map((r) => r.path)).toEqual(["/topic/connections/"]);
    expect(sinkV6.received).toEqual([]);
    expect(wsFrames).toEqual([]);
    await waitFor("no retry left behind", async () => {
      const r = await outboundResidue(refused.bed.client, refused.bed.keyspace);
      return r.backlog === 0 && r.pending === 0 && r.parked === 0;
    });
    const metrics = await refused.services.metrics.metrics();
    expect(metrics).toMatch(
      new RegExp(`acapy_bridge_deliverer_targets_refused_total\\{[^}]*reason="loopback"[^}]*\\} ${refusedTargets}\\n`),
    );

    // Allowed: the same endpoints are reached.
    const allowed = await run("ssrf-allowed", LOOPBACK_CIDRS);
    await waitFor("v4, decimal, localhost and the webhook", () => allowed.bed.sink.delivered.length === 4);
    await waitFor("[::1] and both ws", () => sinkV6.delivered.length === 1 && wsFrames.length === 2);
    expect(allowed.bed.sink.delivered.map((r) => r.path).sort()).toEqual(
      ["/decimal", "/hostname", "/topic/connections/", "/v4"].sort(),
    );
    // The ops port was reached too: it answers a POST with 405, a rejection, not a refusal.
    const opsLetter = await waitFor(
      "the ops port's answer",
      async () => (await readOutboundDeadLetters(allowed.bed.client, allowed.bed.keyspace))[0],
    );
    expect(opsLetter.letter.reason).toBe(DeadLetterReason.REJECTED);
    expect(opsLetter.letter.detail).toBe("HTTP 405");
    expect(await allowed.services.metrics.metrics()).not.toMatch(/targets_refused_total\{/);
  });
});
