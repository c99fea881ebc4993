import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { TcpLoadBalancer } from "./tcp-load-balancer.js";

async function backend(name: string): Promise<{ server: Server; address: string }> {
  const server = createServer((_req, res) => res.end(name));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return { server, address: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe("TCP load balancer", () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterAll(async () => Promise.all(closers.map((c) => c())));

  it("spreads connections over backends and skips one that is down", async () => {
    const a = await backend("a");
    const b = await backend("b");
    const balancer = await TcpLoadBalancer.start([a.address, b.address]);
    closers.push(
      () => balancer.close(),
      () => new Promise((r) => b.server.close(r)),
    );
    const ask = async () => (await fetch(balancer.url, { headers: { connection: "close" } })).text();
    expect(new Set([await ask(), await ask()])).toEqual(new Set(["a", "b"]));
    await new Promise((r) => a.server.close(r));
    expect([await ask(), await ask(), await ask()]).toEqual(["b", "b", "b"]);
  });

  it("tries every backend once per connection, also while many connect at the same time", async () => {
    const down = await backend("down");
    await new Promise((r) => down.server.close(r));
    const up = await backend("up");
    const balancer = await TcpLoadBalancer.start([down.address, up.address]);
    closers.push(
      () => balancer.close(),
      () => new Promise((r) => up.server.close(r)),
    );
    // Concurrent retries advance the round robin under each other: none may land on "down" twice.
    const answers = await Promise.all(
      Array.from({ length: 50 }, async () => (await fetch(balancer.url, { headers: { connection: "close" } })).text()),
    );
    expect(answers.every((a) => a === "up")).toBe(true);
  });
});
