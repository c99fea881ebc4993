import { afterEach, describe, expect, it } from "vitest";
import { fuzzSeed, seededRandom } from "./seeded-random.js";

describe("seeded randomness for fuzz tests", () => {
  const saved = process.env.FUZZ_SEED;
  afterEach(() => {
    if (saved === undefined) delete process.env.FUZZ_SEED;
    else process.env.FUZZ_SEED = saved;
  });

  it("gives the same sequence for the same seed and another for another seed", () => {
    const draw = (seed: number) => Array.from({ length: 8 }, seededRandom(seed));
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
  });

  it("draws floats in [0, 1) spread over the whole range", () => {
    const random = seededRandom(7);
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 10_000; i++) {
      const x = random();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      buckets[Math.floor(x * 10)] = (buckets[Math.floor(x * 10)] ?? 0) + 1;
    }
    for (const count of buckets) expect(count).toBeGreaterThan(800);
  });

  it("takes the seed from FUZZ_SEED to replay a failure, and refuses a malformed one", () => {
    process.env.FUZZ_SEED = "123456";
    expect(fuzzSeed()).toBe(123456);
    process.env.FUZZ_SEED = "abc";
    expect(() => fuzzSeed()).toThrow(/FUZZ_SEED must be an integer/);
    delete process.env.FUZZ_SEED;
    expect(Number.isInteger(fuzzSeed())).toBe(true);
  });
});
