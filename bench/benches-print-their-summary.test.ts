import { describe, expect, it } from "vitest";
import { benchNames, runBench } from "./bench-process.js";
import { SHORT_MODES } from "./short-modes.js";

describe("every bench, in its short mode, from the repo as cloned", () => {
  it("has a short mode", () => {
    expect(benchNames().filter((name) => !SHORT_MODES[name])).toEqual([]);
  });

  for (const name of benchNames()) {
    it(`${name}: runs to the end and prints its JSON summary as its last line`, async () => {
      const run = await runBench(name, SHORT_MODES[name] ?? [], { timeoutMs: 240_000 });
      expect(run.summary.bench).toBe(name);
    }, 260_000);
  }
});
