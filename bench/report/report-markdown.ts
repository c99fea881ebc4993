// docs/benchmarks.md and its charts, from the summaries of one report run. Pure: the same input
// gives the same files, so that a test can check the page without running a bench.
import type { BenchSummary } from "../bench-process.js";
import { CURVE_PERCENTILES } from "../figures.js";
import type { MachineFacts } from "./machine.js";
import { groupedBarChart, lineChart, stackedBarChart } from "./svg-charts.js";

export interface ReportRun {
  args: string[];
  summary: BenchSummary;
  elapsedMs: number;
}

export interface ReportInput {
  generatedAt: string;
  /** The command line the report was made with, for "reproduce". */
  command: string;
  machine: MachineFacts;
  /** The 1-minute load average when the run started and when it ended. */
  loadAverage: { before: number; after: number };
  /** Runs by bench name; `sessions` has one run per session count. */
  runs: Record<string, ReportRun[]>;
}

export interface ReportFiles {
  markdown: string;
  /** SVG file name (in docs/benchmarks/) -> content. */
  charts: Record<string, string>;
}

interface Section {
  markdown: string[];
  charts: Record<string, string>;
}

type Curve = Array<[number, number]>;

interface E2eSide {
  p50Ms: number;
  p99Ms: number;
  curve?: Curve;
  throughputPerSecond: number;
  aliceCpuMsPerMessage?: number;
  bobCpuMsPerMessage?: number;
  bridgeCpuMsPerMessage?: number;
  redisCpuMsPerMessage?: number;
  pairCpuMsPerMessage?: number;
  redisCallsPerMessage?: number;
  redisCommandsPerMessage?: Record<string, number>;
}

interface PushSide {
  residentMiB: number;
  bytesPerSession: number;
  push: { sent: number; received: number; p50Ms: number; p99Ms: number; maxMs: number; curve?: Curve };
}

interface Rate {
  perSecond: number;
  p50: number;
  p99: number;
  cpuMicrosPerDelivery?: { user: number; system: number };
}

const fixed = (value: number | undefined, digits = 2) => (value === undefined ? "–" : value.toFixed(digits));
const chartLink = (file: string, alt: string) => `![${alt}](benchmarks/${file})`;

/** x positions evenly spaced by percentile rank, so that the tail gets as much room as the body. */
function curvePoints(curve: Curve | undefined): Array<[number, number]> {
  return (curve ?? []).map(([p, ms]) => [CURVE_PERCENTILES.indexOf(p), ms]);
}
const percentileLabel = (position: number) => `p${CURVE_PERCENTILES[position] ?? "?"}`;

function commandOf(name: string, run: ReportRun): string {
  return `npm run bench -- ${name}${run.args.length ? ` ${run.args.join(" ")}` : ""}`;
}

function summaryBlock(name: string, runs: ReportRun[]): string[] {
  return [
    "<details><summary>Command and JSON summary (the bench's last line)</summary>",
    "",
    ...runs.flatMap((run) => [
      "```",
      `$ ${commandOf(name, run)}    # ${(run.elapsedMs / 1000).toFixed(0)} s`,
      JSON.stringify(run.summary),
      "```",
    ]),
    "",
    "</details>",
    "",
  ];
}

