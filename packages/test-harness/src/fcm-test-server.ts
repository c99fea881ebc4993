import { createHash, createPublicKey, generateKeyPairSync, type KeyObject, randomUUID, verify } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** The audience Google's token endpoint requires in a service account's JWT grant. */
export const GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token";
const FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging";
const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/** A Google service account JSON, as the Firebase console hands it out. */
export interface TestServiceAccount {
  type: "service_account";
  project_id: string;
  private_key_id: string;
  private_key: string;
  client_email: string;
  token_uri: string;
}

/** One FCM v1 send this server accepted. */
export interface FcmSend {
  token: string;
  message: Record<string, unknown>;
  at: number;
}

/** What the sender of a request is told: a status (200: accepted) for a device token. */
export type FcmAnswer = (token: string) => number;

function base64url(part: string): Buffer {
  return Buffer.from(part, "base64url");
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString()));
    req.on("error", reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

/**
 * A local stand-in for Google: an OAuth2 token endpoint and the FCM HTTP v1 send endpoint, both
 * checking what Google checks. The token endpoint takes only a JWT grant (RFC 7523) signed RS256
 * with the test service account's key (verified against its public key), issued by its
 * client_email, for Google's token audience and the firebase.messaging scope, not expired; the
 * send endpoint takes only a bearer it issued, for the account's project, and a v1 message with
 * exactly one target (`token`), string-valued `data` and a notification of strings. Everything
 * it refused is in `refusals`, with the reason.
 */
export class FcmTestServer {
  readonly sends: FcmSend[] = [];
  readonly refusals: string[] = [];
  /** Access tokens this server issued. */
  readonly issued = new Set<string>();
  answer: FcmAnswer = () => 200;
  private readonly publicKey: KeyObject;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly serviceAccount: TestServiceAccount,
  ) {
    this.publicKey = createPublicKey(serviceAccount.private_key);
  }

  static async start(): Promise<FcmTestServer> {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    let self: FcmTestServer | undefined;
    const server = createServer((req, res) => {
      void self?.handle(req, res).catch((error: Error) => json(res, 500, { error: error.message }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const pem = privateKey.export({ format: "pem", type: "pkcs8" }).toString();
    const account: TestServiceAccount = {
      type: "service_account",
      project_id: "acapy-bridge-test",
      private_key_id: createHash("sha256").update(pem).digest("hex").slice(0, 40),
      private_key: pem,
      client_email: "notifier@acapy-bridge-test.iam.gserviceaccount.com",
      token_uri: `${url}/token`,
    };
    self = new FcmTestServer(server, url, account);
    return self;
  }

  /** Sends accepted for one device token. */
  sentTo(token: string): FcmSend[] {
    return this.sends.filter((s) => s.token === token);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (req.method === "POST" && req.url === "/token") {
      this.grant(body, res);
      return;
    }
    const send = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(req.url ?? "");
    if (req.method === "POST" && send) {
      this.send(decodeURIComponent(send[1] ?? ""), req, body, res);
      return;
    }
    this.refuse(res, 404, `no such endpoint ${req.method} ${req.url}`);
  }

  private refuse(res: ServerResponse, status: number, why: string, errorStatus = "INVALID_ARGUMENT"): void {
    this.refusals.push(why);
    json(res, status, { error: { code: status, message: why, status: errorStatus } });
  }

  private grant(body: string, res: ServerResponse): void {
    const form = new URLSearchParams(body);
    const problem =
      form.get("grant_type") !== JWT_BEARER_GRANT
        ? "not a JWT bearer grant"
        : this.assertionProblem(form.get("assertion") ?? "");
    if (problem) {
      this.refusals.push(`token: ${problem}`);
      json(res, 400, { error: "invalid_grant", error_description: problem });
      return;
    }
    const accessToken = `ya29.test-${randomUUID()}`;
    this.issued.add(accessToken);
    json(res, 200, { access_token: accessToken, expires_in: 3600, token_type: "Bearer" });
  }

  private assertionProblem(assertion: string): string | undefined {
    const parts = assertion.split(".");
    if (parts.length !== 3) return "the assertion is not a JWS";
    const [head, payload, signature] = parts as [string, string, string];
    const header = JSON.parse(base64url(head).toString()) as { alg?: string };
    if (header.alg !== "RS256") return `alg ${header.alg}, not RS256`;
    if (!verify("RSA-SHA256", Buffer.from(`${head}.${payload}`), this.publicKey, base64url(signature))) {
      return "the signature does not verify with the service account's public key";
    }
    const claims = JSON.parse(base64url(payload).toString()) as Record<string, unknown>;
    const now = Date.now() / 1000;
    if (claims.iss !== this.serviceAccount.client_email) return `iss ${String(claims.iss)}`;
    if (claims.aud !== GOOGLE_TOKEN_AUDIENCE) return `aud ${String(claims.aud)}`;
    if (
      !String(claims.scope ?? "")
        .split(" ")
        .includes(FCM_SCOPE)
    )
      return `scope ${String(claims.scope)}`;
    if (typeof claims.exp !== "number" || claims.exp < now) return "expired";
    if (typeof claims.iat !== "number" || claims.iat > now + 60 || (claims.exp as number) - claims.iat > 3600) {
      return "iat/exp out of range";
    }
    return undefined;
  }

  private send(project: string, req: IncomingMessage, body: string, res: ServerResponse): void {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    if (!bearer || !this.issued.has(bearer)) {
      this.refuse(res, 401, "no access token issued here", "UNAUTHENTICATED");
      return;
    }
    if (project !== this.serviceAccount.project_id) {
      this.refuse(res, 403, `project ${project}`, "PERMISSION_DENIED");
      return;
    }
    let message: Record<string, unknown>;
    try {
      message = (JSON.parse(body) as { message: Record<string, unknown> }).message;
    } catch {
      this.refuse(res, 400, "the body is not JSON");
      return;
    }
    const problem = messageProblem(message);
    if (problem) {
      this.refuse(res, 400, problem);
      return;
    }
    const token = message.token as string;
    const status = this.answer(token);
    if (status === 404) {
      json(res, 404, {
        error: {
          code: 404,
          message: "Requested entity was not found.",
          status: "NOT_FOUND",
          details: [{ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", errorCode: "UNREGISTERED" }],
        },
      });
      return;
    }
    if (status >= 300) {
      json(res, status, { error: { code: status, message: "test failure", status: "UNAVAILABLE" } });
      return;
    }
    this.sends.push({ token, message, at: Date.now() });
    json(res, 200, { name: `projects/${project}/messages/${randomUUID()}` });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** What FCM v1 refuses with INVALID_ARGUMENT in the part of a message the bridge sends. */
function messageProblem(message: Record<string, unknown> | undefined): string | undefined {
  if (!message || typeof message !== "object") return "no message";
  const targets = ["token", "topic", "condition"].filter((t) => message[t] !== undefined);
  if (targets.length !== 1 || typeof message.token !== "string" || !message.token) return "needs exactly one token";
  const data = message.data as Record<string, unknown> | undefined;
  if (data && Object.values(data).some((v) => typeof v !== "string")) return "data values must be strings";
  const notification = message.notification as Record<string, unknown> | undefined;
  if (notification && Object.values(notification).some((v) => typeof v !== "string")) {
    return "notification fields must be strings";
  }
  const known = new Set([
    "token",
    "topic",
    "condition",
    "data",
    "notification",
    "android",
    "apns",
    "webpush",
    "fcm_options",
    "name",
  ]);
  const unknown = Object.keys(message).filter((k) => !known.has(k));
  if (unknown.length) return `unknown message field(s) ${unknown.join(", ")}`;
  return undefined;
}
