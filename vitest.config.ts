import { defineConfig } from "vitest/config";

// Every package is its own vitest project, and so are the repo's scripts and benches (their tests
// sit beside them); the harness starts one real redis-server (and a 3-master cluster) for the whole run.
export default defineConfig({
  test: {
    projects: [
      "packages/*",
      "deploy",
      "interop/credo",
      { test: { name: "scripts", include: ["scripts/**/*.test.ts"] } },
      // Benches start their own Redis and processes, several cores' worth: one at a time, after
      // every other project has finished, so that they neither slow nor are slowed by the rest.
      {
        test: { name: "bench", include: ["bench/**/*.test.ts"], fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
    globalSetup: ["packages/test-harness/src/global-setup.ts"],
    reporters: ["default", "json"],
    outputFile: { json: ".test-results/vitest.json" },
  },
});
