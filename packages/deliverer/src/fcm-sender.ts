import { JWT } from "google-auth-library";
import type { HttpDelivery } from "./http-delivery.js";
import { GOOGLE_TOKEN_URI, type PushConfig } from "./push-options.js";
import {
  failedBeforeSending,
  type PushAnswer,
  type PushContent,
  type PushSender,
  type PushTarget,
  wakeData,
} from "./push-sender.js";

const FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging";
/** FCM v1 answers a token that is no longer registered with 404 (UNREGISTERED). */
const UNREGISTERED_STATUS = 404;

type FcmConfig = NonNullable<PushConfig["fcm"]>;

/**
 * FCM HTTP v1: `POST {base}/v1/projects/{project}/messages:send` with an OAuth2 access token of
 * the service account. google-auth-library makes the token (the JWT grant signed with the
 * service account's key) and keeps it until shortly before it expires. Its grant goes to
 * Google's token endpoint; a service account whose `token_uri` names another (a proxy, a test
 * server) has the request sent there instead, with the assertion unchanged (its audience is
 * Google's endpoint, as Google checks it).
 */
export class FcmSender implements PushSender {
  readonly via = "fcm";
  private auth: JWT;
  private readonly origin: string;
  private readonly path: string;

  constructor(
    private readonly config: FcmConfig,
    private readonly content: PushContent,
    private readonly http: HttpDelivery,
  ) {
    this.auth = this.authClient();
    const base = new URL(config.baseUrl);
    this.origin = base.origin;
    this.path = `${base.pathname.replace(/\/$/, "")}/v1/projects/${encodeURIComponent(config.projectId)}/messages:send`;
  }

  async send(target: PushTarget): Promise<PushAnswer> {
    let accessToken: string | null | undefined;
    try {
      accessToken = (await this.auth.getAccessToken()).token;
    } catch (error) {
      return { outcome: failedBeforeSending("FCM OAuth2 token", error), unregistered: false };
    }
    if (!accessToken)
      return { outcome: failedBeforeSending("FCM OAuth2 token", "no access token"), unregistered: false };
    const outcome = await this.http.post({
      origin: this.origin,
      path: this.path,
      contentType: "application/json",
      body: Buffer.from(JSON.stringify(this.message(target))),
      headers: { authorization: `Bearer ${accessToken}` },
    });
    if (!outcome.ok && outcome.status === 401) {
      // The access token was refused (revoked, or expired early): the next attempt makes a new grant.
      this.auth = this.authClient();
      return { outcome: { ...outcome, retryable: true }, unregistered: false };
    }
    return { outcome, unregistered: !outcome.ok && outcome.status === UNREGISTERED_STATUS };
  }

  /** A client with no token yet: the first getAccessToken makes the grant. */
  private authClient(): JWT {
    const account = this.config.serviceAccount;
    const auth = new JWT({
      email: account.client_email,
      key: account.private_key,
      keyId: account.private_key_id,
      scopes: [FCM_SCOPE],
    });
    const tokenUri = account.token_uri ?? GOOGLE_TOKEN_URI;
    if (tokenUri !== GOOGLE_TOKEN_URI) {
      auth.transporter.interceptors.request.add({
        resolved: async (options) => {
          if (String(options.url) === GOOGLE_TOKEN_URI) options.url = new URL(tokenUri);
          return options;
        },
      });
    }
    return auth;
  }

  /** The v1 message: a visible notification, high priority, and the wake-up data. */
  private message(target: PushTarget): unknown {
    return {
      message: {
        token: target.token,
        notification: { title: this.content.title, body: this.content.body },
        data: wakeData(target),
        android: { priority: "HIGH" },
        apns: { headers: { "apns-priority": "10" }, payload: { aps: { "content-available": 1 } } },
      },
    };
  }

  async close(): Promise<void> {}
}
