import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["@acapy-bridge/source"] },
  ssr: { resolve: { conditions: ["@acapy-bridge/source"] } },
  test: {
    name: "credo-interop",
    include: ["src/**/*.test.ts"],
    testTimeout: 180_000,
    hookTimeout: 300_000,
    // Each file runs a whole deployment (PostgreSQL, relays, deliverer, ACA-Py mediators, a correspondent,
    // Credo wallets): one at a time, or Credo's own start-up timeouts fire on a loaded 2-core machine.
    fileParallelism: false,
  },
});
