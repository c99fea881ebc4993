import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

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

it("exits with 2 and names the option when a part's options contradict each other, without waiting for Redis", async () => {
  // Nothing listens on port 1: before the fix the process waited for Redis, then stayed up after the error.
  const { code, stderr } = await run(
    ["deliverer", "--redis-url", "redis://127.0.0.1:1", "--delivery-recipient-buffer", "5000"],
    15_000,
  );
  expect(code).toBe(2);
  expect(stderr).toContain("--delivery-recipient-buffer");
});