function e2eSection(runs: ReportRun[]): Section {
  const run = runs[0] as ReportRun;
  const bridge = run.summary.bridge as E2eSide;
  const baseline = run.summary.baseline as E2eSide;
  const aliceRatio =
    bridge.aliceCpuMsPerMessage !== undefined && baseline.aliceCpuMsPerMessage
      ? bridge.aliceCpuMsPerMessage / baseline.aliceCpuMsPerMessage
      : undefined;
  const charts: Record<string, string> = {
    "cpu-per-message.svg": stackedBarChart({
      title: "CPU per round trip, by process (ms)",
      yLabel: "CPU ms per round trip",
      bars: [
        {
          label: "ACA-Py's own HTTP",
          parts: [
            { name: "Bob (plain ACA-Py)", value: baseline.bobCpuMsPerMessage ?? 0 },
            { name: "Alice's ACA-Py", value: baseline.aliceCpuMsPerMessage ?? 0 },
          ],
        },
        {
          label: "behind acapy-bridge",
          parts: [
            { name: "Bob (plain ACA-Py)", value: bridge.bobCpuMsPerMessage ?? 0 },
            { name: "Alice's ACA-Py", value: bridge.aliceCpuMsPerMessage ?? 0 },
            { name: "relay + deliverer", value: bridge.bridgeCpuMsPerMessage ?? 0 },
            { name: "Redis", value: bridge.redisCpuMsPerMessage ?? 0 },
          ],
        },
      ],
    }),
    "round-trip-latency.svg": lineChart({
      title: "Round trip latency distribution (sequential)",
      xLabel: "percentile",
      yLabel: "ms",
      series: [
        { name: "ACA-Py's own HTTP", points: curvePoints(baseline.curve) },
        { name: "behind acapy-bridge", points: curvePoints(bridge.curve) },
      ],
      xTickLabel: percentileLabel,
    }),
  };
  const commands = Object.entries(bridge.redisCommandsPerMessage ?? {})
    .map(([command, n]) => `${command.replace("|", " ")} ${n}`)
    .join(", ");
  return {
    charts,
    markdown: [
      "## ACA-Py behind the bridge: CPU per message by tier",
      "",
      "Bob (plain ACA-Py) sends Alice a basic message; Alice's ACA-Py answers it (`--auto-respond-messages`). " +
        "Alice runs once on ACA-Py's own HTTP transports (the baseline) and once entirely behind acapy-bridge " +
        "(relay + deliverer + the shim), alternating in the same run. CPU is each process's own user+system time " +
        "over a burst, per round trip.",
      "",
      chartLink("cpu-per-message.svg", "CPU per round trip by process"),
      "",
      "| per round trip | ACA-Py's own HTTP (baseline) | behind acapy-bridge |",
      "| --- | ---: | ---: |",
      `| Alice's ACA-Py CPU | ${fixed(baseline.aliceCpuMsPerMessage)} ms | ${fixed(bridge.aliceCpuMsPerMessage)} ms (× ${fixed(aliceRatio)}) |`,
      `| Bob's ACA-Py CPU | ${fixed(baseline.bobCpuMsPerMessage)} ms | ${fixed(bridge.bobCpuMsPerMessage)} ms |`,
      `| relay + deliverer CPU | – | ${fixed(bridge.bridgeCpuMsPerMessage)} ms |`,
      `| Redis CPU | – | ${fixed(bridge.redisCpuMsPerMessage)} ms |`,
      `| every process of the pair | ${fixed(baseline.pairCpuMsPerMessage)} ms | ${fixed(bridge.pairCpuMsPerMessage)} ms |`,
      `| Redis commands | – | ${fixed(bridge.redisCallsPerMessage, 1)} (${commands || "–"}) |`,
      `| latency p50 / p99 | ${fixed(baseline.p50Ms)} / ${fixed(baseline.p99Ms)} ms | ${fixed(bridge.p50Ms)} / ${fixed(bridge.p99Ms)} ms |`,
      `| throughput (8 senders, this machine) | ${fixed(baseline.throughputPerSecond, 1)} /s | ${fixed(bridge.throughputPerSecond, 1)} /s |`,
      "",
      chartLink("round-trip-latency.svg", "Round trip latency distribution"),
      "",
      "On a 2-core machine the four ACA-Py processes, the bridge and Redis share two cores, so throughput mostly " +
        "measures how they share them; CPU per message and Redis commands per message are the figures that carry " +
        "over to a larger machine.",
      "",
      ...summaryBlock("e2e", runs),
    ],
  };
}

