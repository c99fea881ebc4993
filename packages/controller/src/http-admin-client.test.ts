import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AcaPyAdminCalls } from "./acapy-admin-calls.js";
import { AdminCallError } from "./admin-client.js";
import { AdminTimeoutError, HttpAdminClient } from "./http-admin-client.js";

// Unit test against a stand-in admin server; the example's e2e test drives a real ACA-Py with it.
describe("HttpAdminClient", () => {
  let server: Server;
  let baseUrl = "";
  const seen: { method?: string; url?: string; headers: IncomingHttpHeaders; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() });
        if (req.url === "/slow") return; // never answers
        if (req.headers["x-api-key"] !== "secret") {
          res.writeHead(401, { "content-type": "text/plain; charset=utf-8", "x-from": "acapy" });
          res.end("401: Unauthorized");
          return;
        }
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ echoed: req.url }));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it("sends the API key and the wallet token, and the request's own headers over them", async () => {
    const client = new HttpAdminClient({ baseUrl: `${baseUrl}/`, apiKey: "secret", walletToken: "tok-1" });
    const response = await client.request({
      method: "POST",
      path: "/connections?state=active",
      headers: { "Content-Type": "application/json", Authorization: "Bearer tok-2" },
      body: '{"a":1}',
    });
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body.toString())).toEqual({ echoed: "/connections?state=active" });
    const last = seen[seen.length - 1];
    expect(last?.method).toBe("POST");
    expect(last?.headers["x-api-key"]).toBe("secret");
    expect(last?.headers.authorization).toBe("Bearer tok-2");
    expect(last?.headers["content-type"]).toBe("application/json");
    expect(last?.body).toBe('{"a":1}');
  });

  it("hands an error answer back untouched: status, headers, body", async () => {
    const response = await new HttpAdminClient({ baseUrl, apiKey: "wrong" }).request({
      method: "GET",
      path: "/status",
    });
    expect(response.status).toBe(401);
    expect(response.headers["x-from"]).toBe("acapy");
    expect(response.body.toString()).toBe("401: Unauthorized");
    const calls = new AcaPyAdminCalls(new HttpAdminClient({ baseUrl, apiKey: "wrong" }));
    const failure = await calls.connections().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AdminCallError);
    expect((failure as AdminCallError).response.status).toBe(401);
  });

  it("gives up after timeoutMs with an error that names the call", async () => {
    const client = new HttpAdminClient({ baseUrl, apiKey: "secret", timeoutMs: 200 });
    await expect(client.request({ method: "GET", path: "/slow" })).rejects.toThrow(AdminTimeoutError);
    await expect(client.request({ method: "GET", path: "/slow" })).rejects.toThrow(/GET \/slow got no answer/);
  });
});
