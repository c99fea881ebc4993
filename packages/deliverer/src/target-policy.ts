import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { BlockList, isIP } from "node:net";

/**
 * Which addresses the deliverer may connect to for an agent's endpoint. Remote agents choose
 * their endpoints, so without this they choose our targets too (SSRF): the deliverer's own ops
 * port, Redis, the cloud's metadata service, anything on the private network. Refused by
 * default: every range that is not a public unicast address; an operator allows ranges back
 * with `--outbound-allow-cidrs`.
 *
 * The verdict is on the address actually connected to: an IP literal is checked before the
 * attempt (the URL parser has already turned `2130706433`, `0x7f000001`, `127.1` and
 * `0177.0.0.1` into `127.0.0.1`), a host name at connect time through `lookup`, so a name that
 * resolves to loopback, or rebinds to it after a first check, is refused as well.
 */
export type TargetCategory =
  | "loopback"
  | "unspecified"
  | "link_local"
  | "private"
  | "shared"
  | "multicast"
  | "broadcast"
  | "reserved";

export type TargetVerdict = { allowed: true } | { allowed: false; category: TargetCategory };

type Family = "ipv4" | "ipv6";

/** Most specific first: the first match names the category. */
const REFUSED_RANGES: readonly [TargetCategory, Family, string, number][] = [
  ["broadcast", "ipv4", "255.255.255.255", 32],
  ["unspecified", "ipv4", "0.0.0.0", 8],
  ["loopback", "ipv4", "127.0.0.0", 8],
  ["private", "ipv4", "10.0.0.0", 8],
  ["private", "ipv4", "172.16.0.0", 12],
  ["private", "ipv4", "192.168.0.0", 16],
  ["shared", "ipv4", "100.64.0.0", 10],
  ["link_local", "ipv4", "169.254.0.0", 16],
  ["multicast", "ipv4", "224.0.0.0", 4],
  ["reserved", "ipv4", "240.0.0.0", 4],
  ["reserved", "ipv4", "192.0.0.0", 24],
  ["reserved", "ipv4", "192.0.2.0", 24],
  ["reserved", "ipv4", "192.88.99.0", 24],
  ["reserved", "ipv4", "198.18.0.0", 15],
  ["reserved", "ipv4", "198.51.100.0", 24],
  ["reserved", "ipv4", "203.0.113.0", 24],
  ["unspecified", "ipv6", "::", 128],
  ["loopback", "ipv6", "::1", 128],
  ["link_local", "ipv6", "fe80::", 10],
  ["private", "ipv6", "fc00::", 7],
  ["private", "ipv6", "fec0::", 10],
  ["multicast", "ipv6", "ff00::", 8],
  ["reserved", "ipv6", "100::", 64],
  ["reserved", "ipv6", "2001::", 32],
  ["reserved", "ipv6", "2001:db8::", 32],
  ["reserved", "ipv6", "64:ff9b:1::", 48],
];

const CATEGORY_LISTS: readonly [TargetCategory, BlockList][] = (() => {
  const lists = new Map<TargetCategory, BlockList>();
  for (const [category, family, network, prefix] of REFUSED_RANGES) {
    const list = lists.get(category) ?? new BlockList();
    list.addSubnet(network, prefix, family);
    lists.set(category, list);
  }
  return [...lists];
})();

/** The 16 bytes of an IPv6 address in text form (zone id dropped), or undefined. */
function ipv6Bytes(text: string): Uint8Array | undefined {
  const address = text.split("%")[0] as string;
  if (isIP(address) !== 6) return undefined;
  const [head, tail] = address.includes("::") ? (address.split("::") as [string, string]) : [address, undefined];
  const groups = (part: string | undefined): number[] => {
    if (!part) return [];
    const out: number[] = [];
    for (const piece of part.split(":")) {
      if (piece.includes(".")) {
        const [a, b, c, d] = piece.split(".").map(Number) as [number, number, number, number];
        out.push((a << 8) | b, (c << 8) | d);
      } else out.push(Number.parseInt(piece, 16));
    }
    return out;
  };
  const front = groups(head);
  const back = groups(tail);
  const all = tail === undefined ? front : [...front, ...new Array(8 - front.length - back.length).fill(0), ...back];
  const bytes = new Uint8Array(16);
  all.forEach((group, i) => {
    bytes[2 * i] = group >> 8;
    bytes[2 * i + 1] = group & 0xff;
  });
  return bytes;
}

function dotted(bytes: Uint8Array, at: number): string {
  return `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}`;
}

function allZero(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return false;
  return true;
}

/**
 * The IPv4 address an IPv6 address carries and that a connection to it may reach: IPv4-mapped
 * (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:AABB:CCDD::).
 */
