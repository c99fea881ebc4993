import { once } from "node:events";
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { connect, type Socket } from "node:net";
import { BridgeProcess, loopbackBridgeArgs, uniquePrefix, waitFor } from "@acapy-bridge/test-harness";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import WebSocket from "ws";
import { fakeJwe, randomVerkey } from "../test-fixtures/fake-envelopes.js";

// Real relay processes: memory, descriptors and the ops listener are the process's own. Every
// loopback address is this machine, so 127.0.0.2 and up play other clients (`localAddress`).
const OTHER_CLIENT = "127.0.0.2";
const MiB = 1024 * 1024;

function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(":") + 1));
}

function rssBytes(pid: number): number {
  const row = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((line) => line.startsWith("VmRSS:"));
  return Number(row?.split(/\s+/)[1]) * 1024;
}

/** One POST from `localAddress` on a fresh connection: its status, Retry-After and how long it took. */
function postFrom(port: number, localAddress: string, body: Buffer) {
  const started = performance.now();
  return new Promise<{ status: number; retryAfter: string | undefined; ms: number }>((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        localAddress,
        method: "POST",
        path: "/",
        agent: false,
        headers: { "content-type": "application/didcomm-envelope-enc", "content-length": body.length },
      },
      (res) => {
        res.resume();
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: res.headers["retry-after"],
            ms: performance.now() - started,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

function getFrom(port: number, localAddress: string) {
  return new Promise<{ status: number; retryAfter: string | undefined }>((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, localAddress, path: "/", agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers["retry-after"] }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** A raw connection that records what it was answered and when it was closed. */
interface RawClient {
  socket: Socket;
  answer: () => string;
  closed: Promise<number>;
}

async function rawClient(port: number, localAddress: string): Promise<RawClient> {
  const socket = connect({ host: "127.0.0.1", port, localAddress });
  const opened = performance.now();
  let answer = "";
  socket.on("data", (chunk: Buffer) => {
    answer += chunk.toString("latin1");
  });
  // A refused flooder's writes fail (EPIPE, ECONNRESET): it only records when it was closed.
  socket.on("error", () => {});
  const closed = new Promise<number>((resolve) => socket.once("close", () => resolve(performance.now() - opened)));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("close", () => reject(new Error(`closed before it connected, from ${localAddress}`)));
  });
  return { socket, answer: () => answer, closed };
}

/** The sum of a metric's series that carry all of `labels` (the registry adds its own, e.g. instance). */
async function metricValue(opsAddress: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`http://${opsAddress}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!(line.startsWith(`${name}{`) || line.startsWith(`${name} `))) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

function openSocket(url: string, localAddress: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { localAddress });
    ws.once("open", () => resolve(ws));
    ws.once("unexpected-response", (_req, res) => reject(Object.assign(new Error("refused"), { res })));
    ws.once("error", reject);
  });
}

describe("relay under a slow-body flood", () => {
  let relay: BridgeProcess;
  const flooders: RawClient[] = [];
  const timers: NodeJS.Timeout[] = [];

  beforeAll(async () => {
    relay = await BridgeProcess.start(
      "relay",
      loopbackBridgeArgs("relay", inject("redisUrl"), uniquePrefix("relay-slow-bodies"), [
        "--limit-exempt-ips=",
        "--max-body-bytes-in-flight",
        String(32 * MiB),
        "--max-body-bytes-in-flight-per-ip",
        String(4 * MiB),
        "--http-headers-timeout-ms",
        "1000",
        "--http-request-timeout-ms",
        "4000",
      ]),
    );
  });
  afterAll(async () => {
    for (const t of timers) clearInterval(t);
    for (const f of flooders) f.socket.destroy();
    await relay?.stop();
  });

  it("holds at most its byte budget for 200 bodies that never finish, cuts them off at the request timeout, and keeps serving another client at once", async () => {
    const port = portOf(relay.address("http"));
    const ops = relay.address("ops");
    const pid = relay.pid as number;
    const rssBefore = rssBytes(pid);
    // Each declares 2 MiB, sends 1 MiB at once, then one byte a second: 200 MiB held today.
    const head = Buffer.from(
      "POST / HTTP/1.1\r\nHost: relay\r\nContent-Type: application/didcomm-envelope-enc\r\nContent-Length: 2097152\r\n\r\n",
    );
    const firstMiB = Buffer.alloc(MiB, 0x61);
    const sources = ["127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6"];
    const started = performance.now();
    for (let i = 0; i < 200; i++) {
      const flooder = await rawClient(port, sources[i % sources.length] as string);
      flooders.push(flooder);
      flooder.socket.write(head);
      flooder.socket.write(firstMiB);
      timers.push(setInterval(() => flooder.socket.writable && flooder.socket.write("a"), 1000));
    }
    let rssPeak = rssBytes(pid);
    // Another client is served while the flood is on.
    const other = await postFrom(port, OTHER_CLIENT, fakeJwe(randomVerkey(), "Anoncrypt"));
    expect(other.status).toBe(200);
    expect(other.ms).toBeLessThan(2000);
    rssPeak = Math.max(rssPeak, rssBytes(pid));
    // Each address may hold 4 MiB (two declared bodies): the rest are answered 503 unread.
    await waitFor(
      "the bodies over the budget refused",
      async () =>
        (await metricValue(ops, "acapy_bridge_relay_messages_total", { transport: "http", outcome: "over_budget" })) >=
        200 - 2 * sources.length,
      10_000,
    );
    expect(await metricValue(ops, "acapy_bridge_relay_body_bytes_in_flight")).toBeLessThanOrEqual(
      sources.length * 4 * MiB,
    );
    rssPeak = Math.max(rssPeak, rssBytes(pid));
    // Every flooder's connection is closed by the request timeout (4 s, checked every 250 ms), its buffer freed.
    const closedAfter = await Promise.all(flooders.map((f) => f.closed));
    expect(Math.max(...closedAfter)).toBeLessThan(4000 + 3000);
    expect(flooders.filter((f) => f.answer().startsWith("HTTP/1.1 408")).length).toBeGreaterThanOrEqual(1);
    expect(
      await metricValue(ops, "acapy_bridge_relay_timed_out_total", { kind: "http_request" }),
    ).toBeGreaterThanOrEqual(1);
    expect(await metricValue(ops, "acapy_bridge_relay_body_bytes_in_flight")).toBe(0);
    // Well under the 200 MiB the flood sent: the budget (16 MiB used here) plus socket buffers and garbage.
    expect(rssPeak - rssBefore).toBeLessThan(96 * MiB);
    expect(performance.now() - started).toBeLessThan(20_000);
    expect((await postFrom(port, OTHER_CLIENT, fakeJwe(randomVerkey(), "Anoncrypt"))).status).toBe(200);
  }, 60_000);
});

describe("relay under connection and request floods", () => {
  let relay: BridgeProcess;
  let port: number;
  let ops: string;
  const opened: WebSocket[] = [];
  const raw: RawClient[] = [];

  beforeAll(async () => {
    relay = await BridgeProcess.start(
      "relay",
      loopbackBridgeArgs("relay", inject("redisUrl"), uniquePrefix("relay-floods"), [
        "--limit-exempt-ips=",
        "--max-connections",
        "100",
        "--max-connections-per-ip",
        "40",
        "--rate-limit-per-ip",
        "20",
        "--rate-limit-burst",
        "60",
        "--ws-first-frame-timeout-ms",
        "5000",
        "--http-headers-timeout-ms",
        "1000",
        "--http-request-timeout-ms",
        "2000",
      ]),
    );
    port = portOf(relay.address("http"));
    ops = relay.address("ops");
  });
  afterEach(() => {
    for (const ws of opened.splice(0)) ws.terminate();
    for (const r of raw.splice(0)) r.socket.destroy();
  });
  afterAll(async () => {
    await relay?.stop();
  });

  it("refuses connections of one address above its cap (503 with Retry-After, or closed) and serves another address, with health and metrics up", async () => {
    const url = `ws://127.0.0.1:${port}/`;
    for (let i = 0; i < 40; i++) opened.push(await openSocket(url, "127.0.0.3"));
    const refusals = await Promise.allSettled(Array.from({ length: 20 }, () => openSocket(url, "127.0.0.3")));
    for (const r of refusals) {
      expect(r.status).toBe("rejected");
      const res = (r as PromiseRejectedResult).reason.res as { statusCode: number; headers: Record<string, string> };
      expect(res.statusCode).toBe(503);
      expect(res.headers["retry-after"]).toBe("2");
    }
    expect(await metricValue(ops, "acapy_bridge_relay_open_connections")).toBeGreaterThanOrEqual(40);
    // A raw connection that sends nothing is closed, not kept.
    const silent = await rawClient(port, "127.0.0.3");
    raw.push(silent);
    expect(await silent.closed).toBeLessThan(3000);
    expect(silent.answer()).toBe("");

    const other = await postFrom(port, OTHER_CLIENT, fakeJwe(randomVerkey(), "Anoncrypt"));
    expect(other.status).toBe(200);
    expect((await fetch(`http://${ops}/health/live`)).status).toBe(200);
    expect(
      await metricValue(ops, "acapy_bridge_relay_connections_refused_total", { reason: "client_limit" }),
    ).toBeGreaterThanOrEqual(21);
  }, 60_000);

  it("refuses every new connection at the process cap with 503 and Retry-After, keeps the ops listener up, and serves again once below it", async () => {
    const url = `ws://127.0.0.1:${port}/`;
    await waitFor(
      "the sockets of the test before closed",
      async () => (await metricValue(ops, "acapy_bridge_relay_open_connections")) === 0,
      5000,
    );
    for (const source of ["127.0.0.4", "127.0.0.5", "127.0.0.6"]) {
      for (let i = 0; i < 34 && opened.length < 100; i++) opened.push(await openSocket(url, source));
    }
    await waitFor(
      "100 connections open",
      async () => (await metricValue(ops, "acapy_bridge_relay_open_connections")) >= 100,
      5000,
    );
    const refused = await postFrom(port, OTHER_CLIENT, fakeJwe(randomVerkey(), "Anoncrypt"));
    expect(refused.status).toBe(503);
    expect(refused.retryAfter).toBe("2");
    expect((await fetch(`http://${ops}/health/live`)).status).toBe(200);
    expect(
      await metricValue(ops, "acapy_bridge_relay_connections_refused_total", { reason: "process_limit" }),
    ).toBeGreaterThanOrEqual(1);
    // Sockets that never send a frame are closed at the first-frame timeout (1008), and room is made.
    const codes = await Promise.all(opened.map((ws) => once(ws, "close").then(([code]) => code as number)));
    expect(new Set(codes)).toEqual(new Set([1008]));
    expect(
      await metricValue(ops, "acapy_bridge_relay_timed_out_total", { kind: "ws_first_frame" }),
    ).toBeGreaterThanOrEqual(100);
    await waitFor(
      "a POST served again",
      async () => (await postFrom(port, OTHER_CLIENT, fakeJwe(randomVerkey(), "Anoncrypt"))).status === 200,
      5000,
    );
  }, 60_000);

  it("cuts off a request whose headers never finish at the headers timeout", async () => {
    const slowloris = await rawClient(port, "127.0.0.7");
    raw.push(slowloris);
    slowloris.socket.write("POST / HTTP/1.1\r\nHost: relay\r\n");
    const drip = setInterval(() => slowloris.socket.writable && slowloris.socket.write("X-A: b\r\n"), 200);
    try {
      expect(await slowloris.closed).toBeLessThan(1000 + 2000);
    } finally {
      clearInterval(drip);
    }
    expect(slowloris.answer()).toMatch(/^HTTP\/1\.1 408 /);
  }, 30_000);

  it("answers 429 with Retry-After above an address's request rate, and serves another address", async () => {
    // In rounds of 30: within the address's 40 connections.
    const answers: { status: number; retryAfter: string | undefined }[] = [];
    for (let round = 0; round < 5; round++) {
      answers.push(...(await Promise.all(Array.from({ length: 30 }, () => getFrom(port, "127.0.0.8")))));
    }
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(30);
    expect(answers.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(60);
    for (const a of limited) expect(Number(a.retryAfter)).toBeGreaterThanOrEqual(1);
    expect((await getFrom(port, OTHER_CLIENT)).status).toBe(200);
    expect(await metricValue(ops, "acapy_bridge_relay_rate_limited_total", { transport: "http" })).toBe(limited.length);
  }, 30_000);
});
