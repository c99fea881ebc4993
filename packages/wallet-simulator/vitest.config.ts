import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["@acapy-bridge/source"] },
  ssr: { resolve: { conditions: ["@acapy-bridge/source"] } },
  test: {
    name: "wallet-simulator",
    include: ["src/**/*.test.ts"],
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
