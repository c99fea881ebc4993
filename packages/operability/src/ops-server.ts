import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { Health } from "./health.js";

/**
 * The operators' HTTP listener, separate from the public DIDComm one:
 * GET /health/live, GET /health/ready (503 when not ready), GET /metrics.
 */
export class OpsServer {
  private server: Server | undefined;

  constructor(
    private readonly health: Health,
    private readonly registries: Registry[],
  ) {}

  async listen(host: string, port: number): Promise<AddressInfo> {
    const server = createServer((req, res) => {
      void this.handle(req.url ?? "/", req.method ?? "GET").then(({ status, type, body }) => {
        res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
        res.end(body);
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    return server.address() as AddressInfo;
  }

  private async handle(url: string, method: string): Promise<{ status: number; type: string; body: string }> {
    const path = url.split("?")[0];
    if (method !== "GET") return { status: 405, type: "text/plain", body: "method not allowed\n" };
    if (path === "/health/live" || path === "/status/live") {
      return { status: 200, type: "application/json", body: JSON.stringify({ alive: true }) };
    }
    if (path === "/health/ready" || path === "/status/ready") {
      const readiness = this.health.readiness();
      return { status: readiness.ready ? 200 : 503, type: "application/json", body: JSON.stringify(readiness) };
    }
    if (path === "/metrics") {
      const bodies = await Promise.all(this.registries.map((r) => r.metrics()));
      return { status: 200, type: "text/plain; version=0.0.4", body: bodies.join("\n") };
    }
    return { status: 404, type: "text/plain", body: "not found\n" };
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
