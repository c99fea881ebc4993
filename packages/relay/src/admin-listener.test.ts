import { request } from "node:http";
import { uniquePrefix } from "@acapy-bridge/test-harness";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { adminCall } from "../test-fixtures/admin-calls.js";
import { startTestRelay, type TestRelay } from "../test-fixtures/relay-harness.js";

// The admin listener's own answers, with no ACA-Py instance at all (real Redis).
describe("the relay's admin listener without any ACA-Py instance", () => {
  let relay: TestRelay;
  let base: string;

  beforeAll(async () => {
    relay = await startTestRelay({
      redisUrl: inject("redisUrl"),
      prefix: uniquePrefix("admin-listener"),
      config: { adminPort: 0, adminMaxBodyBytes: 1024, adminTimeoutMs: 30_000 },
    });
    base = `http://127.0.0.1:${relay.relay.adminAddress?.port}`;
  });
  afterAll(async () => relay?.relay.stop());

  it("is a listener of its own, on loopback, named in the relay's listeners", () => {
    expect(relay.relay.adminAddress?.address).toBe("127.0.0.1");
    expect(relay.relay.adminAddress?.port).not.toBe(relay.relay.httpAddress.port);
    expect(relay.relay.listeners.admin).toBe(`127.0.0.1:${relay.relay.adminAddress?.port}`);
  });

  it("answers 503 at once (not after the 30 s timeout) while no ACA-Py instance serves admin calls", async () => {
    for (const [method, path] of [
      ["GET", "/status"],
      ["POST", "/out-of-band/create-invitation"],
    ] as const) {
      const answer = await adminCall(base, method, path, { body: method === "POST" ? {} : undefined });
      expect(answer.status).toBe(503);
      expect(answer.ms).toBeLessThan(1_000);
      expect(answer.json).toMatchObject({ executed: false, reason: "no-live-instance" });
      expect((answer.json as { error: string }).error).toContain("no live ACA-Py instance");
    }
    const metric = await relay.metrics.getSingleMetricAsString("acapy_bridge_admin_unanswered_total");
    expect(metric).toMatch(/reason="no_live_instance"[^\n]* 2/);
  });

  it("refuses a body over --admin-max-body-bytes with 413, unforwarded", async () => {
    const answer = await adminCall(base, "POST", "/connections/x/send-message", {
      body: { content: "x".repeat(2048) },
    });
    expect(answer.status).toBe(413);
    expect(answer.json).toMatchObject({ executed: false, reason: "body-too-large" });
  });

  it("does not carry WebSocket upgrades (ACA-Py's admin /ws): 501", async () => {
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = request(`${base}/ws`, { headers: { Connection: "Upgrade", Upgrade: "websocket" } });
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on("upgrade", () => resolve(101));
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(501);
  });
});
