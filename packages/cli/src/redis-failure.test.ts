import { describe, expect, it } from "vitest";
import { describeRedisFailure } from "./redis-failure.js";

function errorWith(message: string, code?: string): Error & { code?: string } {
  return Object.assign(new Error(message), code ? { code } : {});
}

describe("describeRedisFailure", () => {
  it("names a wrong password, an untrusted certificate and a refused connection in the operator's terms", () => {
    const cases: [Error & { code?: string }, string, RegExp][] = [
      [errorWith("WRONGPASS invalid username-password pair or user is disabled."), "auth", /credentials/],
      [errorWith("NOAUTH Authentication required."), "auth", /credentials/],
      [errorWith("self-signed certificate in certificate chain", "SELF_SIGNED_CERT_IN_CHAIN"), "tls", /TLS/],
      [errorWith("unable to verify the first certificate", "UNABLE_TO_VERIFY_LEAF_SIGNATURE"), "tls", /TLS/],
      [errorWith("Hostname/IP does not match certificate's altnames", "ERR_TLS_CERT_ALTNAME_INVALID"), "tls", /TLS/],
      [errorWith("connect ECONNREFUSED 127.0.0.1:6390", "ECONNREFUSED"), "refused", /nothing accepts/],
      [errorWith("getaddrinfo ENOTFOUND redis.invalid", "ENOTFOUND"), "dns", /does not resolve/],
      [errorWith("Command timed out"), "timeout", /did not answer in time/],
      [errorWith("read ECONNRESET", "ECONNRESET"), "reset", /closed the connection/],
      [errorWith("something else"), "other", /failed/],
    ];
    for (const [error, kind, explanation] of cases) {
      const failure = describeRedisFailure(error);
      expect(failure.kind, error.message).toBe(kind);
      expect(failure.detail, error.message).toMatch(explanation);
      expect(failure.detail, error.message).toContain(error.message);
    }
  });
});
