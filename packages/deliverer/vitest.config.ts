import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["@acapy-bridge/source"] },
  ssr: { resolve: { conditions: ["@acapy-bridge/source"] } },
  test: { name: "deliverer", include: ["src/**/*.test.ts"], testTimeout: 120_000, hookTimeout: 120_000 },
});
