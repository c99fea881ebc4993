import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["@acapy-bridge/source"] },
  ssr: { resolve: { conditions: ["@acapy-bridge/source"] } },
  test: { name: "admin-requests", include: ["src/**/*.test.ts"], testTimeout: 30_000 },
});
