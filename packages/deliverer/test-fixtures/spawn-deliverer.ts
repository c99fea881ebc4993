// Deliverers in processes of their own (test-fixtures/deliverer-process.ts), for kill -9 tests.
import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const fixture = join(here, "deliverer-process.ts");
const repoRoot = resolve(here, "../../..");

/** Starts a deliverer process (env: see deliverer-process.ts); resolves once it is ready. */
export async function spawnDeliverer(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--conditions=@acapy-bridge/source", "--import", "tsx", fixture], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  await new Promise<void>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`deliverer not ready:\n${output}`)), 30_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('"process.ready"')) {
        clearTimeout(timer);
        resolveReady();
      }
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("exit", (code) => reject(new Error(`deliverer exited ${code}:\n${output}`)));
  });
  return child;
}

/** Resolves once the process has exited. */
export function killed(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once("exit", () => r()));
}

/** `kill -9` of every process still running, for a test's afterAll. */
export async function killAll(children: readonly ChildProcess[]): Promise<void> {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await killed(child);
    }
  }
}
