import { readFileSync } from "node:fs";
import { type OptionSpec, OptionsError, type OptionValue, type ParsedOptions } from "@acapy-bridge/operability";

/**
 * Push notifications to wallets' devices (docs/mediator.md, "Push notifications"): where each
 * platform's notifications go, and the credentials. A platform is sent directly when its
 * credentials are set (FCM: a service account; APNs: a provider key), else to the webhook when
 * one is set, else not at all (the job is acknowledged and counted `not_configured`).
 */
export interface PushConfig {
  /** Platforms notified at all ("fcm", "apns"); a job for another is acknowledged unsent. */
  platforms: string[];
  title: string;
  body: string;
  fcm:
    | {
        /** The service account JSON (client_email, private_key, project_id, token_uri). */
        serviceAccount: ServiceAccount;
        projectId: string;
        /** FCM HTTP v1 base URL (scheme://host[:port]). */
        baseUrl: string;
      }
    | undefined;
  apns:
    | {
        /** The .p8 provider key (PKCS#8 PEM, ES256). */
        key: string;
        keyId: string;
        teamId: string;
        /** The app's bundle id (apns-topic). */
        topic: string;
        /** https://api.push.apple.com or https://api.sandbox.push.apple.com (or a proxy). */
        baseUrl: string;
        /** Extra CA certificates (PEM) to trust for the APNs connection; undefined: the system's. */
        ca: string | undefined;
      }
    | undefined;
  webhookUrl: string | undefined;
}

export interface ServiceAccount {
  client_email: string;
  private_key: string;
  private_key_id?: string;
  project_id?: string;
  token_uri?: string;
}

export const GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token";
export const FCM_BASE_URL = "https://fcm.googleapis.com";
export const APNS_PRODUCTION_URL = "https://api.push.apple.com";
export const APNS_SANDBOX_URL = "https://api.sandbox.push.apple.com";
const PLATFORMS = ["fcm", "apns"];

export const DEFAULT_PUSH_CONFIG: PushConfig = {
  platforms: PLATFORMS,
  title: "New message",
  body: "You have a new message.",
  fcm: undefined,
  apns: undefined,
  webhookUrl: undefined,
};

const O = {
  platforms: "push-platforms",
  title: "push-title",
  body: "push-body",
  fcmServiceAccountFile: "push-fcm-service-account-file",
  fcmServiceAccountJson: "push-fcm-service-account-json",
  fcmProjectId: "push-fcm-project-id",
  fcmUrl: "push-fcm-url",
  apnsKeyFile: "push-apns-key-file",
  apnsKey: "push-apns-key",
  apnsKeyId: "push-apns-key-id",
  apnsTeamId: "push-apns-team-id",
  apnsTopic: "push-apns-topic",
  apnsUrl: "push-apns-url",
  apnsCaFile: "push-apns-ca-file",
  webhookUrl: "push-webhook-url",
} as const;

function envName(name: string): string {
  return `ACAPY_BRIDGE_${name.toUpperCase().replace(/-/g, "_")}`;
}

function httpUrlProblem(value: string): string | undefined {
  if (!value) return undefined;
  try {
    const url = new URL(value);
    if (url.protocol !== "http:" && url.protocol !== "https:") return `${value} is not an http(s) URL`;
  } catch {
    return `${value} is not a URL`;
  }
  return undefined;
}

function option(
  name: string,
  kind: OptionSpec["kind"],
  description: string,
  extra: Partial<OptionSpec> = {},
): OptionSpec {
  return { name, env: envName(name), kind, description, ...extra };
}

const urlRule = ((value: string) => httpUrlProblem(value)) as OptionSpec["validate"];

