import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { DeadLetterReason } from "@acapy-bridge/protocol";
import { uniquePrefix, waitFor } from "@acapy-bridge/test-harness";
import { afterAll, describe, expect, inject, it } from "vitest";
import { WebSocketServer } from "ws";
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

describe("WebSocket endpoints", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
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
