import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { AcaPyAdmin, type AcaPyProcess, uniquePrefix, WebhookSink } from "@acapy-bridge/test-harness";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { WebSocket } from "ws";
import { bridgedAgent } from "../test-fixtures/agents.js";
import { startTestRelay, type TestRelay } from "../test-fixtures/relay-harness.js";

// Until @acapy-bridge/didcomm-test-agent lands, DIDComm v1 pack/unpack is done by
// Askar itself (the venv's aries_askar, through ACA-Py's own pack code).
const here = dirname(fileURLToPath(import.meta.url));
const python = resolve(here, "../../../.venv/bin/python");
const packer = join(here, "../test-fixtures/didcomm_pack.py");
const py = (args: string[], input?: Buffer | string): Buffer =>
  execFileSync(python, [packer, ...args], { input: input ?? "", maxBuffer: 4 * 1024 * 1024 });

describe("direct responses (return route) from a real ACA-Py behind the relay", () => {
  let relay: TestRelay;
  let alice: AcaPyProcess;
  let hooks: WebhookSink;
  let me: { secret: string; verkey: string; did: string };
  let aliceVerkey: string;
  const prefix = uniquePrefix("e2e-return-route");

  beforeAll(async () => {
    relay = await startTestRelay({ redisUrl: inject("redisUrl"), prefix, partitions: { inboundPartitions: 16 } });
    hooks = await WebhookSink.start();
    alice = await bridgedAgent({
      label: "alice",
      redisUrl: inject("redisUrl"),
      prefix,
      relayUrl: relay.url,
      webhookUrl: hooks.url,
    });
    me = JSON.parse(py(["keygen"]).toString());
    const created = await new AcaPyAdmin(alice.adminUrl).request<{ my_verkey: string }>(
      "POST",
      "/connections/create-static",
      { their_verkey: me.verkey, their_did: me.did, their_label: "test agent", alias: "test agent" },
    );
    aliceVerkey = created.my_verkey;
  });
  afterAll(async () => {
    await alice?.stop();
    await relay?.relay.stop();
    await hooks?.close();
  });

  function packedPing(): { id: string; body: Buffer } {
    const id = randomUUID();
    const ping = {
      "@type": "https://didcomm.org/trust_ping/1.0/ping",
      "@id": id,
      response_requested: true,
      "~transport": { return_route: "all" },
    };
    return { id, body: py(["pack", me.secret, aliceVerkey], JSON.stringify(ping)) };
  }

  function unpack(body: Buffer): Record<string, unknown> {
    return JSON.parse(py(["unpack", me.secret], body).toString());
  }

  it("returns ACA-Py's ping response in the HTTP response body", async () => {
    const { id, body } = packedPing();
    const res = await fetch(relay.url, {
      method: "POST",
      headers: { "content-type": "application/didcomm-envelope-enc" },
      body,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/didcomm-envelope-enc");
    const reply = unpack(Buffer.from(await res.arrayBuffer()));
    expect(String(reply["@type"])).toMatch(/trust_ping\/1\.0\/ping_response$/);
    expect((reply["~thread"] as { thid: string }).thid).toBe(id);
  });

  it("returns ACA-Py's ping response on the same WebSocket", async () => {
    const ws = new WebSocket(relay.wsUrl);
    await new Promise((r, j) => ws.once("open", r).once("error", j));
    const frame = new Promise<Buffer>((r) => ws.once("message", (data: Buffer) => r(data)));
    const { id, body } = packedPing();
    ws.send(body, { binary: true });
    const reply = unpack(await frame);
    expect(String(reply["@type"])).toMatch(/trust_ping\/1\.0\/ping_response$/);
    expect((reply["~thread"] as { thid: string }).thid).toBe(id);
    ws.close();
  });

  it("answers 200 at once with no body when the message asks for no direct response", async () => {
    const message = {
      "@type": "https://didcomm.org/basicmessage/1.0/message",
      "@id": randomUUID(),
      content: "hi",
      sent_time: new Date().toISOString(),
    };
    const res = await fetch(relay.url, {
      method: "POST",
      headers: { "content-type": "application/didcomm-envelope-enc" },
      body: py(["pack", me.secret, aliceVerkey], JSON.stringify(message)),
    });
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBe(0);
    await hooks.waitFor("basic message", (w) => w.topic === "basicmessages" && w.body.content === "hi");
  });

  it("answers an envelope for a key ACA-Py does not hold with 200 and no body, as ACA-Py's own transport does", async () => {
    const stranger = JSON.parse(py(["keygen"]).toString()) as { verkey: string };
    const res = await fetch(relay.url, {
      method: "POST",
      headers: { "content-type": "application/didcomm-envelope-enc" },
      body: py(["pack", me.secret, stranger.verkey], JSON.stringify({ "@type": "x", "@id": "1" })),
    });
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });
});
