// `npm run bench -- report [--short] [--sessions 1000,5000,15000] [--only e2e,relay]`
//
// Runs every bench, one after another so that none shares the machine with another, and writes
// docs/benchmarks.md with its charts in docs/benchmarks/. `--short` runs each bench in its short
// mode (a check that the report can be made, not figures to publish).
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { type BenchRun, benchNames, repoRoot, runBench } from "../bench-process.js";
import { SHORT_MODES } from "../short-modes.js";
import { machineFacts } from "./machine.js";
import { type ReportRun, renderReport } from "./report-markdown.js";

/** The arguments each bench runs with in the report; a bench not named here runs with its defaults. */
const REPORT_MODES: Record<string, string[]> = {
  e2e: [],
  deliverer: [],
  relay: [],
};
// Each session is a descriptor in the relay and one in the clients: 15,000 fits the 20,000 open
// files a process gets on the development machines (docs/benchmarks.md says what more needs).
const DEFAULT_SESSION_COUNTS = [1_000, 5_000, 15_000];

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

export async function main(args: string[]): Promise<void> {
  const short = args.includes("--short");
  const only = option(args, "only")?.split(",");
  const sessionCounts = (option(args, "sessions")?.split(",").map(Number) ?? DEFAULT_SESSION_COUNTS).filter(
    (n) => n > 0,
  );
  const outDir = resolve(repoRoot, option(args, "out") ?? "docs");

  const plan: Array<{ name: string; args: string[] }> = [];
  for (const name of benchNames()) {
    if (only && !only.includes(name)) continue;
    if (short) plan.push({ name, args: SHORT_MODES[name] ?? [] });
    else if (name === "sessions") {
      for (const count of sessionCounts) plan.push({ name, args: ["--sessions", String(count)] });
    } else plan.push({ name, args: REPORT_MODES[name] ?? [] });
  }

  const runs: Record<string, ReportRun[]> = {};
  const startedAt = Date.now();
  const loadBefore = loadavg()[0] as number;
  for (const [i, step] of plan.entries()) {
    const label = `[report ${i + 1}/${plan.length}] ${step.name}${step.args.length ? ` ${step.args.join(" ")}` : ""}`;
    console.log(`${label}: running`);
    const run: BenchRun = await runBench(step.name, step.args, {
      timeoutMs: 30 * 60_000,
      onLine: (line) => console.log(`  ${line}`),
    });
    console.log(`${label}: done in ${(run.elapsedMs / 1000).toFixed(0)} s`);
    runs[step.name] ??= [];
    runs[step.name]?.push({ args: step.args, summary: run.summary, elapsedMs: run.elapsedMs });
  }

  const files = renderReport({
    generatedAt: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    command: `npm run bench -- report${args.length ? ` ${args.join(" ")}` : ""}`,
    machine: machineFacts(),
    // Other work on the machine shows here: the reader can tell a quiet run from a busy one.
    loadAverage: { before: loadBefore, after: loadavg()[0] as number },
    runs,
  });
  const chartDir = join(outDir, "benchmarks");
  mkdirSync(chartDir, { recursive: true });
  // Charts of a bench that no longer exists must not linger beside the page.
  for (const file of readdirSync(chartDir)) if (file.endsWith(".svg")) rmSync(join(chartDir, file));
  for (const [file, svg] of Object.entries(files.charts)) writeFileSync(join(chartDir, file), svg);
  writeFileSync(join(outDir, "benchmarks.md"), files.markdown);
  console.log(
    `[report] wrote ${join(outDir, "benchmarks.md")} and ${Object.keys(files.charts).length} charts in ${((Date.now() - startedAt) / 60_000).toFixed(1)} min`,
  );
  console.log(JSON.stringify({ bench: "report", benches: plan.length, charts: Object.keys(files.charts).length }));
}
