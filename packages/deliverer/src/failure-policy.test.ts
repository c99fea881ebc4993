import { DeadLetterReason } from "@acapy-bridge/protocol";
import { fuzzSeed, seededRandom } from "@acapy-bridge/test-harness";
import { describe, expect, it } from "vitest";
import {
  checkEndpoint,
  classifyError,
  classifyStatus,
  parseRetryAfter,
  retryDelayMs,
  unsendable,
} from "./failure-policy.js";

describe("failure policy", () => {
  it("treats 2xx as delivered, retries 408/425/429/5xx and rejects other statuses", () => {
    for (const status of [200, 201, 202, 204]) expect(classifyStatus(status).ok).toBe(true);
    for (const status of [408, 425, 429, 500, 502, 503, 504]) {
      const outcome = classifyStatus(status);
      expect(outcome.ok === false && outcome.retryable).toBe(true);
    }
    for (const status of [301, 302, 400, 401, 403, 404, 410, 413, 422]) {
      const outcome = classifyStatus(status);
      expect(outcome.ok === false && !outcome.retryable && outcome.reason === DeadLetterReason.REJECTED).toBe(true);
    }
  });

  it("honours Retry-After in seconds and as an HTTP date", () => {
    expect(parseRetryAfter("7")).toBe(7000);
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("soon")).toBeUndefined();
    const outcome = classifyStatus(429, "3");
    expect(outcome.ok === false && outcome.retryAfterMs).toBe(3000);
    expect(retryDelayMs({ baseMs: 1000, capMs: 60_000, maxRetryAfterMs: 2000 }, 1, 3000)).toBe(2000);
  });

  it("retries network errors and timeouts", () => {
    const outcome = classifyError(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }));
    expect(outcome.ok === false && outcome.retryable).toBe(true);
    expect(outcome.ok === false && outcome.detail).toContain("ECONNREFUSED");
  });

  it("does not retry a request the HTTP client refuses to build, nor one a transport threw on", () => {
    for (const code of ["UND_ERR_INVALID_ARG", "UND_ERR_NOT_SUPPORTED"]) {
      const outcome = classifyError(Object.assign(new Error("invalid x-bad header"), { code }));
      expect(outcome).toMatchObject({ ok: false, retryable: false, reason: DeadLetterReason.MALFORMED });
      expect(outcome.ok === false && outcome.detail).toContain(code);
    }
    const thrown = unsendable(new TypeError("cannot build"));
    expect(thrown).toMatchObject({ ok: false, retryable: false, reason: DeadLetterReason.MALFORMED });
    expect(thrown.ok === false && thrown.detail).toContain("TypeError: cannot build");
  });

  it("dead-letters a WebSocket URL with a fragment, which the WebSocket client refuses", () => {
    for (const endpoint of ["ws://127.0.0.1:1/p#x", "wss://agent.example/ws#frag"]) {
      expect(checkEndpoint(endpoint)).toMatchObject({ ok: false, reason: DeadLetterReason.INVALID_ENDPOINT });
    }
    // An empty fragment is dropped by URL parsing and opens fine; HTTP ignores fragments.
    expect(checkEndpoint("ws://agent.example/ws#")).toMatchObject({ ok: true, kind: "ws" });
    expect(checkEndpoint("https://agent.example/p#x")).toMatchObject({ ok: true, kind: "http" });
  });

  it("dead-letters invalid endpoints and unsupported schemes", () => {
    expect(checkEndpoint("not a url")).toMatchObject({ ok: false, reason: DeadLetterReason.INVALID_ENDPOINT });
    expect(checkEndpoint("ftp://example.org/x")).toMatchObject({
      ok: false,
      reason: DeadLetterReason.UNSUPPORTED_SCHEME,
    });
    expect(checkEndpoint("didcomm:transport/queue")).toMatchObject({
      ok: false,
      reason: DeadLetterReason.UNSUPPORTED_SCHEME,
    });
    expect(checkEndpoint("https://agent.example/")).toMatchObject({ ok: true, kind: "http" });
    expect(checkEndpoint("wss://agent.example/ws")).toMatchObject({ ok: true, kind: "ws" });
  });

  const seed = fuzzSeed();
  it(`backs off with full jitter: random(0, min(cap, base * 2^(n-1))) (FUZZ_SEED=${seed})`, () => {
    const policy = { baseMs: 100, capMs: 1000, maxRetryAfterMs: 1000 };
    expect(retryDelayMs(policy, 1, undefined, () => 0.999)).toBe(99);
    expect(retryDelayMs(policy, 3, undefined, () => 0.999)).toBe(399);
    expect(retryDelayMs(policy, 10, undefined, () => 0.999)).toBe(999);
    expect(retryDelayMs(policy, 10, undefined, () => 0)).toBe(0);
    const random = seededRandom(seed);
    for (let n = 1; n < 20; n++) {
      const d = retryDelayMs(policy, n, undefined, random);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(Math.min(1000, 100 * 2 ** (n - 1)));
    }
  });
});
