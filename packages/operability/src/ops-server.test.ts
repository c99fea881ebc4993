import { afterEach, describe, expect, it } from "vitest";
import { Health } from "./health.js";
import { Counter, createMetricsRegistry } from "./metrics.js";
import { OpsServer } from "./ops-server.js";

describe("ops server", () => {
  let server: OpsServer | undefined;
  afterEach(async () => server?.close());

  it("reports not ready (503) while a readiness check fails, and serves metrics", async () => {
    const health = new Health();
    let redisUp = false;
    health.addReadinessCheck({ name: "redis", check: () => redisUp });
    const registry = createMetricsRegistry({ component: "test" });
    new Counter({ name: "acapy_bridge_test_total", help: "test", registers: [registry] }).inc(3);
    server = new OpsServer(health, [registry]);
    const { port } = await server.listen("127.0.0.1", 0);
    const base = `http://127.0.0.1:${port}`;

    expect((await fetch(`${base}/health/live`)).status).toBe(200);
    const notReady = await fetch(`${base}/health/ready`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ ready: false, checks: { redis: false } });
    redisUp = true;
    expect((await fetch(`${base}/health/ready`)).status).toBe(200);
    health.markShuttingDown();
    expect((await fetch(`${base}/health/ready`)).status).toBe(503);
    expect(await (await fetch(`${base}/metrics`)).text()).toContain('acapy_bridge_test_total{component="test"} 3');
  });
});
