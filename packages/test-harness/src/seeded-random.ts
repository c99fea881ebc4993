/**
 * Reproducible randomness for randomized (fuzz) tests. The seed is $FUZZ_SEED when set, so a failure
 * can be replayed exactly; otherwise a fresh one per run. Put the seed in the test's name (e.g.
 * `it(\`… (FUZZ_SEED=${seed})\`)`) so a failure report says how to replay it.
 */
export function fuzzSeed(): number {
  const fromEnv = process.env.FUZZ_SEED;
  if (fromEnv !== undefined && fromEnv !== "") {
    const seed = Number(fromEnv);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) {
      throw new Error(`FUZZ_SEED must be an integer in 0..4294967295, got ${JSON.stringify(fromEnv)}`);
    }
    return seed;
  }
  return Math.floor(Math.random() * 0x1_0000_0000);
}

/**
 * A small, fast generator of floats in [0, 1), the same sequence for the same 32-bit seed
 * (a 32-bit state advanced by a Weyl step and scrambled by two xorshift-multiply rounds).
 * Test data only: not for anything that must be unpredictable.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e37_79b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85eb_ca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2_ae35);
    z = (z ^ (z >>> 16)) >>> 0;
    return z / 0x1_0000_0000;
  };
}
