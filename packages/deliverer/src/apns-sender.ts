import { type ClientHttp2Session, type ClientHttp2Stream, connect, constants } from "node:http2";
import { importPKCS8, SignJWT } from "jose";
import { classifyError, classifyStatus } from "./failure-policy.js";
import type { PushConfig } from "./push-options.js";
import {
  failedBeforeSending,
  type PushAnswer,
  type PushContent,
  type PushSender,
  type PushTarget,
  wakeData,
} from "./push-sender.js";

type ApnsConfig = NonNullable<PushConfig["apns"]>;

/** Apple refuses a provider token older than an hour and one renewed more often than every 20 minutes. */
const PROVIDER_TOKEN_RENEW_MS = 40 * 60_000;
/** A notification the device cannot take within this long is dropped by APNs (it only says "connect"). */
const NOTIFICATION_EXPIRY_S = 24 * 3600;
/** The reasons (400, 410) that say the device token is dead. */
const DEAD_TOKEN_REASONS = new Set(["BadDeviceToken", "Unregistered", "DeviceTokenNotForTopic"]);
const MAX_ANSWER_BYTES = 4096;

/**
 * APNs over HTTP/2 (`POST {base}/3/device/{token}`), authenticated with a provider token: an
 * ES256 JWT (`kid` = the key id, `iss` = the team id, `iat`) signed with the .p8 key, renewed
 * every 40 minutes. One HTTP/2 connection carries every notification; a broken one is
 * reopened by the next attempt.
 */
export class ApnsSender implements PushSender {
  readonly via = "apns";
  private session: ClientHttp2Session | undefined;
  private providerToken: { jwt: string; madeAt: number } | undefined;
  private signingKey: ReturnType<typeof importPKCS8> | undefined;

  constructor(
    private readonly config: ApnsConfig,
    private readonly content: PushContent,
    private readonly timeoutMs: number,
  ) {}

  async send(target: PushTarget): Promise<PushAnswer> {
    let jwt: string;
    try {
      jwt = await this.bearer();
    } catch (error) {
      return { outcome: failedBeforeSending("APNs provider token", error), unregistered: false };
    }
    let stream: ClientHttp2Stream;
    try {
      stream = this.connection().request({
        [constants.HTTP2_HEADER_METHOD]: "POST",
        [constants.HTTP2_HEADER_PATH]: `/3/device/${encodeURIComponent(target.token)}`,
        [constants.HTTP2_HEADER_CONTENT_TYPE]: "application/json",
        authorization: `bearer ${jwt}`,
        "apns-topic": this.config.topic,
        "apns-push-type": "alert",
        "apns-priority": "10",
        "apns-expiration": String(Math.floor(Date.now() / 1000) + NOTIFICATION_EXPIRY_S),
      });
    } catch (error) {
      this.dropConnection();
      return { outcome: classifyError(error), unregistered: false };
    }
    return this.answer(stream, JSON.stringify(this.payload(target)));
  }

  private answer(stream: ClientHttp2Stream, body: string): Promise<PushAnswer> {
    return new Promise((resolve) => {
      let status = 0;
      let text = "";
      let settled = false;
      const settle = (answer: PushAnswer) => {
        if (settled) return;
        settled = true;
        resolve(answer);
      };
      stream.setTimeout(this.timeoutMs, () => {
        stream.close(constants.NGHTTP2_CANCEL);
        settle({
          outcome: classifyError({ code: "ETIMEDOUT", message: `no APNs answer in ${this.timeoutMs} ms` }),
          unregistered: false,
        });
      });
      stream.on("response", (headers) => {
        status = Number(headers[constants.HTTP2_HEADER_STATUS]);
      });
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => {
        if (text.length < MAX_ANSWER_BYTES) text += chunk;
      });
      stream.on("end", () => settle(this.judge(status, text)));
      stream.on("error", (error) => {
        this.dropConnection();
        settle({ outcome: classifyError(error), unregistered: false });
      });
      stream.end(body);
    });
  }

  private judge(status: number, text: string): PushAnswer {
    const outcome = classifyStatus(status);
    if (outcome.ok) return { outcome, unregistered: false };
    let reason = "";
    try {
      reason = String((JSON.parse(text) as { reason?: unknown }).reason ?? "");
    } catch {
      reason = "";
    }
    const detail = reason ? `${outcome.detail} ${reason}` : outcome.detail;
    if (reason === "ExpiredProviderToken") {
      this.providerToken = undefined;
      return { outcome: { ...outcome, retryable: true, detail }, unregistered: false };
    }
    const unregistered = status === 410 || (status === 400 && DEAD_TOKEN_REASONS.has(reason));
    return { outcome: { ...outcome, detail }, unregistered };
  }

  /** The alert the user sees, and the wake-up data beside `aps`. */
  private payload(target: PushTarget): unknown {
    return {
      aps: { alert: { title: this.content.title, body: this.content.body }, "content-available": 1 },
      ...wakeData(target),
    };
  }

  private async bearer(): Promise<string> {
    const now = Date.now();
    if (this.providerToken && now - this.providerToken.madeAt < PROVIDER_TOKEN_RENEW_MS) return this.providerToken.jwt;
    this.signingKey ??= importPKCS8(this.config.key, "ES256");
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: "ES256", kid: this.config.keyId })
      .setIssuer(this.config.teamId)
      .setIssuedAt(Math.floor(now / 1000))
      .sign(await this.signingKey);
    this.providerToken = { jwt, madeAt: now };
    return jwt;
  }

  private connection(): ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const session = connect(this.config.baseUrl, this.config.ca ? { ca: this.config.ca } : {});
    // Errors reach the streams on it; the session is only dropped, and reopened by the next attempt.
    session.on("error", () => this.dropConnection(session));
    session.on("goaway", () => this.dropConnection(session));
    session.on("close", () => this.dropConnection(session));
    this.session = session;
    return session;
  }

  private dropConnection(which: ClientHttp2Session | undefined = this.session): void {
    if (!which || this.session !== which) return;
    this.session = undefined;
    if (!which.destroyed) which.destroy();
  }

  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (!session || session.closed) return;
    await new Promise<void>((resolve) => session.close(() => resolve()));
  }
}
