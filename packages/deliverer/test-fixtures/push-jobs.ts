import { readFileSync } from "node:fs";
import {
  encodeEnvelope,
  JobKind,
  type Keyspace,
  type OutboundJob,
  PushNotificationSchema,
  PushPlatform,
  type RedisClient,
  WalletPushDeviceSchema,
} from "@acapy-bridge/protocol";
import type { ApnsTestServer, FcmTestServer } from "@acapy-bridge/test-harness";
import { create } from "@bufbuild/protobuf";
import type { PushConfig } from "../src/push-options.js";
import { DEFAULT_PUSH_CONFIG } from "../src/push-options.js";
import { makeJob } from "./deliverer-harness.js";

export type Platform = "fcm" | "apns";

/** Registers a wallet's device the way the shim's set-device-info does; returns the stored bytes. */
export async function registerDevice(
  client: RedisClient,
  keyspace: Keyspace,
  walletKey: string,
  platform: Platform,
  token: string,
): Promise<Uint8Array> {
  const device = encodeEnvelope(
    WalletPushDeviceSchema,
    create(WalletPushDeviceSchema, {
      platform: platform === "fcm" ? PushPlatform.FCM : PushPlatform.APNS,
      token,
      devicePlatform: platform === "fcm" ? "android" : "",
      connectionId: `conn-${walletKey}`,
      setAtMs: BigInt(Date.now()),
    }),
  );
  await client.set(keyspace.key("walletPushDevice", { recipient: walletKey }), Buffer.from(device));
  return device;
}

/** The push job the shim writes when `mailbox_offer` decides on a notification. */
export function pushJob(walletKey: string, device: Uint8Array, platform: Platform): OutboundJob {
  return makeJob({
    kind: JobKind.PUSH,
    recipientKey: `push:${walletKey}`,
    endpoint: `push:${platform}`,
    contentType: "application/x-protobuf",
    body: encodeEnvelope(
      PushNotificationSchema,
      create(PushNotificationSchema, { walletKey, device, mailboxDepth: 1n }),
    ),
  });
}

/** Push config sending FCM and APNs to the local test servers, and anything else to `webhookUrl`. */
export function pushConfigFor(
  servers: { fcm?: FcmTestServer; apns?: ApnsTestServer; webhookUrl?: string },
  overrides: Partial<PushConfig> = {},
): PushConfig {
  const { fcm, apns } = servers;
  return {
    ...DEFAULT_PUSH_CONFIG,
    fcm: fcm
      ? { serviceAccount: fcm.serviceAccount, projectId: fcm.serviceAccount.project_id, baseUrl: fcm.url }
      : undefined,
    apns: apns
      ? {
          key: readKey(apns.key.keyFile),
          keyId: apns.key.keyId,
          teamId: apns.key.teamId,
          topic: apns.key.topic,
          baseUrl: apns.url,
          ca: readKey(apns.caFile),
        }
      : undefined,
    webhookUrl: servers.webhookUrl,
    ...overrides,
  };
}

function readKey(file: string): string {
  return readFileSync(file, "utf8");
}
