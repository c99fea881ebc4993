import { createHash } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { DeadLetterReason } from "@acapy-bridge/protocol";
import { holdStill, uniquePrefix, waitFor } from "@acapy-bridge/test-harness";
import { afterAll, describe, expect, inject, it } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import {
  closeRedisClient,
  connectionFor,
  enqueueJob,
  makeJob,
  openRedis,
  startTestDeliverer,
} from "../test-fixtures/deliverer-harness.js";
import { readOutboundDeadLetters } from "./dead-letters.js";
import { WebSocketDelivery } from "./websocket-delivery.js";

/**
 * Completes the upgrade, then reads nothing more: from the sender's side, what a host that
 * vanished without FIN or RST looks like (small frames still fit the kernel's buffers).
 */
function blackHoleAfterUpgrade(req: IncomingMessage, socket: Duplex): void {
  const accept = createHash("sha1")
    .update(`${req.headers["sec-websocket-key"]}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
    .digest("base64");
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
  );
  socket.pause();
}

describe("WebSocket endpoints", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  /** An HTTP server on a free port whose upgrade requests go to `onUpgrade`; answers its ws:// URL. */
  async function listen(onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void): Promise<string> {
    const server = createServer((_req, res) => res.writeHead(404).end());
    const sockets = new Set<Duplex>();
    server.on("upgrade", (req, socket, head) => {
      sockets.add(socket);
      onUpgrade(req, socket, head);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    cleanup.push(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy();
          server.close(() => resolve());
        }),
    );
    return `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`;
  }

  /** A peer whose first socket goes silent after the upgrade (a vanished phone); later sockets record their frames. */
  async function peerSilentOnItsFirstSocket(): Promise<{ url: string; frames: string[]; upgrades: () => number }> {
    let upgrades = 0;
    const frames: string[] = [];
    const wss = new WebSocketServer({ noServer: true });
    const url = await listen((req, socket, head) => {
      if (++upgrades === 1) {
        blackHoleAfterUpgrade(req, socket);
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => ws.on("message", (data) => frames.push(data.toString())));
    });
    return { url, frames, upgrades: () => upgrades };
  }

  function newDelivery(totalTimeoutMs: number): WebSocketDelivery {
    const delivery = new WebSocketDelivery({ connectTimeoutMs: 1_000, totalTimeoutMs, idleMs: 10_000 });
    cleanup.push(() => delivery.close());
    return delivery;
  }

  it("counts concurrent sends on one socket as delivered only once the peer's pong to their one shared ping arrives", async () => {
    const frames: string[] = [];
    const pings: Buffer[] = [];
    let peer: WebSocket | undefined;
    // The peer answers pings only when the test says so.
    const wss = new WebSocketServer({ noServer: true, autoPong: false });
    const url = await listen((req, socket, head) =>
      wss.handleUpgrade(req, socket, head, (ws) => {
        peer = ws;
        ws.on("message", (data) => frames.push(data.toString()));
        ws.on("ping", (payload) => pings.push(payload));
      }),
    );
    const delivery = newDelivery(10_000);
    let settled = 0;
    const sends = Array.from({ length: 10 }, (_, i) =>
      delivery.send(new URL(url), "application/didcomm-envelope-enc", Buffer.from(`frame ${i}`)).finally(() => {
        settled++;
      }),
    );
    await waitFor("10 frames and a ping", () => frames.length === 10 && pings.length > 0, 5_000);
    await holdStill(100, "no send may count as delivered before the peer's pong");
    expect(settled).toBe(0); // read by the peer, but not yet confirmed
    expect(pings).toHaveLength(1);
    peer?.pong(pings[0]);
    expect(await Promise.all(sends)).toEqual(Array.from({ length: 10 }, () => ({ ok: true, status: 101 })));
    expect(frames).toEqual(Array.from({ length: 10 }, (_, i) => `frame ${i}`));
  });

  it("fails a send to a peer that stopped reading after the upgrade as retryable within the timeout, and sends the next on a new socket", async () => {
    const { url, frames, upgrades } = await peerSilentOnItsFirstSocket();
    const delivery = newDelivery(1_000);

    const started = Date.now();
    const lost = await delivery.send(new URL(url), "application/didcomm-envelope-enc", Buffer.from("into the void"));
    const elapsed = Date.now() - started;
    expect(lost).toMatchObject({ ok: false, retryable: true });
    expect(lost.ok === false && lost.detail).toContain("WS_UNCONFIRMED");
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(3_000);

    const retried = await delivery.send(new URL(url), "application/didcomm-envelope-enc", Buffer.from("again"));
    expect(retried).toEqual({ ok: true, status: 101 });
    expect(upgrades()).toBe(2);
    expect(frames).toEqual(["again"]);
  });

  it("retries jobs sent to a peer that stopped reading, in order, on a new socket, instead of acknowledging them lost", async () => {
    const { url, frames, upgrades } = await peerSilentOnItsFirstSocket();
    const connection = connectionFor(inject("redisUrl"), uniquePrefix("ws-void"));
    const { client, keyspace } = await openRedis(connection);
    cleanup.push(() => closeRedisClient(client));
    const { deliverer } = await startTestDeliverer(connection, "d-ws-void", { totalTimeoutMs: 1_000 });
    cleanup.push(() => deliverer.stop());

    for (let i = 0; i < 3; i++) {
      await enqueueJob(
        client,
        keyspace,
        makeJob({ recipientKey: "rk-ws-void", endpoint: url, body: Buffer.from(`job ${i}`) }),
      );
    }
    await waitFor("3 frames on the second socket", () => frames.length >= 3, 10_000);
    expect(frames).toEqual(["job 0", "job 1", "job 2"]);
    expect(upgrades()).toBe(2);
    expect(await readOutboundDeadLetters(client, keyspace)).toEqual([]);
  });

  it("fails a send as retryable when the peer closes the socket before confirming the frame", async () => {
    const wss = new WebSocketServer({ noServer: true, autoPong: false });
    const url = await listen((req, socket, head) =>
      wss.handleUpgrade(req, socket, head, (ws) => ws.on("message", () => ws.terminate())),
    );
    const delivery = newDelivery(10_000);
    const started = Date.now();
    const outcome = await delivery.send(new URL(url), "application/json", Buffer.from("{}"));
    expect(outcome).toMatchObject({ ok: false, retryable: true });
    expect(outcome.ok === false && outcome.detail).toContain("ECLOSED");
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("sends each job as one frame over a reused socket, in order, and dead-letters a refused upgrade", async () => {
    const frames: { data: string; binary: boolean; socket: number }[] = [];
    let sockets = 0;
    const server = createServer((_req, res) => res.writeHead(404).end());
    const wss = new WebSocketServer({ noServer: true });
    server.on("upgrade", (req, socket, head) => {
      if (req.url === "/nope") {
        socket.end("HTTP/1.1 403 Forbidden\r\n\r\n");
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        const id = ++sockets;
        ws.on("message", (data, binary) => frames.push({ data: data.toString(), binary, socket: id }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const port = (server.address() as AddressInfo).port;
    cleanup.push(
      () =>
        new Promise<void>((resolve) => {
          for (const c of wss.clients) c.terminate();
          server.close(() => resolve());
        }),
    );
    const connection = connectionFor(inject("redisUrl"), uniquePrefix("ws"));
    const { client, keyspace } = await openRedis(connection);
    cleanup.push(() => closeRedisClient(client));
    const { deliverer } = await startTestDeliverer(connection, "d-ws");
    cleanup.push(() => deliverer.stop());

    for (let i = 0; i < 10; i++) {
      await enqueueJob(
        client,
        keyspace,
        makeJob({ recipientKey: "rk-ws", endpoint: `ws://127.0.0.1:${port}/ws`, body: Buffer.from(`frame ${i}`) }),
      );
    }
    await enqueueJob(
      client,
      keyspace,
      makeJob({
        recipientKey: "rk-ws-json",
        endpoint: `ws://127.0.0.1:${port}/ws`,
        contentType: "application/json",
        body: Buffer.from('{"a":1}'),
      }),
    );
    const refused = makeJob({ recipientKey: "rk-ws-refused", endpoint: `ws://127.0.0.1:${port}/nope` });
    await enqueueJob(client, keyspace, refused);

    await waitFor("11 frames", () => frames.length >= 11, 10_000);
    const packed = frames.filter((f) => f.data.startsWith("frame"));
    expect(packed.map((f) => f.data)).toEqual(Array.from({ length: 10 }, (_, i) => `frame ${i}`));
    expect(packed.every((f) => f.binary)).toBe(true);
    expect(frames.find((f) => f.data === '{"a":1}')?.binary).toBe(false);
    expect(sockets).toBe(1); // one socket per endpoint URL, reused
    const letter = await waitFor("the refused upgrade's dead letter", async () =>
      (await readOutboundDeadLetters(client, keyspace)).find((l) => l.letter.mid === refused.mid),
    );
    expect(letter.letter).toMatchObject({ reason: DeadLetterReason.REJECTED, detail: "HTTP 403" });
  });

  it("answers a URL the WebSocket client refuses to open with an outcome that is not retried, instead of throwing", async () => {
    const delivery = new WebSocketDelivery({ connectTimeoutMs: 1_000, totalTimeoutMs: 1_000, idleMs: 1_000 });
    cleanup.push(() => delivery.close());
    const outcome = await delivery.send(new URL("ws://127.0.0.1:1/p#x"), "application/json", Buffer.from("{}"));
    expect(outcome).toMatchObject({ ok: false, retryable: false, reason: DeadLetterReason.INVALID_ENDPOINT });
    expect(outcome.ok === false && outcome.detail).toContain("fragment");
  });
});
