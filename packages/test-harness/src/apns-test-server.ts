import { createPublicKey, generateKeyPairSync, type KeyObject, randomUUID, verify } from "node:crypto";
import { writeFileSync } from "node:fs";
import {
  createSecureServer,
  type Http2SecureServer,
  type Http2Session,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from "node:http2";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { makeTestCertificates } from "./test-certificates.js";

/** One notification this server accepted. */
export interface ApnsSend {
  token: string;
  headers: IncomingHttpHeaders;
  payload: Record<string, unknown>;
  at: number;
}

/** The provider key the bridge signs with, as Apple's developer console hands it out (.p8). */
export interface TestApnsKey {
  keyFile: string;
  keyId: string;
  teamId: string;
  topic: string;
}

const PUSH_TYPES = new Set(["alert", "background", "voip", "complication", "fileprovider", "mdm", "liveactivity"]);

/**
 * A local stand-in for APNs: HTTP/2 over TLS (a throwaway CA's loopback certificate; `caFile` is
 * what the client must trust), `POST /3/device/{token}`, checking what Apple checks: a provider
 * token in `authorization: bearer`, an ES256 JWS whose `kid` is the key id, signed by that key
 * (verified against its public key), `iss` = the team id, `iat` within the last hour; and the
 * headers `apns-topic` (the app's bundle id), `apns-push-type`, `apns-priority` (5 or 10), and a
 * JSON payload with an `aps` dictionary. `answer(token)` decides the status: 410 says
 * Unregistered, 400 BadDeviceToken, others a plain error.
 */
export class ApnsTestServer {
  readonly sends: ApnsSend[] = [];
  readonly refusals: string[] = [];
  answer: (token: string) => number = () => 200;
  private readonly sessions = new Set<Http2Session>();

  private constructor(
    private readonly server: Http2SecureServer,
    readonly url: string,
    readonly caFile: string,
    readonly key: TestApnsKey,
    private readonly publicKey: KeyObject,
  ) {}

  static async start(): Promise<ApnsTestServer> {
    const certificates = await makeTestCertificates();
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const keyFile = join(certificates.dir, "AuthKey_TESTKEY123.p8");
    writeFileSync(keyFile, privateKey.export({ format: "pem", type: "pkcs8" }));
    const key: TestApnsKey = { keyFile, keyId: "TESTKEY123", teamId: "TEAM123456", topic: "org.example.wallet" };
    const server = createSecureServer({ key: certificates.server.key, cert: certificates.server.cert });
    let self: ApnsTestServer | undefined;
    server.on("stream", (stream, headers) => self?.handle(stream, headers));
    server.on("sessionError", () => undefined);
    server.on("session", (session) => {
      self?.sessions.add(session);
      session.on("close", () => self?.sessions.delete(session));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    self = new ApnsTestServer(server, url, certificates.ca.certFile, key, createPublicKey(privateKey));
    return self;
  }

  sentTo(token: string): ApnsSend[] {
    return this.sends.filter((s) => s.token === token);
  }

  private handle(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => {
      const reply = (status: number, reason?: string) => {
        if (reason) this.refusals.push(reason);
        stream.respond({ ":status": status, "apns-id": randomUUID(), "content-type": "application/json" });
        stream.end(reason ? JSON.stringify({ reason }) : undefined);
      };
      const device = /^\/3\/device\/([0-9A-Za-z]+)$/.exec(String(headers[":path"] ?? ""));
      if (headers[":method"] !== "POST" || !device) {
        reply(405, "MethodNotAllowed");
        return;
      }
      const problem = this.providerTokenProblem(String(headers.authorization ?? ""));
      if (problem) {
        reply(403, problem);
        return;
      }
      if (headers["apns-topic"] !== this.key.topic) {
        reply(400, "BadTopic");
        return;
      }
      if (!PUSH_TYPES.has(String(headers["apns-push-type"]))) {
        reply(400, "InvalidPushType");
        return;
      }
      if (!["5", "10"].includes(String(headers["apns-priority"]))) {
        reply(400, "BadPriority");
        return;
      }
      let payload: Record<string, unknown>;
      try {
        payload = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>;
      } catch {
        reply(400, "PayloadEmpty");
        return;
      }
      if (typeof payload.aps !== "object" || payload.aps === null) {
        reply(400, "PayloadEmpty");
        return;
      }
      const token = device[1] as string;
      const status = this.answer(token);
      if (status === 410) {
        reply(410, "Unregistered");
        return;
      }
      if (status === 400) {
        reply(400, "BadDeviceToken");
        return;
      }
      if (status >= 300) {
        reply(status, "ServiceUnavailable");
        return;
      }
      this.sends.push({ token, headers, payload, at: Date.now() });
      reply(200);
    });
  }

  private providerTokenProblem(authorization: string): string | undefined {
    const jwt = /^bearer (.+)$/.exec(authorization)?.[1];
    if (!jwt) return "MissingProviderToken";
    const [head, body, signature] = jwt.split(".");
    if (!head || !body || !signature) return "InvalidProviderToken";
    const header = JSON.parse(Buffer.from(head, "base64url").toString()) as { alg?: string; kid?: string };
    if (header.alg !== "ES256" || header.kid !== this.key.keyId) return "InvalidProviderToken";
    const signed = verify(
      "sha256",
      Buffer.from(`${head}.${body}`),
      { key: this.publicKey, dsaEncoding: "ieee-p1363" },
      Buffer.from(signature, "base64url"),
    );
    if (!signed) return "InvalidProviderToken";
    const claims = JSON.parse(Buffer.from(body, "base64url").toString()) as { iss?: string; iat?: number };
    if (claims.iss !== this.key.teamId) return "InvalidProviderToken";
    const now = Date.now() / 1000;
    if (typeof claims.iat !== "number" || claims.iat > now + 60) return "InvalidProviderToken";
    if (claims.iat < now - 3600) return "ExpiredProviderToken";
    return undefined;
  }

  async close(): Promise<void> {
    for (const session of this.sessions) session.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
