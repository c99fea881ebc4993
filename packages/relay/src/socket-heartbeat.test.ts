import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import type { WebSocket } from "ws";
import { SocketRegistry } from "./socket-registry.js";

/** Enough of a ws socket for the heartbeat: counts pings, records how it was ended. */
function fakeSocket() {
  const socket = { pings: 0, ended: "" as "" | "terminated" | "closed" };
  const ws = {
    ping: () => socket.pings++,
    terminate: () => (socket.ended = "terminated"),
    close: () => (socket.ended = "closed"),
  } as unknown as WebSocket;
  return { socket, ws };
}

function registryWith(count: number) {
  const registry = new SocketRegistry();
  const sockets = Array.from({ length: count }, (_, i) => {
    const { socket, ws } = fakeSocket();
    registry.add(`ws-${i}`, ws, "127.0.0.1");
    return socket;
  });
  return { registry, sockets };
}

describe("the relay's heartbeat", () => {
  it("pings each socket once per heartbeat, spread over the ticks instead of in one burst", () => {
    const { registry, sockets } = registryWith(3_000);
    const heartbeatMs = 3_000;
    const start = performance.now();
    let largestTick = 0;
    for (let t = 0; t <= heartbeatMs; t += 100) {
      const before = sockets.reduce((n, s) => n + s.pings, 0);
      registry.heartbeatTick(heartbeatMs, 0, start + t);
      largestTick = Math.max(largestTick, sockets.reduce((n, s) => n + s.pings, 0) - before);
    }
    expect(sockets.every((s) => s.pings === 1)).toBe(true);
    expect(largestTick).toBeLessThanOrEqual(110);
  });

  it("terminates a socket that did not answer its ping by its next turn, and keeps one that did", () => {
    const { registry, sockets } = registryWith(2);
    // Whole milliseconds: with a fractional performance.now() as the start, start + 1_000 - start
    // can come out just under 1_000 and the second round would begin a tick later.
    const start = 10_000;
    registry.heartbeatTick(1_000, 0, start); // first half of the round: ws-0 pinged
    registry.heartbeatTick(1_000, 0, start + 999); // second half: ws-1 pinged
    const answering = registry.get("ws-1");
    if (answering) answering.alive = true; // ws-1's pong came, ws-0's did not
    registry.heartbeatTick(1_000, 0, start + 1_000); // next round: ws-0's turn
    registry.heartbeatTick(1_000, 0, start + 1_999); // ws-1's turn
    expect(sockets[0]?.ended).toBe("terminated");
    expect(sockets[1]?.ended).toBe("");
    expect(sockets[1]?.pings).toBe(2);
    expect(registry.size).toBe(1);
  });

  it("keeps a socket whose reading the relay paused (its pong may wait unread behind its frames), and pings it again once reading resumed", () => {
    const { registry, sockets } = registryWith(1);
    const start = 10_000;
    registry.heartbeatTick(1_000, 0, start); // pinged
    const paused = registry.get("ws-0");
    if (paused) paused.readingPaused = true; // its frames wait for Redis; its pong is not read
    registry.heartbeatTick(1_000, 0, start + 1_000);
    registry.heartbeatTick(1_000, 0, start + 2_000);
    expect(sockets[0]?.ended).toBe("");
    if (paused) paused.readingPaused = false;
    registry.heartbeatTick(1_000, 0, start + 3_000);
    expect(sockets[0]?.pings).toBe(2);
    expect(sockets[0]?.ended).toBe("");
  });

  it("keeps a socket whose pong is late behind a large frame for the time the frame takes on the slowest link, then terminates it", () => {
    const registry = new SocketRegistry();
    const { socket, ws } = fakeSocket();
    // What the heartbeat reads of a net.Socket: bytes handed to it; 64 KiB just went out.
    const tcp = { destroyed: false, bytesWritten: 64 * 1024 };
    registry.add("ws-0", ws, "127.0.0.1", tcp as unknown as Socket);
    const start = 10_000;
    registry.heartbeatTick(1_000, 0, start); // pinged: the ping waits behind the 64 KiB
    let kept = 0;
    for (let second = 1; second <= 3; second++) {
      kept += registry.heartbeatTick(1_000, 0, start + second * 1_000).stillReceiving;
    }
    // 64 KiB at 16 KiB/s: 4 s.
    expect(kept).toBe(3);
    expect(socket.pings).toBe(1);
    expect(socket.ended).toBe("");
    expect(registry.heartbeatTick(1_000, 0, start + 4_000)).toMatchObject({ terminated: 1, stillReceiving: 0 });
    expect(socket.ended).toBe("terminated");
  });

  it("terminates at once a socket whose pong is late with no more than a ping's worth sent before the ping", () => {
    const registry = new SocketRegistry();
    const { socket, ws } = fakeSocket();
    const tcp = { destroyed: false, bytesWritten: 2 * 1024 };
    registry.add("ws-0", ws, "127.0.0.1", tcp as unknown as Socket);
    registry.heartbeatTick(1_000, 0, 10_000);
    expect(registry.heartbeatTick(1_000, 0, 11_000)).toMatchObject({ terminated: 1, stillReceiving: 0 });
    expect(socket.ended).toBe("terminated");
  });

  it("closes a socket idle past the idle timeout", () => {
    const { registry, sockets } = registryWith(1);
    registry.heartbeatTick(1_000, 60_000, performance.now() + 61_000);
    expect(sockets[0]?.ended).toBe("closed");
  });
});
