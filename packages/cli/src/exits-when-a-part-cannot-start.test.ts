import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { uniquePrefix } from "@acapy-bridge/test-harness";
import { expect, inject, it } from "vitest";

const cli = fileURLToPath(new URL("../bin/acapy-bridge.js", import.meta.url));

/** Runs the built CLI; resolves with its exit code and stderr, or rejects after `limitMs`. */
function run(args: string[], limitMs: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`still running after ${limitMs} ms; stderr: ${stderr}`));
    }, limitMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

it("exits with 1 and says why when a part cannot start (its HTTP port is taken), instead of staying up", async () => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
  const port = (taken.address() as { port: number }).port;
  try {
    // Before the fix the error was printed, then the Redis client and signal handlers kept the process up.
    const { code, stderr } = await run(
      [
        "relay",
        "--redis-url",
        inject("redisUrl"),
        "--prefix",
        uniquePrefix("cli-start-fails"),
        "--http-host",
        "127.0.0.1",
        "--http-port",
        String(port),
        "--ops-port",
        "0",
        "--grpc-port",
        "0",
      ],
      15_000,
    );
    expect(code).toBe(1);
    expect(stderr).toContain("EADDRINUSE");
  } finally {
    taken.close();
  }
});
