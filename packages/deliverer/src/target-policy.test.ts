import type { LookupAddress } from "node:dns";
import { parseOptions } from "@acapy-bridge/operability";
import { describe, expect, it } from "vitest";
import { delivererConfigFromOptions, delivererOptionSpecs } from "./deliverer-options.js";
import { maskedEndpoint } from "./masked-endpoint.js";
import { cidrProblem, TargetPolicy, TargetRefusedError } from "./target-policy.js";

// Issue 18: remote agents choose their endpoints; the deliverer must not connect to internal
// addresses for them. Pure verdicts: no connection is attempted anywhere in this file.
const defaults = TargetPolicy.allowing([]);

function categoryOf(policy: TargetPolicy, address: string): string {
  const verdict = policy.verdict(address);
  if (!verdict) return "not an address";
  return verdict.allowed ? "allowed" : verdict.category;
}

describe("outbound target policy", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["::1", "loopback"],
    ["[::1]", "loopback"],
    ["0:0:0:0:0:0:0:1", "loopback"],
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "unspecified"],
    ["::", "unspecified"],
    ["169.254.169.254", "link_local"],
    ["fe80::1", "link_local"],
    ["fe80::1%eth0", "link_local"],
    ["febf::1", "link_local"],
    ["10.0.0.1", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["fc00::1", "private"],
    ["fd12:3456::1", "private"],
    ["100.64.0.1", "shared"],
    ["100.127.255.255", "shared"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["ff02::1", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["240.0.0.1", "reserved"],
    ["192.0.2.1", "reserved"],
    ["198.18.0.1", "reserved"],
    ["2001:db8::1", "reserved"],
    // IPv6 forms that carry an IPv4 address reach that address
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["[::ffff:7f00:1]", "loopback"],
    ["::127.0.0.1", "loopback"],
    ["::ffff:10.0.0.1", "private"],
    ["::ffff:169.254.169.254", "link_local"],
    ["::ffff:0.0.0.0", "unspecified"],
    ["64:ff9b::7f00:1", "loopback"],
    ["2002:7f00:1::", "loopback"],
    ["2002:a9fe:a9fe::1", "link_local"],
  ])("refuses %s (%s)", (address, category) => {
    expect(categoryOf(defaults, address)).toBe(category);
  });

  it.each([
    "8.8.8.8",
    "1.1.1.1",
    "172.32.0.1",
    "100.128.0.1",
    "192.169.0.1",
    "2606:4700:4700::1111",
    "::ffff:8.8.8.8",
    "2002:808:808::1",
  ])("allows the public address %s", (address) => {
    expect(categoryOf(defaults, address)).toBe("allowed");
  });

  it.each([
    ["2130706433", "loopback"],
    ["0x7f000001", "loopback"],
    ["127.1", "loopback"],
    ["0177.0.0.1", "loopback"],
    ["017700000001", "loopback"],
    ["0x7f.1", "loopback"],
    ["[::ffff:127.0.0.1]", "loopback"],
    ["[0:0:0:0:0:0:0:1]", "loopback"],
    ["0", "unspecified"],
    ["[::]", "unspecified"],
    ["3232235777", "private"],
    ["0xa9fea9fe", "link_local"],
  ])("refuses the literal host %s of an endpoint URL as every client reads it (%s)", (host, category) => {
    for (const scheme of ["http", "https", "ws", "wss"]) {
      const refusal = defaults.refusalOfHost(new URL(`${scheme}://${host}:8020/x`).hostname);
      expect(refusal?.category, `${scheme}://${host}`).toBe(category);
    }
  });

  it("leaves a host name to the lookup at connect time", () => {
    expect(defaults.verdict("localhost")).toBeUndefined();
    expect(defaults.refusalOfHost("agent.example.org")).toBeUndefined();
  });

  it("names the address, its category and the option in the refusal", () => {
    const refusal = defaults.refusalOfHost("127.0.0.1") as TargetRefusedError;
    expect(refusal.message).toBe(
      "target address 127.0.0.1 is not allowed (loopback); allow it with --outbound-allow-cidrs",
    );
    expect(refusal.code).toBe("ETARGETREFUSED");
  });

  it("allows what the operator's CIDRs cover, in every form of the address, and nothing more", () => {
    const policy = TargetPolicy.allowing(["127.0.0.0/8", "10.1.0.0/16", "fd00::/8", "169.254.169.254"]);
    expect(categoryOf(policy, "127.0.0.1")).toBe("allowed");
    expect(categoryOf(policy, "::ffff:127.0.0.1")).toBe("allowed");
    expect(categoryOf(policy, "::ffff:7f00:1")).toBe("allowed");
    expect(categoryOf(policy, "10.1.200.3")).toBe("allowed");
    expect(categoryOf(policy, "fd12::1")).toBe("allowed");
    expect(categoryOf(policy, "169.254.169.254")).toBe("allowed");
    expect(categoryOf(policy, "169.254.169.253")).toBe("link_local");
    expect(categoryOf(policy, "10.2.0.1")).toBe("private");
    expect(categoryOf(policy, "::1")).toBe("loopback");
    expect(categoryOf(policy, "fc00::1")).toBe("private");
  });

  it.each(["10.0.0.0/33", "::1/129", "localhost", "10.0.0.0/8/1", "10.0.0.0/x", "10.0.0.0/-1", "", "300.0.0.0/8"])(
    "refuses the allow-list entry %j at start",
    (cidr) => {
      expect(cidrProblem(cidr)).toBeDefined();
      expect(() => TargetPolicy.allowing([cidr])).toThrow(/--outbound-allow-cidrs/);
    },
  );

  it("reads --outbound-allow-cidrs and ACAPY_BRIDGE_OUTBOUND_ALLOW_CIDRS, and stops at an invalid CIDR naming the option", () => {
    expect(delivererConfigFromOptions(parseOptions(delivererOptionSpecs, [], {})).outboundAllowCidrs).toEqual([]);
    const fromFlag = parseOptions(delivererOptionSpecs, ["--outbound-allow-cidrs", "127.0.0.0/8,::1/128"], {});
    expect(delivererConfigFromOptions(fromFlag).outboundAllowCidrs).toEqual(["127.0.0.0/8", "::1/128"]);
    const fromEnv = parseOptions(delivererOptionSpecs, [], { ACAPY_BRIDGE_OUTBOUND_ALLOW_CIDRS: "10.1.0.0/16" });
    expect(delivererConfigFromOptions(fromEnv).outboundAllowCidrs).toEqual(["10.1.0.0/16"]);
    expect(() => parseOptions(delivererOptionSpecs, ["--outbound-allow-cidrs", "127.0.0.0/40"], {})).toThrow(
      /outbound-allow-cidrs/,
    );
  });

  it("filters what a host name resolves to: localhost is refused by default, allowed when listed", async () => {
    const lookup = (policy: TargetPolicy, all: boolean) =>
      new Promise<{ error: Error | null; address: string | LookupAddress[] }>((resolve) =>
        policy.lookup("localhost", { all }, (error, address) => resolve({ error, address })),
      );
    for (const all of [true, false]) {
      const refused = await lookup(defaults, all);
      expect(refused.error).toBeInstanceOf(TargetRefusedError);
      expect((refused.error as TargetRefusedError).category).toBe("loopback");
      expect(refused.error?.message).toMatch(
        /^target localhost resolved to (127\.0\.0\.1|::1) is not allowed \(loopback\)/,
      );
    }
    const allowing = TargetPolicy.allowing(["127.0.0.0/8", "::1/128"]);
    const many = await lookup(allowing, true);
    expect(many.error).toBeNull();
    expect((many.address as LookupAddress[]).length).toBeGreaterThan(0);
    const one = await lookup(allowing, false);
    expect(one.error).toBeNull();
    expect(["127.0.0.1", "::1"]).toContain(one.address);
  });

  it("connects a name with public and internal addresses to its public ones only, and refuses a rebinding to loopback", async () => {
    const answers: LookupAddress[][] = [
      [
        { address: "127.0.0.1", family: 4 },
        { address: "93.184.216.34", family: 4 },
        { address: "::ffff:10.0.0.5", family: 6 },
      ],
      [{ address: "127.0.0.1", family: 4 }],
    ];
    const rebinding = TargetPolicy.allowing([], (_name, _options, callback) => callback(null, answers.shift() ?? []));
    const lookup = (all: boolean) =>
      new Promise<{ error: Error | null; address: string | LookupAddress[] }>((resolve) =>
        rebinding.lookup("agent.example.org", { all }, (error, address) => resolve({ error, address })),
      );
    expect(await lookup(true)).toEqual({ error: null, address: [{ address: "93.184.216.34", family: 4 }] });
    const second = await lookup(false);
    expect(second.error?.message).toBe(
      "target agent.example.org resolved to 127.0.0.1 is not allowed (loopback); allow it with --outbound-allow-cidrs",
    );
  });

  it("masks credentials and secret-looking query values of an endpoint for the logs", () => {
    expect(maskedEndpoint("https://user:pw@agent.example.org/in?api_key=s3cret&x=1")).toBe(
      "https://***:***@agent.example.org/in?api_key=***&x=1",
    );
    expect(maskedEndpoint("http://127.0.0.1:9/")).toBe("http://127.0.0.1:9/");
  });
});
