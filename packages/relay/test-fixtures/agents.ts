// ACA-Py agents for the relay's end-to-end tests.
import { AcaPyProcess, freePort } from "@acapy-bridge/test-harness";

/** Alice: ACA-Py behind the relay (inbound through Redis), ACA-Py's own http for outbound and webhooks. */
export function bridgedAgent(options: {
  label: string;
  redisUrl: string;
  prefix: string;
  relayUrl: string;
  webhookUrl: string;
  inboundPartitions?: number;
  extraShimSettings?: string[];
  extraArgs?: string[];
  walletName?: string;
  walletArgs?: string[];
  env?: Record<string, string>;
  adminApiKey?: string;
}): Promise<AcaPyProcess> {
  return AcaPyProcess.start({
    label: options.label,
    walletName: options.walletName,
    walletArgs: options.walletArgs,
    env: options.env,
    adminApiKey: options.adminApiKey,
    args: [
      "--plugin",
      "acapy_bridge_shim",
      "-o",
      `acapy_bridge_shim.redis_url=${options.redisUrl}`,
      `acapy_bridge_shim.prefix=${options.prefix}`,
      `acapy_bridge_shim.partitions.inbound=${options.inboundPartitions ?? 16}`,
      ...(options.extraShimSettings ?? []),
      "-it",
      "acapy_bridge_shim.inbound",
      "127.0.0.1",
      "0",
      "-ot",
      "http",
      "-e",
      options.relayUrl,
      "--auto-accept-invites",
      "--auto-accept-requests",
      "--monitor-ping",
      "--webhook-url",
      options.webhookUrl,
      ...(options.extraArgs ?? []),
    ],
  });
}

/** Bob: a plain ACA-Py over HTTP. */
export async function plainAgent(label: string, webhookUrl: string): Promise<AcaPyProcess> {
  const port = await freePort();
  return AcaPyProcess.start({
    label,
    args: [
      "-it",
      "http",
      "127.0.0.1",
      String(port),
      "-ot",
      "http",
      "-e",
      `http://127.0.0.1:${port}`,
      "--auto-accept-invites",
      "--auto-accept-requests",
      "--monitor-ping",
      "--webhook-url",
      webhookUrl,
    ],
  });
}
