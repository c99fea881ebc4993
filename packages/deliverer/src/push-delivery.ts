import type { Logger } from "@acapy-bridge/operability";
import {
  DeadLetterReason,
  decodeEnvelope,
  type Keyspace,
  lua,
  type OutboundJob,
  PushNotificationSchema,
  PushPlatform,
  type RedisClient,
  WalletPushDeviceSchema,
} from "@acapy-bridge/protocol";
import { ApnsSender } from "./apns-sender.js";
import type { DelivererMetrics } from "./deliverer-metrics.js";
import type { DelivererConfig } from "./deliverer-options.js";
import type { AttemptOutcome } from "./failure-policy.js";
import { FcmSender } from "./fcm-sender.js";
import { HttpDelivery } from "./http-delivery.js";
import type { PushConfig } from "./push-options.js";
import type { PushSender, PushTarget } from "./push-sender.js";
import { PushWebhookSender } from "./push-webhook-sender.js";

const PLATFORM_NAMES: Partial<Record<PushPlatform, PushTarget["platform"]>> = {
  [PushPlatform.FCM]: "fcm",
  [PushPlatform.APNS]: "apns",
};

/** Acknowledged without a send: nothing to retry, nothing for a dead letter. */
const NOT_SENT: AttemptOutcome = { ok: true, status: 0 };

export interface PushDeliveryDeps {
  client: RedisClient;
  keyspace: Keyspace;
  logger: Logger;
  metrics: DelivererMetrics;
}

/**
 * One attempt of a push job (JobKind.PUSH, written by the shim when a message reached the
 * mailbox of a wallet without a session): reads the wallet's device from the job, sends it
 * through its platform's sender (FCM, APNs, or the operator's webhook for a platform without
 * direct credentials) and answers with the deliverer's usual outcome, so retries, backoff, dead
 * letters and takeovers are the outbound partitions' own. A token the service calls unregistered
 * is removed from the wallet (`push_device_clear`, only if the wallet has not registered another
 * meanwhile) and the job is dead-lettered REJECTED with that reason.
 *
 * The push services' URLs are the operator's configuration, like webhook URLs: they do not go
 * through the target policy that guards agents' endpoints.
 */
export class PushDelivery {
  private readonly http: HttpDelivery;
  private readonly senders = new Map<PushTarget["platform"], PushSender>();
  private readonly warnedUnconfigured = new Set<string>();

  constructor(
    private readonly config: PushConfig,
    delivery: DelivererConfig,
    private readonly deps: PushDeliveryDeps,
  ) {
    this.http = new HttpDelivery({
      connectTimeoutMs: delivery.connectTimeoutMs,
      totalTimeoutMs: delivery.totalTimeoutMs,
      connectionsPerOrigin: delivery.endpointConcurrency,
    });
    const content = { title: config.title, body: config.body };
    const webhook = config.webhookUrl ? new PushWebhookSender(config.webhookUrl, content, this.http) : undefined;
    const fcm = config.fcm ? new FcmSender(config.fcm, content, this.http) : webhook;
    const apns = config.apns ? new ApnsSender(config.apns, content, delivery.totalTimeoutMs) : webhook;
    if (fcm) this.senders.set("fcm", fcm);
    if (apns) this.senders.set("apns", apns);
  }

  async deliver(job: OutboundJob): Promise<AttemptOutcome> {
    const notification = decodeEnvelope(PushNotificationSchema, job.body);
    const device = decodeEnvelope(WalletPushDeviceSchema, notification.device);
    const platform = PLATFORM_NAMES[device.platform];
    if (!platform || !device.token) {
      return { ok: false, retryable: false, reason: DeadLetterReason.MALFORMED, detail: "push job without a device" };
    }
    const count = (via: string, result: string) => this.deps.metrics.pushNotifications.inc({ platform, via, result });
    if (!this.config.platforms.includes(platform)) {
      count("none", "platform_off");
      return NOT_SENT;
    }
    const sender = this.senders.get(platform);
    if (!sender) {
      count("none", "not_configured");
      this.warnUnconfigured(platform);
      return NOT_SENT;
    }
    const target: PushTarget = {
      walletKey: notification.walletKey,
      connectionId: device.connectionId,
      platform,
      token: device.token,
      devicePlatform: device.devicePlatform,
      mailboxDepth: Number(notification.mailboxDepth),
    };
    const { outcome, unregistered } = await sender.send(target);
    if (outcome.ok) {
      count(sender.via, "sent");
      return outcome;
    }
    if (!unregistered) {
      count(sender.via, "failed");
      return outcome;
    }
    try {
      const removed = await lua.pushDeviceClear(this.deps.client, {
        pushDevice: this.deps.keyspace.key("walletPushDevice", { recipient: notification.walletKey }),
        device: notification.device,
      });
      count(sender.via, "unregistered");
      this.deps.logger.info(
        {
          event: "push.token_unregistered",
          platform,
          via: sender.via,
          wallet: notification.walletKey,
          removed: removed === 1,
        },
        "the push service reports the device token unregistered; removed from the wallet",
      );
    } catch (error) {
      // The next attempt gets the same answer and removes it then.
      count(sender.via, "failed");
      return {
        ok: false,
        retryable: true,
        reason: DeadLetterReason.ATTEMPTS_EXHAUSTED,
        detail: `${outcome.detail}; removing the unregistered token failed: ${(error as Error).message}`,
      };
    }
    return {
      ...outcome,
      retryable: false,
      reason: DeadLetterReason.REJECTED,
      detail: `${outcome.detail}: device token unregistered, removed`,
    };
  }

  private warnUnconfigured(platform: string): void {
    if (this.warnedUnconfigured.has(platform)) return;
    this.warnedUnconfigured.add(platform);
    this.deps.logger.warn(
      { event: "push.not_configured", platform },
      "a wallet registered a device for a push service with no credentials and no push webhook set: its notifications are not sent",
    );
  }

  async close(): Promise<void> {
    await Promise.all([...new Set(this.senders.values())].map((s) => s.close()));
    await this.http.close();
  }
}
