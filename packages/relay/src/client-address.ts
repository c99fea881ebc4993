import { isIPv4, isIPv6 } from "node:net";

/** IPv6 hextets that make one client: a /64 is what one subscriber line or host usually gets. */
const IPV6_CLIENT_HEXTETS = 4;

function expandIPv6(address: string): string[] {
  const [head = "", tail] = address.split("::", 2) as [string, string | undefined];
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const missing = tail === undefined ? 0 : 8 - left.length - right.length;
  return [...left, ...Array.from({ length: missing }, () => "0"), ...right];
}

/**
 * The key per-client limits count by: an IPv4 address (an IPv4-mapped IPv6 address counts as its
 * IPv4), or the /64 of an IPv6 address, since one host can pick any of the 2^64 addresses of its
 * network and would otherwise get a fresh allowance for each.
 */
export function clientKey(remoteAddress: string): string {
  const mapped = remoteAddress.toLowerCase().match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/);
  if (mapped) return mapped[1] as string;
  if (isIPv4(remoteAddress) || !isIPv6(remoteAddress)) return remoteAddress;
  const withoutZone = remoteAddress.split("%", 1)[0] as string;
  return `${expandIPv6(withoutZone.toLowerCase())
    .slice(0, IPV6_CLIENT_HEXTETS)
    .map((h) => h.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}
