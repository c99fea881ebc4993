/**
 * Talks to a real ACA-Py (askar wallet): proves that what we pack ACA-Py can read, and that what
 * ACA-Py packs we can read, over both its HTTP and WebSocket inbound transports.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { acapyBinary, holdStill, waitFor } from "@acapy-bridge/test-harness";
import bs58 from "bs58";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AcaPyAdmin, connectStatic, type StaticConnection } from "./acapy-admin.js";
import {
  BASIC_MESSAGE_TYPE,
  basicMessage,
  TRUST_PING_RESPONSE_TYPE,
  TRUST_PING_TYPE,
  trustPing,
  trustPingResponse,
} from "./messages.js";
import { TestAgent } from "./test-agent.js";
import { HttpInbox, postEnvelope } from "./transports.js";

interface Webhook {
  topic: string;
  payload: Record<string, unknown>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/** Collects ACA-Py's webhooks (POST /topic/<topic>/) so tests can wait for one. */
class WebhookSink {
  readonly received: Webhook[] = [];
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<WebhookSink> {
    const received: Webhook[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const topic = /^\/topic\/([^/]+)\/?$/.exec(req.url ?? "")?.[1] ?? "?";
        try {
          received.push({ topic, payload: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown> });
        } catch {
          received.push({ topic, payload: {} });
        }
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (!address || typeof address !== "object") throw new Error("webhook sink has no port");
    const sink = new WebhookSink(server, `http://127.0.0.1:${address.port}`);
    (sink as { received: Webhook[] }).received = received;
    return sink;
  }

  waitFor(predicate: (hook: Webhook) => boolean, timeoutMs = 15_000): Promise<Webhook> {
    return waitFor(
      () => `a matching webhook (topics so far: ${JSON.stringify(this.received.map((h) => h.topic))})`,
      () => this.received.find(predicate),
      timeoutMs,
      100,
    );
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** One ACA-Py in its own process group, with a throwaway ACAPY_HOME and a RAW-keyed sqlite wallet. */
class AcaPy {
  private log = "";
  private constructor(
    private readonly child: ChildProcess,
    private readonly home: string,
    readonly adminUrl: string,
    readonly httpEndpoint: string,
    readonly wsEndpoint: string,
  ) {
    const keep = (chunk: Buffer) => {
      this.log = (this.log + chunk.toString()).slice(-10_000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
  }

  static async start(binary: string, label: string, webhookUrl: string): Promise<AcaPy> {
    const [httpPort, wsPort, adminPort] = [await freePort(), await freePort(), await freePort()];
    const home = mkdtempSync(join(tmpdir(), `didcomm-test-agent-${label}-`));
    const httpEndpoint = `http://127.0.0.1:${httpPort}`;
    const wsEndpoint = `ws://127.0.0.1:${wsPort}`;
    // A RAW 32-byte wallet key skips argon2 key stretching: startup drops to ~2 s.
    const rawWalletKey = bs58.encode(randomBytes(32));
    const args = [
      "start",
      ...["--label", label],
      ...["-it", "http", "127.0.0.1", String(httpPort)],
      ...["-it", "ws", "127.0.0.1", String(wsPort)],
      ...["-ot", "http"],
      ...["-e", httpEndpoint, wsEndpoint],
      ...["--admin", "127.0.0.1", String(adminPort), "--admin-insecure-mode"],
      "--no-ledger",
      ...["--wallet-type", "askar", "--wallet-name", `${label}${randomBytes(4).toString("hex")}`],
      ...["--wallet-key", rawWalletKey, "--wallet-key-derivation-method", "RAW", "--auto-provision"],
      ...["--webhook-url", webhookUrl],
      "--monitor-ping",
      ...["--log-level", "warning"],
    ];
    const child = spawn(binary, args, {
      env: { ...process.env, ACAPY_HOME: home, RUST_LOG: "warn", PYTHONUNBUFFERED: "1" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const acapy = new AcaPy(child, home, `http://127.0.0.1:${adminPort}`, httpEndpoint, wsEndpoint);
    await acapy.waitReady(60_000);
    return acapy;
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const isReady = async () => {
      try {
        const res = await fetch(`${this.adminUrl}/status/ready`);
        return res.ok && ((await res.json()) as { ready?: boolean }).ready === true;
      } catch {
        return false; // not listening yet
      }
    };
    const outcome = await waitFor(
      "aca-py ready",
      async () => (this.child.exitCode !== null ? "exited" : (await isReady()) ? "ready" : undefined),
      timeoutMs,
      200,
    ).catch(async (error: Error) => {
      await this.stop();
      throw new Error(`${error.message}:\n${this.log}`);
    });
    if (outcome === "exited") throw new Error(`aca-py exited with ${this.child.exitCode}:\n${this.log}`);
  }

  get logs(): string {
    return this.log;
  }

  /** SIGTERM to the whole group (aca-py may fork helpers), SIGKILL if it lingers. */
  async stop(): Promise<void> {
    const { child } = this;
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      signalGroup(child.pid, "SIGTERM");
      const killer = setTimeout(() => signalGroup(child.pid as number, "SIGKILL"), 5_000);
      await exited;
      clearTimeout(killer);
    }
    // A straggler in the group must not outlive the test run.
    if (child.pid !== undefined) signalGroup(child.pid, "SIGKILL");
    rmSync(this.home, { recursive: true, force: true });
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is already gone
  }
}

describe("interop with a real ACA-Py", () => {
  let acapy: AcaPy;
  let webhooks: WebhookSink;
  let admin: AcaPyAdmin;
  let agent: TestAgent;
  let connection: StaticConnection;

  beforeAll(async () => {
    webhooks = await WebhookSink.start();
    acapy = await AcaPy.start(acapyBinary(), "interop", webhooks.url);
    admin = new AcaPyAdmin(acapy.adminUrl);
    agent = await TestAgent.create("ts-test-agent");
  });

  afterAll(async () => {
    await acapy?.stop();
    await webhooks?.close();
  });

  it("creates a static connection to the test agent's verkey", async () => {
    connection = await connectStatic(admin, agent);
    expect(connection.connectionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(connection.endpoint).toBe(acapy.httpEndpoint);
    expect(connection.result.their_verkey).toBe(agent.verkey);
    expect(connection.result.their_did).toBe(agent.did);
    expect(bs58.decode(connection.recipientKeys[0] ?? "")).toHaveLength(32);
  });

  it("answers an authcrypted trust ping on the HTTP response when return_route is all", async () => {
    const ping = trustPing({ returnRoute: "all", comment: "from the TS test agent" });
    const exchange = await agent.sendHttp(ping, connection);
    expect(exchange.status).toBe(200);
    expect(exchange.reply, `ACA-Py log:\n${acapy.logs}`).toBeDefined();
    expect(exchange.reply?.message["@type"]).toBe(TRUST_PING_RESPONSE_TYPE);
    expect(exchange.reply?.message["~thread"]?.thid).toBe(ping["@id"]);
    expect(exchange.reply?.senderVerkey).toBe(connection.recipientKeys[0]);
    expect(exchange.reply?.recipientVerkey).toBe(agent.verkey);
    // --monitor-ping: ACA-Py also tells its controller it got our ping on this connection.
    await webhooks.waitFor(
      (h) => h.topic === "ping" && h.payload.thread_id === ping["@id"] && h.payload.state === "received",
    );
  });

  it("delivers an authcrypted basic message to ACA-Py's controller", async () => {
    const message = basicMessage(`hello ACA-Py ${randomBytes(4).toString("hex")}`);
    const delivery = await postEnvelope(connection.endpoint, agent.pack(message, connection.recipientKeys));
    expect(delivery.status).toBe(200);
    expect(delivery.body).toHaveLength(0);
    const hook = await webhooks.waitFor((h) => h.topic === "basicmessages" && h.payload.content === message.content);
    expect(hook.payload).toMatchObject({ connection_id: connection.connectionId, message_id: message["@id"] });
  });

  it("answers a trust ping over its WebSocket transport on the same socket", async () => {
    const ping = trustPing({ returnRoute: "all" });
    const replies = await agent.sendWebSocket(
      ping,
      { ...connection, endpoint: acapy.wsEndpoint },
      { count: 1, idleMs: 10_000 },
    );
    expect(replies).toHaveLength(1);
    expect(replies[0]?.message).toMatchObject({ "@type": TRUST_PING_RESPONSE_TYPE, "~thread": { thid: ping["@id"] } });
    expect(replies[0]?.senderVerkey).toBe(connection.recipientKeys[0]);
  });

  it("takes no reply route it was not given: without return_route the HTTP body is empty", async () => {
    const exchange = await agent.sendHttp(trustPing(), connection);
    expect(exchange.status).toBe(200);
    expect(exchange.body).toHaveLength(0);
    expect(exchange.reply).toBeUndefined();
  });

  it("does not act on an envelope whose ciphertext was tampered with", async () => {
    const ping = trustPing({ returnRoute: "all" });
    const packed = JSON.parse(Buffer.from(agent.pack(ping, connection.recipientKeys)).toString());
    const ciphertext = Buffer.from(packed.ciphertext, "base64url");
    ciphertext[0] = (ciphertext[0] ?? 0) ^ 0xff;
    packed.ciphertext = ciphertext.toString("base64url");
    const delivery = await postEnvelope(connection.endpoint, Buffer.from(JSON.stringify(packed)));
    // ACA-Py treats an envelope it cannot unpack as a plaintext message without @type and drops
    // it: the POST still gets 200, but there is no reply and the ping never reaches a handler.
    expect(delivery.status).toBe(200);
    expect(delivery.body).toHaveLength(0);
    await holdStill(1_500, "time for a ping webhook to arrive if ACA-Py wrongly acted on the envelope");
    expect(webhooks.received.filter((h) => h.topic === "ping" && h.payload.thread_id === ping["@id"])).toEqual([]);
  });

  it("packs to us through its outbound transport, and we can answer its ping", async () => {
    const inbox = await HttpInbox.start();
    try {
      const bob = await TestAgent.create("ts-agent-with-endpoint");
      const toBob = await connectStatic(admin, bob, { endpoint: inbox.url });
      const content = `from ACA-Py ${randomBytes(4).toString("hex")}`;
      await admin.post(`/connections/${toBob.connectionId}/send-message`, { content });
      const received = bob.unpack(await inbox.next());
      expect(received.message).toMatchObject({ "@type": BASIC_MESSAGE_TYPE, content });
      expect(received.senderVerkey).toBe(toBob.recipientKeys[0]);
      expect(received.recipientVerkey).toBe(bob.verkey);

      const { thread_id: pingThread } = await admin.post<{ thread_id: string }>(
        `/connections/${toBob.connectionId}/send-ping`,
        {
          comment: "are you there?",
        },
      );
      const ping = bob.unpack(await inbox.next());
      expect(ping.message).toMatchObject({ "@type": TRUST_PING_TYPE, "@id": pingThread, response_requested: true });
      const answer = await bob.sendHttp(trustPingResponse(ping.message), toBob);
      expect(answer.status).toBe(200);
      await webhooks.waitFor(
        (h) => h.topic === "ping" && h.payload.thread_id === pingThread && h.payload.state === "response_received",
      );
    } finally {
      await inbox.close();
    }
  });
});
