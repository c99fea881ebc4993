import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["@acapy-bridge/source"] },
  ssr: { resolve: { conditions: ["@acapy-bridge/source"] } },
  // Assembling the image's runtime runs `npm ci` (about a minute on a busy machine).
  test: { name: "deploy", include: ["**/*.test.ts"], testTimeout: 240_000, hookTimeout: 240_000 },
});
