// Runs one benchmark as its own process (`npm run bench -- <name>` without npm), as a user would,
// and returns its summary: the JSON object every bench prints as its last line. The smoke test and
// the report both go through here, so what the report shows is what a user's run prints.
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const benchDir = dirname(fileURLToPath(import.meta.url));
export const repoRoot = dirname(benchDir);

export type BenchSummary = { bench: string } & Record<string, unknown>;

export interface BenchRun {
  summary: BenchSummary;
  /** Every line the bench printed, the summary included. */
  lines: string[];
  elapsedMs: number;
}

/** The benches `npm run bench -- <name>` accepts: bench/<name>.bench.ts. */
export function benchNames(): string[] {
  return readdirSync(benchDir)
    .filter((f) => f.endsWith(".bench.ts"))
    .map((f) => f.replace(/\.bench\.ts$/, ""))
    .sort();
}

export class BenchFailed extends Error {
  constructor(
    readonly bench: string,
    reason: string,
    readonly output: string[],
  ) {
    super(`bench ${bench}: ${reason}\n--- last output ---\n${output.slice(-30).join("\n")}`);
  }
}

/** The last line that parses as a JSON object naming this bench. */
export function summaryOf(name: string, lines: string[]): BenchSummary | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = (lines[i] as string).trim();
    if (!line) continue;
    if (!line.startsWith("{")) return undefined;
    try {
      const parsed = JSON.parse(line) as BenchSummary;
      return parsed.bench === name ? parsed : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export function runBench(
  name: string,
  args: string[],
  options: { timeoutMs: number; onLine?: (line: string) => void; env?: NodeJS.ProcessEnv },
): Promise<BenchRun> {
  const startedAt = Date.now();
  const child = spawn(
    process.execPath,
    ["--conditions=@acapy-bridge/source", "--import", "tsx", join(benchDir, "run.ts"), name, ...args],
    { cwd: repoRoot, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  const lines: string[] = [];
  const collect = (stream: NodeJS.ReadableStream) => {
    let partial = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      const parts = (partial + chunk).split("\n");
      partial = parts.pop() ?? "";
      for (const line of parts) {
        lines.push(line);
        options.onLine?.(line);
      }
    });
    stream.on("end", () => {
      if (partial) {
        lines.push(partial);
        options.onLine?.(partial);
      }
    });
  };
  collect(child.stdout);
  collect(child.stderr);
  return new Promise((resolve, reject) => {
    // The bench starts its own Redis, relays and ACA-Py agents: on a timeout the whole group goes.
    const timer = setTimeout(() => {
      try {
        process.kill(-(child.pid as number), "SIGKILL");
      } catch {
        // already gone
      }
      reject(new BenchFailed(name, `no result within ${options.timeoutMs} ms`, lines));
    }, options.timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(new BenchFailed(name, `could not start: ${error.message}`, lines));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new BenchFailed(name, `exited with ${signal ?? code}`, lines));
        return;
      }
      const summary = summaryOf(name, lines);
      if (!summary) {
        reject(new BenchFailed(name, "its last line is not its JSON summary", lines));
        return;
      }
      resolve({ summary, lines, elapsedMs: Date.now() - startedAt });
    });
  });
}
