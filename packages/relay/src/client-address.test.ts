import { describe, expect, it } from "vitest";
import { clientKey } from "./client-address.js";

describe("clientKey", () => {
  it("counts an IPv4 address as itself, an IPv4-mapped IPv6 address as its IPv4", () => {
    expect(clientKey("203.0.113.7")).toBe("203.0.113.7");
    expect(clientKey("::ffff:203.0.113.7")).toBe("203.0.113.7");
    expect(clientKey("::FFFF:127.0.0.2")).toBe("127.0.0.2");
  });

  it("counts every address of one IPv6 /64 as one client, whatever its spelling", () => {
    const a = clientKey("2001:db8:1:2::1");
    expect(a).toBe("2001:db8:1:2::/64");
    expect(clientKey("2001:0db8:0001:0002:ffff:ffff:ffff:fffe")).toBe(a);
    expect(clientKey("2001:db8:1:2:0:0:0:9%eth0")).toBe(a);
    expect(clientKey("2001:db8:1:3::1")).not.toBe(a);
    expect(clientKey("::1")).toBe("0:0:0:0::/64");
  });
});
