import { describe, expect, it } from "vitest";
import { ClientRateLimiter } from "./client-rate-limiter.js";

describe("ClientRateLimiter", () => {
  it("lets a client through up to its burst, then at its rate, with the seconds to wait when refused", () => {
    let now = 0;
    const limiter = new ClientRateLimiter({ perSecond: 2, burst: 3, maxTrackedClients: 10 }, () => now);
    for (let i = 0; i < 3; i++) expect(limiter.take("a").allowed).toBe(true);
    expect(limiter.take("a")).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(limiter.take("b").allowed).toBe(true);
    now += 500;
    expect(limiter.take("a").allowed).toBe(true);
    expect(limiter.take("a").allowed).toBe(false);
  });

  it("remembers at most maxTrackedClients, forgetting the least recently seen first", () => {
    let now = 0;
    const limiter = new ClientRateLimiter({ perSecond: 1, burst: 1, maxTrackedClients: 100 }, () => now);
    expect(limiter.take("kept").allowed).toBe(true);
    for (let i = 0; i < 10_000; i++) {
      limiter.take(`flood-${i}`);
      if (i % 50 === 0) expect(limiter.take("kept").allowed).toBe(false); // seen again: stays tracked, still empty
      now += 0.001;
    }
    expect(limiter.trackedClients).toBe(100);
  });

  it("limits nothing at a rate of 0", () => {
    const limiter = new ClientRateLimiter({ perSecond: 0, burst: 1, maxTrackedClients: 1 });
    for (let i = 0; i < 100; i++) expect(limiter.take("a").allowed).toBe(true);
    expect(limiter.trackedClients).toBe(0);
  });
});
