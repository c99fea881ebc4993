import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { SendConfirmations } from "./send-confirmations.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A real ws server and client on loopback; the server side sends and confirms. */
async function loopback(options: { autoPong?: boolean } = {}) {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await once(wss, "listening");
  const accepted = once(wss, "connection") as Promise<[WebSocket]>;
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, {
    autoPong: options.autoPong ?? true,
  });
  const received: string[] = [];
  client.on("message", (data) => received.push(String(data)));
  await once(client, "open");
  const [server] = await accepted;
  cleanups.push(
    () => client.terminate(),
    () => wss.close(),
  );
  const confirmed: string[][] = [];
  const confirmations = new SendConfirmations<string>(server, (items) => confirmed.push(items));
  server.on("pong", (payload: Buffer) => confirmations.pongReceived(payload));
  return { wss, client, server, received, confirmed, confirmations };
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function sendAndExpect(link: Awaited<ReturnType<typeof loopback>>, item: string): void {
  link.confirmations.expect(item);
  link.server.send(item);
  link.confirmations.followWithPing();
}

/** Frames sent to a peer that does not answer pings, once their confirmation ping has reached it. */
async function sentToSilentPeer(items: string[]) {
  const link = await loopback({ autoPong: false });
  const pinged = once(link.client, "ping");
  for (const item of items) sendAndExpect(link, item);
  await pinged;
  return link;
}

describe("confirmation of sent frames by ping and pong", () => {
  it("confirms every frame sent in one event-loop turn with one ping, once the peer has read them", async () => {
    const link = await loopback();
    let pings = 0;
    link.client.on("ping", () => pings++);
    for (const item of ["a", "b", "c"]) sendAndExpect(link, item);
    await waitFor("the confirmation", () => link.confirmed.length > 0);
    expect(link.confirmed).toEqual([["a", "b", "c"]]);
    expect(link.received).toEqual(["a", "b", "c"]);
    expect(pings).toBe(1);
    expect(link.confirmations.size).toBe(0);
  });

  it("confirms bursts in order, each with its own ping", async () => {
    const link = await loopback();
    sendAndExpect(link, "first");
    await waitFor("the first confirmation", () => link.confirmed.length === 1);
    sendAndExpect(link, "second");
    sendAndExpect(link, "third");
    await waitFor("the second confirmation", () => link.confirmed.length === 2);
    expect(link.confirmed).toEqual([["first"], ["second", "third"]]);
  });

  it("leaves frames unconfirmed while the peer does not answer, for the caller to take back", async () => {
    const link = await sentToSilentPeer(["x", "y"]);
    await waitFor("both frames read", () => link.received.length === 2);
    expect(link.confirmed).toEqual([]);
    expect(link.confirmations.takeUnconfirmed()).toEqual(["x", "y"]);
    expect(link.confirmations.size).toBe(0);
  });

  it("ignores a pong that answers no confirmation ping (a heartbeat's, or one sent unasked)", async () => {
    const link = await sentToSilentPeer(["x"]);
    // Registered after the confirmations' listener: a pong counted here has been judged there.
    let pongs = 0;
    link.server.on("pong", () => pongs++);
    link.client.pong();
    link.client.pong("7");
    link.client.pong("not a number");
    await waitFor("three pongs", () => pongs === 3);
    expect(link.confirmed).toEqual([]);
    link.client.pong("1");
    await waitFor("the confirmation", () => link.confirmed.length === 1);
    expect(link.confirmed).toEqual([["x"]]);
  });

  it("stops waiting for a forgotten frame and sends no ping on a socket no longer open", async () => {
    const link = await loopback();
    link.confirmations.expect("never-written");
    expect(link.confirmations.forget("never-written")).toBe(true);
    expect(link.confirmations.forget("never-written")).toBe(false);
    link.confirmations.expect("after-close");
    const closed = once(link.server, "close");
    link.client.close();
    await closed;
    link.confirmations.followWithPing();
    await new Promise((resolve) => setImmediate(resolve));
    expect(link.confirmations.takeUnconfirmed()).toEqual(["after-close"]);
  });
});