function sessionsSection(runs: ReportRun[]): Section {
  const sorted = [...runs].sort((a, b) => (a.summary.sessions as number) - (b.summary.sessions as number));
  const side = (run: ReportRun, key: "relay" | "baseline") => run.summary[key] as PushSide;
  const largest = sorted.at(-1) as ReportRun;
  const charts: Record<string, string> = {
    "sessions-memory.svg": lineChart({
      title: "Resident memory with idle WebSocket sessions",
      xLabel: "idle sessions",
      yLabel: "MiB resident",
      series: [
        {
          name: "bare ws server",
          points: sorted.map((r) => [r.summary.sessions as number, side(r, "baseline").residentMiB]),
        },
        { name: "relay", points: sorted.map((r) => [r.summary.sessions as number, side(r, "relay").residentMiB]) },
      ],
    }),
    "sessions-push-latency.svg": lineChart({
      title: `Push latency with ${(largest.summary.sessions as number).toLocaleString("en-US")} sessions`,
      xLabel: "percentile",
      yLabel: "ms",
      series: [
        { name: "bare ws server", points: curvePoints(side(largest, "baseline").push.curve) },
        { name: "relay", points: curvePoints(side(largest, "relay").push.curve) },
      ],
      xTickLabel: percentileLabel,
    }),
  };
  return {
    charts,
    markdown: [
      "## Wallet sessions on one relay process",
      "",
      "N idle WebSocket sessions on one `acapy-bridge relay` process, then pushes at a steady rate spread over " +
        "every session, timed from the moment the message is handed to Redis (as the shim does) until the wallet " +
        "has the frame. Baseline, same run, same clients: a bare Node `ws` server pushing entries of one Redis " +
        "stream, with no tags, confirmations or acknowledgements.",
      "",
      chartLink("sessions-memory.svg", "Resident memory by sessions"),
      "",
      "| sessions | relay MiB | relay bytes/session | bare ws MiB | bare ws bytes/session | pushes/s | relay push p50 / p99 | bare ws push p50 / p99 | lost |",
      "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
      ...sorted.map((run) => {
        const relay = side(run, "relay");
        const base = side(run, "baseline");
        return `| ${(run.summary.sessions as number).toLocaleString("en-US")} | ${relay.residentMiB} | ${relay.bytesPerSession.toLocaleString("en-US")} | ${base.residentMiB} | ${base.bytesPerSession.toLocaleString("en-US")} | ${run.summary.ratePerSecond} | ${fixed(relay.push.p50Ms)} / ${fixed(relay.push.p99Ms)} ms | ${fixed(base.push.p50Ms)} / ${fixed(base.push.p99Ms)} ms | ${run.summary.lost} |`;
      }),
      "",
      chartLink("sessions-push-latency.svg", "Push latency distribution"),
      "",
      ...summaryBlock("sessions", sorted),
    ],
  };
}

function delivererSection(runs: ReportRun[]): Section {
  const run = runs[0] as ReportRun;
  const levels = run.summary.levels as Record<
    string,
    { deliverer: Rate; baseline: Rate; bareLoop: Rate; ratio: number }
  >;
  const entries = Object.entries(levels).sort((a, b) => Number(a[0]) - Number(b[0]));
  return {
    charts: {
      "deliverer-throughput.svg": groupedBarChart({
        title: "Deliveries per second to a local HTTP sink",
        yLabel: "deliveries/s",
        groups: entries.map(([level, r]) => ({
          label: `${level} in flight`,
          bars: [
            { name: "HTTP loop (baseline)", value: r.baseline.perSecond },
            { name: "bare Redis loop", value: r.bareLoop.perSecond },
            { name: "deliverer", value: r.deliverer.perSecond },
          ],
        })),
      }),
    },
    markdown: [
      "## Deliverer against a bare loop",
      "",
      "A backlog in the outbound partitions drained by one `acapy-bridge deliverer` process (production defaults) " +
        "to a local HTTP sink, one job per recipient in flight. Baselines from the same run: the sink driven " +
        "directly by an HTTP client loop at the same concurrency, and a bare Redis loop draining the same backlog " +
        "(read, decode, POST in order, batched acknowledgements, nothing else).",
      "",
      chartLink("deliverer-throughput.svg", "Deliverer throughput"),
      "",
      "| in flight | deliverer /s | p50 / p99 | CPU per delivery | HTTP client loop /s | ratio | bare Redis loop /s |",
      "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
      ...entries.map(([level, r]) => {
        const cpu = r.deliverer.cpuMicrosPerDelivery;
        return `| ${level} | ${r.deliverer.perSecond} | ${r.deliverer.p50} / ${r.deliverer.p99} ms | ${cpu ? `${cpu.user + cpu.system} µs` : "–"} | ${r.baseline.perSecond} | ${r.ratio} | ${r.bareLoop.perSecond} |`;
      }),
      "",
      ...summaryBlock("deliverer", runs),
    ],
  };
}