/** The push notification options of the deliverer. */
export const pushOptionSpecs: OptionSpec[] = [
  option(O.platforms, "list", "Platforms whose devices are notified (fcm, apns); empty: none.", {
    default: PLATFORMS,
    validate: ((values: string[]) => {
      const unknown = values.filter((v) => !PLATFORMS.includes(v));
      return unknown.length ? `unknown platform(s) ${unknown.join(", ")}; known: ${PLATFORMS.join(", ")}` : undefined;
    }) as OptionSpec["validate"],
  }),
  option(O.title, "string", "Title of every push notification (no message content is ever sent).", {
    default: DEFAULT_PUSH_CONFIG.title,
  }),
  option(O.body, "string", "Body text of every push notification.", { default: DEFAULT_PUSH_CONFIG.body }),
  option(
    O.fcmServiceAccountFile,
    "string",
    "Google service account JSON file for FCM HTTP v1 (its token_uri is where the OAuth2 JWT grant goes). Set: FCM devices are notified directly.",
  ),
  option(O.fcmServiceAccountJson, "string", "The same service account JSON, given inline (environment).", {
    secret: true,
  }),
  option(O.fcmProjectId, "string", "Firebase project id; default: the service account's project_id."),
  option(O.fcmUrl, "string", "FCM HTTP v1 base URL (a proxy, a test server).", {
    default: FCM_BASE_URL,
    validate: urlRule,
  }),
  option(
    O.apnsKeyFile,
    "string",
    "APNs provider key file (.p8, ES256). Set (with key id, team id, topic): APNs devices are notified directly.",
  ),
  option(O.apnsKey, "string", "The same APNs provider key, PEM given inline (environment).", { secret: true }),
  option(O.apnsKeyId, "string", "The APNs provider key's id (kid)."),
  option(O.apnsTeamId, "string", "The Apple developer team id (iss of the provider token)."),
  option(O.apnsTopic, "string", "The app's bundle id (apns-topic)."),
  option(O.apnsUrl, "string", `APNs base URL: ${APNS_PRODUCTION_URL}, or ${APNS_SANDBOX_URL} for development builds.`, {
    default: APNS_PRODUCTION_URL,
    validate: ((value: string) =>
      httpUrlProblem(value) ?? (value.startsWith("https:") ? undefined : "APNs needs https")) as OptionSpec["validate"],
  }),
  option(O.apnsCaFile, "string", "Extra CA certificates (PEM) trusted for the APNs connection (a TLS proxy)."),
  option(
    O.webhookUrl,
    "string",
    "The operator's own push service: platforms without direct credentials are POSTed there as JSON (wallet, connection, platform, token).",
    { validate: urlRule },
  ),
];

/** A credential file's content; an unreadable one names the option and the file, nothing of its content. */
function readCredential(option: string, file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new OptionsError(`--${option} ${file}: ${(error as NodeJS.ErrnoException).code ?? "unreadable"}`);
  }
}

function text(parsed: ParsedOptions, name: string): string | undefined {
  const value: OptionValue | undefined = parsed[name];
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

function readServiceAccount(parsed: ParsedOptions): ServiceAccount | undefined {
  const file = text(parsed, O.fcmServiceAccountFile);
  const inline = text(parsed, O.fcmServiceAccountJson);
  if (!file && !inline) return undefined;
  const source = file ? `--${O.fcmServiceAccountFile} ${file}` : `--${O.fcmServiceAccountJson}`;
  const raw = file ? readCredential(O.fcmServiceAccountFile, file) : (inline as string);
  let account: ServiceAccount;
  try {
    account = JSON.parse(raw) as ServiceAccount;
  } catch (error) {
    // The message names the source, never the content (a private key).
    throw new OptionsError(`${source}: not a readable JSON service account (${(error as Error).name})`);
  }
  if (typeof account.client_email !== "string" || typeof account.private_key !== "string") {
    throw new OptionsError(`${source}: the service account needs client_email and private_key`);
  }
  return account;
}

/** Builds the push config; reads the credential files. Throws (naming the option) on a missing or bad credential. */
export function pushConfigFromOptions(parsed: ParsedOptions): PushConfig {
  const config: PushConfig = { ...DEFAULT_PUSH_CONFIG };
  const platforms = parsed[O.platforms];
  if (Array.isArray(platforms)) config.platforms = platforms;
  config.title = text(parsed, O.title) ?? config.title;
  config.body = text(parsed, O.body) ?? config.body;
  config.webhookUrl = text(parsed, O.webhookUrl);

  const account = readServiceAccount(parsed);
  if (account) {
    const projectId = text(parsed, O.fcmProjectId) ?? account.project_id;
    if (!projectId) throw new OptionsError(`--${O.fcmProjectId} is needed: the service account names no project_id`);
    config.fcm = { serviceAccount: account, projectId, baseUrl: text(parsed, O.fcmUrl) ?? FCM_BASE_URL };
  }

  const keyFile = text(parsed, O.apnsKeyFile);
  const key = keyFile ? readCredential(O.apnsKeyFile, keyFile) : text(parsed, O.apnsKey);
  if (key) {
    const keyId = text(parsed, O.apnsKeyId);
    const teamId = text(parsed, O.apnsTeamId);
    const topic = text(parsed, O.apnsTopic);
    if (!keyId || !teamId || !topic) {
      throw new OptionsError(`an APNs provider key needs --${O.apnsKeyId}, --${O.apnsTeamId} and --${O.apnsTopic}`);
    }
    const caFile = text(parsed, O.apnsCaFile);
    config.apns = {
      key,
      keyId,
      teamId,
      topic,
      baseUrl: text(parsed, O.apnsUrl) ?? APNS_PRODUCTION_URL,
      ca: caFile ? readCredential(O.apnsCaFile, caFile) : undefined,
    };
  }
  return config;
}
