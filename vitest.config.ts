import { defineConfig } from "vitest/config";

// Every package is its own vitest project, and so are the repo's scripts (their tests sit beside
// them in scripts/); the harness starts one real redis-server (and a 3-master cluster) for the whole run.
export default defineConfig({
  test: {
    projects: [
      "packages/*",
      "deploy",
      "interop/credo",
      { test: { name: "scripts", include: ["scripts/**/*.test.ts"] } },
    ],
    globalSetup: ["packages/test-harness/src/global-setup.ts"],
    reporters: ["default", "json"],
    outputFile: { json: ".test-results/vitest.json" },
  },
});