function relaySection(runs: ReportRun[]): Section {
  const run = runs[0] as ReportRun;
  const ingress = run.summary.ingress as Record<
    string,
    { relayPerSecond: number; relayP50Ms: number; relayP99Ms: number; baselinePerSecond: number; ratio: number }
  >;
  const entries = Object.entries(ingress).sort((a, b) => Number(a[0]) - Number(b[0]));
  return {
    charts: {
      "relay-ingress.svg": groupedBarChart({
        title: "Relay ingress: messages per second",
        yLabel: "messages/s",
        groups: entries.map(([c, r]) => ({
          label: `${c} senders`,
          bars: [
            { name: "bare server (baseline)", value: r.baselinePerSecond },
            { name: "relay", value: r.relayPerSecond },
          ],
        })),
      }),
    },
    markdown: [
      "## Relay ingress",
      "",
      "Keep-alive senders POST anoncrypted envelopes; the relay answers after its one Redis write. Baseline: a " +
        "bare Node HTTP server doing the same write per request.",
      "",
      chartLink("relay-ingress.svg", "Relay ingress"),
      "",
      "| senders | relay /s | relay p50 / p99 | baseline /s | ratio |",
      "| ---: | ---: | ---: | ---: | ---: |",
      ...entries.map(
        ([c, r]) =>
          `| ${c} | ${r.relayPerSecond} | ${r.relayP50Ms} / ${r.relayP99Ms} ms | ${r.baselinePerSecond} | ${r.ratio} |`,
      ),
      "",
      ...summaryBlock("relay", runs),
    ],
  };
}

/** A bench without a dedicated section: its command and summary, so that no run goes unreported. */
function plainSection(name: string, runs: ReportRun[]): Section {
  return { charts: {}, markdown: [`## ${name}`, "", ...summaryBlock(name, runs)] };
}

const SECTIONS: Record<string, (runs: ReportRun[]) => Section> = {
  e2e: e2eSection,
  sessions: sessionsSection,
  deliverer: delivererSection,
  relay: relaySection,
};

export function renderReport(input: ReportInput): ReportFiles {
  const m = input.machine;
  const order = [
    ...Object.keys(SECTIONS).filter((n) => input.runs[n]),
    ...Object.keys(input.runs).filter((n) => !SECTIONS[n]),
  ];
  const sections = order.map((name) =>
    (SECTIONS[name] ?? ((runs: ReportRun[]) => plainSection(name, runs)))(input.runs[name] as ReportRun[]),
  );
  const markdown = [
    "# Benchmarks",
    "",
    `Generated by \`${input.command}\` on ${input.generatedAt} at commit \`${m.commit}\`, in one run: every figure ` +
      "below has its baseline from the same run, on the same machine. Do not edit this page: run the command again.",
    "",
    "| machine | |",
    "| --- | --- |",
    `| CPU | ${m.cpu}, ${m.cores} cores |`,
    `| memory | ${m.memoryGiB} GiB |`,
    `| OS | ${m.os} |`,
    `| Node.js / Python / ACA-Py / Redis | ${m.node} / ${m.python} / ${m.acapy} / ${m.redis} |`,
    `| 1-minute load average, start / end of the run | ${input.loadAverage.before.toFixed(2)} / ${input.loadAverage.after.toFixed(2)} |`,
    "",
    "To reproduce, after the README's set-up: `npm run bench -- report` (all of it), or one bench with the " +
      "command shown under its section. Each bench prints its figures and, as its last line, one JSON object.",
    "",
    ...sections.flatMap((s) => s.markdown),
  ].join("\n");
  return { markdown, charts: Object.assign({}, ...sections.map((s) => s.charts)) };
}
