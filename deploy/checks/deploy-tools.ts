import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** The checkers of deploy/ and where scripts/setup.sh puts them (`.tools/` is the repository's ignored tool folder). */
const TOOL_PLACES: Record<string, string[]> = {
  yamllint: [".tools/venv/bin/yamllint"],
  hadolint: [".tools/venv/bin/hadolint"],
  helm: [".tools/bin/helm"],
  promtool: [".tools/bin/promtool", "/usr/bin/promtool"],
  "systemd-analyze": ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"],
};

/** The path of a checker; a missing one fails the test that needs it, saying how to install it. */
export function toolPath(name: keyof typeof TOOL_PLACES): string {
  const places = TOOL_PLACES[name] ?? [];
  const found = places.map((p) => (p.startsWith("/") ? p : join(repoRoot, p))).find((p) => existsSync(p));
  if (!found) throw new Error(`${name} not found (looked in ${places.join(", ")}): run \`bash scripts/setup.sh\``);
  return found;
}

export interface ToolRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a checker from the repository root; `output` below joins what it said for a failure message. */
export function runTool(name: keyof typeof TOOL_PLACES, args: string[], options: { cwd?: string } = {}): ToolRun {
  const run = spawnSync(toolPath(name), args, {
    cwd: options.cwd ?? repoRoot,
    encoding: "utf8",
    maxBuffer: 32 * 1024 * 1024,
  });
  if (run.error) throw new Error(`${name} ${args.join(" ")}: ${run.error.message}`);
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

export function output(run: ToolRun): string {
  return `${run.stdout}${run.stderr}`.trim();
}
