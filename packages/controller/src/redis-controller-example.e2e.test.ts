import { spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { exited, trackChild } from "@acapy-bridge/test-harness";
import { describe, expect, it } from "vitest";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const example = join(repoRoot, "examples/redis-controller/run.ts");

// Issue 15, "Done when" 4 (first half) and "What to build" 3: the example, run as an operator runs
// it (the built CLI, real Redis, real ACA-Py with the shim, a plain ACA-Py), reaches ACA-Py only
// through Redis for events: two controller instances complete a connection and answer each message.
describe("examples/redis-controller", () => {
  it("creates an invitation, completes the connection with a plain ACA-Py and answers every basic message, with two controller instances sharing the events", async () => {
    const child = trackChild(
      spawn(process.execPath, ["--conditions=@acapy-bridge/source", "--import", "tsx", example, "--messages", "4"], {
        cwd: repoRoot,
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      }),
    );
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    await exited(child);
    expect(child.exitCode, output).toBe(0);
    expect(output).toMatch(/connection \S+ is active/);
    const summary = JSON.parse(output.match(/^summary: (.*)$/m)?.[1] ?? "{}");
    expect(summary).toEqual({ messages: 4, answered: 4, replies: 4, instances: 2, ok: true });
    for (let i = 0; i < 4; i++) expect(output).toContain(`you said: hello ${i}`);
  }, 240_000);
});
