import type { HttpDelivery } from "./http-delivery.js";
import { type PushAnswer, type PushContent, type PushSender, type PushTarget, wakeData } from "./push-sender.js";

/** The operator's push service says "this token is dead" with 410 Gone. */
const UNREGISTERED_STATUS = 410;

/**
 * The operator's own push service: one JSON POST per notification with the wallet, its
 * connection and its device (platform and token), and the text and data to show. 2xx: sent;
 * 410: the token is dead (removed); other answers as any webhook (5xx, 429: retried).
 */
export class PushWebhookSender implements PushSender {
  readonly via = "webhook";
  private readonly origin: string;
  private readonly path: string;

  constructor(
    url: string,
    private readonly content: PushContent,
    private readonly http: HttpDelivery,
  ) {
    const parsed = new URL(url);
    this.origin = parsed.origin;
    this.path = `${parsed.pathname}${parsed.search}`;
  }

  async send(target: PushTarget): Promise<PushAnswer> {
    const outcome = await this.http.post({
      origin: this.origin,
      path: this.path,
      contentType: "application/json",
      body: Buffer.from(
        JSON.stringify({
          wallet_key: target.walletKey,
          connection_id: target.connectionId,
          platform: target.platform,
          device_token: target.token,
          device_platform: target.devicePlatform,
          mailbox_depth: target.mailboxDepth,
          title: this.content.title,
          body: this.content.body,
          data: wakeData(target),
        }),
      ),
      headers: {},
    });
    return { outcome, unregistered: !outcome.ok && outcome.status === UNREGISTERED_STATUS };
  }

  async close(): Promise<void> {}
}