function embeddedIpv4(bytes: Uint8Array): string | undefined {
  if (allZero(bytes, 0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) return dotted(bytes, 12);
  if (allZero(bytes, 0, 12) && !allZero(bytes, 12, 15)) return dotted(bytes, 12); // not :: nor ::1
  if (bytes[0] === 0 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && allZero(bytes, 4, 12)) {
    return dotted(bytes, 12);
  }
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return dotted(bytes, 2);
  return undefined;
}

/** Why `cidr` is not a CIDR (`10.1.0.0/16`, `::1/128`, or a bare address), or undefined. */
export function cidrProblem(cidr: string): string | undefined {
  const [address, prefixText, extra] = cidr.trim().split("/");
  const family = isIP(address ?? "");
  if (family === 0 || extra !== undefined) return `"${cidr}" is not a CIDR such as 10.1.0.0/16 or ::1/128`;
  if (prefixText === undefined) return undefined;
  const prefix = Number(prefixText);
  const max = family === 4 ? 32 : 128;
  if (!/^\d+$/.test(prefixText) || prefix > max) return `"${cidr}": the prefix length must be 0..${max}`;
  return undefined;
}

export class TargetRefusedError extends Error {
  override name = "TargetRefusedError";
  readonly code = "ETARGETREFUSED";
  constructor(
    readonly target: string,
    readonly address: string,
    readonly category: TargetCategory,
  ) {
    super(
      `target ${target === address ? "address" : `${target} resolved to`} ${address} is not allowed (${category}); allow it with --outbound-allow-cidrs`,
    );
  }
}

type LookupCallback = (error: Error | null, address: string | LookupAddress[], family?: number) => void;

/** The `lookup` of `net.connect` (undici's connector and `ws` pass it on). */
export type FilteringLookup = (hostname: string, options: { all?: boolean }, callback: LookupCallback) => void;

/** Every address of a name, as `dns.lookup(name, { all: true })` gives them. */
export type Resolver = (
  hostname: string,
  options: { all: true },
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

export class TargetPolicy {
  private constructor(
    private readonly allowed: BlockList,
    private readonly resolve: Resolver,
  ) {}

  /**
   * Refuses every non-public address except those in `allowCidrs`; throws on an invalid CIDR.
   * `resolve` is the system resolver but in unit tests.
   */
  static allowing(allowCidrs: readonly string[], resolve: Resolver = dnsLookup): TargetPolicy {
    const allowed = new BlockList();
    for (const cidr of allowCidrs) {
      const problem = cidrProblem(cidr);
      if (problem) throw new Error(`--outbound-allow-cidrs: ${problem}`);
      const [address, prefix] = cidr.trim().split("/") as [string, string | undefined];
      const family = isIP(address) === 4 ? "ipv4" : "ipv6";
      allowed.addSubnet(address, prefix === undefined ? (family === "ipv4" ? 32 : 128) : Number(prefix), family);
    }
    return new TargetPolicy(allowed, resolve);
  }

  /** The verdict on an IP address; undefined when `address` is not one (a host name). */
  verdict(address: string): TargetVerdict | undefined {
    const literal = address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address;
    const family = isIP(literal.split("%")[0] as string);
    if (family === 0) return undefined;
    const candidates: [string, Family][] = [];
    if (family === 4) candidates.push([literal, "ipv4"]);
    else {
      const bytes = ipv6Bytes(literal) as Uint8Array;
      candidates.push([literal.split("%")[0] as string, "ipv6"]);
      const carried = embeddedIpv4(bytes);
      if (carried) candidates.push([carried, "ipv4"]);
    }
    if (candidates.some(([a, f]) => this.allowed.check(a, f))) return { allowed: true };
    for (const [a, f] of candidates) {
      for (const [category, list] of CATEGORY_LISTS) if (list.check(a, f)) return { allowed: false, category };
    }
    return { allowed: true };
  }

  /** The refusal of a URL's host when it is an IP literal (a host name is checked at connect time). */
  refusalOfHost(hostname: string): TargetRefusedError | undefined {
    const verdict = this.verdict(hostname);
    if (!verdict || verdict.allowed) return undefined;
    const address = hostname.replace(/^\[|\]$/g, "");
    return new TargetRefusedError(address, address, verdict.category);
  }

  /**
   * DNS resolution that keeps only allowed addresses, for `net.connect`'s `lookup`: the
   * connection goes to an address checked here, whatever the name resolves to later.
   */
  readonly lookup: FilteringLookup = (hostname, options, callback) => {
    this.resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) {
        callback(error, options.all ? [] : "");
        return;
      }
      let refusal: TargetRefusedError | undefined;
      const kept: LookupAddress[] = [];
      for (const candidate of addresses) {
        const verdict = this.verdict(candidate.address);
        if (!verdict || verdict.allowed) kept.push(candidate);
        else refusal ??= new TargetRefusedError(hostname, candidate.address, verdict.category);
      }
      const first = kept[0];
      if (!first) {
        callback(refusal ?? Object.assign(new Error(`${hostname} resolved to no address`), { code: "ENOTFOUND" }), "");
      } else if (options.all) callback(null, kept);
      else callback(null, first.address, first.family);
    });
  };
}
