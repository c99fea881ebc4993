import {
  AcaPyProcess,
  aliceBehindBridgeArgs,
  freePort,
  RedisServer,
  uniquePrefix,
  waitFor,
} from "@acapy-bridge/test-harness";
import { afterAll, expect, it } from "vitest";

// Issue 18: ACA-Py's /status/ready stayed true while the shim could not reach Redis, and the shim
// exposed no metrics. The shim now makes ACA-Py's own readiness follow its Redis, and serves
// Prometheus metrics on metrics.port.
const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
});

it("ACA-Py with the shim: /status/ready 503 within 2 s of a hung Redis, 200 after; shim metrics served", async () => {
  const redis = await RedisServer.start();
  cleanup.push(() => redis.stop());
  const pid = redis.pid as number;
  cleanup.push(async () => process.kill(pid, "SIGCONT"));
  const metricsPort = await freePort();
  const acapy = await AcaPyProcess.start({
    label: "ready-follows-redis",
    args: [
      ...aliceBehindBridgeArgs(redis.url, uniquePrefix("acapy-ready"), "http://127.0.0.1:9"),
      "-o",
      `acapy_bridge_shim.metrics.port=${metricsPort}`,
    ],
  });
  cleanup.push(() => acapy.stop());
  const ready = async () => (await fetch(`${acapy.adminUrl}/status/ready`)).status;
  const metrics = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();

  expect(await ready()).toBe(200);
  await waitFor("the shim reports Redis up", async () => (await metrics()).includes("acapy_bridge_shim_redis_up 1"));
  const text = await metrics();
  expect(text).toMatch(/^acapy_bridge_build_info\{version="[^"]+",component="shim"\} 1$/m);
  expect(text).toContain("acapy_bridge_shim_inbound_processed_total");

  const stoppedAt = Date.now();
  process.kill(pid, "SIGSTOP");
  await waitFor("ACA-Py not ready while Redis is stopped", async () => (await ready()) === 503, 10_000);
  expect(Date.now() - stoppedAt).toBeLessThan(2_000);
  const body = await (await fetch(`${acapy.adminUrl}/status/ready`)).text();
  expect(body).toContain("acapy-bridge shim: ");
  expect((await fetch(`${acapy.adminUrl}/status/live`)).status).toBe(200);

  process.kill(pid, "SIGCONT");
  await waitFor("ACA-Py ready again after SIGCONT", async () => (await ready()) === 200, 15_000);
}, 180_000);
