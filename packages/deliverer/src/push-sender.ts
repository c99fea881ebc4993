import { DeadLetterReason } from "@acapy-bridge/protocol";
import type { AttemptOutcome } from "./failure-policy.js";

/** Whom one push notification wakes: a wallet's device. Never any message content. */
export interface PushTarget {
  walletKey: string;
  connectionId: string;
  platform: "fcm" | "apns";
  token: string;
  /** FCM's device_platform as the wallet registered it ("android", "ios"); empty for APNs. */
  devicePlatform: string;
  mailboxDepth: number;
}

/** What the notification shows, and the data that tells the app to connect to its mediator. */
export interface PushContent {
  title: string;
  body: string;
}

/** The `data` every notification carries: the app connects to its mediator and collects its messages. */
export function wakeData(target: PushTarget): Record<string, string> {
  return { type: "didcomm-message-waiting", connection_id: target.connectionId };
}

/** One attempt's outcome (the deliverer's failure policy), and whether the service called the token dead. */
export interface PushAnswer {
  outcome: AttemptOutcome;
  /** The service reported the device token invalid or unregistered: it is removed, never tried again. */
  unregistered: boolean;
}

/** Sends notifications to one push service. */
export interface PushSender {
  readonly via: "fcm" | "apns" | "webhook";
  send(target: PushTarget): Promise<PushAnswer>;
  close(): Promise<void>;
}

/** A step before the request failed (credentials, a token grant): another attempt may succeed. */
export function failedBeforeSending(what: string, error: unknown): AttemptOutcome {
  const e = error as { code?: string; message?: string } | undefined;
  return {
    ok: false,
    retryable: true,
    reason: DeadLetterReason.ATTEMPTS_EXHAUSTED,
    detail: `${what}: ${e?.code ?? "Error"}: ${e?.message ?? String(error)}`.slice(0, 500),
  };
}
