import { isIP } from "node:net";

/** True for an address only this machine can reach: `localhost`, 127.0.0.0/8, `::1`. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (bare === "localhost") return true;
  if (isIP(bare) === 4) return bare.startsWith("127.");
  if (isIP(bare) === 6) return bare === "::1" || /^::ffff:127\./.test(bare);
  return false;
}

/**
 * Why the control API must not listen on `host` as configured, or undefined
 * when it may: beyond loopback, anyone who reaches the port could list and drop
 * dead letters, so a bearer token is required there.
 */
export function controlBindProblem(host: string, token: string | undefined): string | undefined {
  if (isLoopbackHost(host) || (token !== undefined && token !== "")) return undefined;
  return `the control API would listen on ${host}, beyond loopback, without a token: set --control-token (ACAPY_BRIDGE_CONTROL_TOKEN) or keep --grpc-host on 127.0.0.1`;
}
