import {
  BridgeProcess,
  freePort,
  loopbackBridgeArgs,
  makeTestCertificates,
  RedisServer,
  uniquePrefix,
  waitFor,
} from "@acapy-bridge/test-harness";
import { afterEach, describe, expect, it } from "vitest";

// Issue 18, "Done when" 4: the ops endpoints serve while Redis is unreachable, say why, and
// readiness notices a hung Redis quickly.
type Readiness = { ready: boolean; checks: Record<string, boolean>; reasons?: Record<string, string> };

async function readiness(bridge: BridgeProcess): Promise<{ status: number; body: Readiness }> {
  const res = await fetch(`http://${bridge.address("ops")}/health/ready`);
  return { status: res.status, body: (await res.json()) as Readiness };
}

describe("ops endpoints while Redis fails", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
  });

  it("started with Redis down: live 200, ready 503 naming the refused connection, then ready once Redis is up", async () => {
    const port = await freePort();
    const bridge = await BridgeProcess.start(
      "all",
      loopbackBridgeArgs("all", `redis://127.0.0.1:${port}`, uniquePrefix("redis-down")),
      { until: "ops.listening" },
    );
    cleanup.push(() => bridge.stop());

    expect((await fetch(`http://${bridge.address("ops")}/health/live`)).status).toBe(200);
    const notReady = await readiness(bridge);
    expect(notReady.status).toBe(503);
    expect(notReady.body.ready).toBe(false);
    expect(notReady.body.reasons?.redis).toMatch(/^refused: nothing accepts connections/);
    await waitFor("a warn naming the refused connection", () =>
      bridge.events("redis.unreachable").find((l) => l.level === "warn" && l.reason === "refused"),
    );

    const redis = await RedisServer.start({ port });
    cleanup.push(() => redis.stop());
    await waitFor("ready once Redis is up", async () => (await readiness(bridge)).status === 200, 30_000, 100);
    expect(bridge.events("process.ready")).toHaveLength(1);
  }, 90_000);

  it("logs a wrong Redis password at warn as such, and readiness says so", async () => {
    const redis = await RedisServer.start();
    cleanup.push(() => redis.stop());
    await redis.cli("ACL", "SETUSER", "bridge", "on", ">the-right-one", "~*", "&*", "+@all");
    const bridge = await BridgeProcess.start(
      "all",
      loopbackBridgeArgs("all", `redis://bridge:a-wrong-one@127.0.0.1:${redis.port}`, uniquePrefix("wrong-pw")),
      { until: "ops.listening" },
    );
    cleanup.push(() => bridge.stop());

    const warned = await waitFor("a warn about the credentials", () =>
      bridge.events("redis.unreachable").find((l) => l.level === "warn" && l.reason === "auth"),
    );
    expect(warned.err).toMatch(/refused the credentials.*WRONGPASS/);
    expect(JSON.stringify(bridge.lines)).not.toContain("a-wrong-one");
    const notReady = await readiness(bridge);
    expect(notReady.status).toBe(503);
    expect(notReady.body.reasons?.redis).toMatch(/^auth: /);
    expect((await fetch(`http://${bridge.address("ops")}/health/live`)).status).toBe(200);
  }, 60_000);

  it("logs a Redis certificate signed by a CA it does not trust at warn as a TLS failure", async () => {
    const certificates = await makeTestCertificates();
    const tlsPort = await freePort();
    const redis = await RedisServer.start({
      args: [
        "--tls-port",
        String(tlsPort),
        "--tls-cert-file",
        certificates.server.certFile,
        "--tls-key-file",
        certificates.server.keyFile,
        "--tls-ca-cert-file",
        certificates.ca.certFile,
        "--tls-auth-clients",
        "no",
      ],
    });
    cleanup.push(() => redis.stop());
    const bridge = await BridgeProcess.start(
      "all",
      loopbackBridgeArgs("all", `rediss://127.0.0.1:${tlsPort}`, uniquePrefix("untrusted-ca"), [
        "--redis-tls-ca-file",
        certificates.otherCa.certFile,
      ]),
      { until: "ops.listening" },
    );
    cleanup.push(() => bridge.stop());

    const warned = await waitFor("a warn about the TLS handshake", () =>
      bridge.events("redis.unreachable").find((l) => l.level === "warn" && l.reason === "tls"),
    );
    expect(warned.err).toMatch(/TLS handshake failed/);
    expect((await readiness(bridge)).body.reasons?.redis).toMatch(/^tls: /);
  }, 60_000);

  it("turns not ready within 2 s of a hung Redis (SIGSTOP) and ready again after SIGCONT", async () => {
    const redis = await RedisServer.start();
    cleanup.push(() => redis.stop());
    const pid = redis.pid as number;
    cleanup.push(async () => process.kill(pid, "SIGCONT"));
    const bridge = await BridgeProcess.start("all", loopbackBridgeArgs("all", redis.url, uniquePrefix("hung")));
    cleanup.push(() => bridge.stop());
    await waitFor("ready", async () => (await readiness(bridge)).status === 200, 15_000, 100);

    const stoppedAt = Date.now();
    process.kill(pid, "SIGSTOP");
    const hung = await waitFor("not ready while Redis is stopped", async () => {
      const r = await readiness(bridge);
      return r.status === 503 ? r : undefined;
    });
    const noticedAfterMs = Date.now() - stoppedAt;
    expect(noticedAfterMs).toBeLessThan(2_000);
    expect(hung.body.reasons?.redis).toMatch(/answered no PING/);

    process.kill(pid, "SIGCONT");
    await waitFor("ready after SIGCONT", async () => (await readiness(bridge)).status === 200, 15_000, 100);
  }, 60_000);
});
