import { describe, expect, it } from "vitest";
import type { MachineFacts } from "./machine.js";
import { type ReportInput, renderReport } from "./report-markdown.js";

const machine: MachineFacts = {
  cpu: "Test CPU",
  cores: 2,
  memoryGiB: 24,
  os: "Debian",
  node: "v20.0.0",
  python: "Python 3.13.0",
  acapy: "1.7.0",
  redis: "7.0.15",
  commit: "abc1234",
};
const curve: Array<[number, number]> = [
  [0, 1],
  [50, 2],
  [99, 5],
  [100, 9],
];
const side = (alice: number) => ({
  p50Ms: 10,
  p99Ms: 20,
  curve,
  throughputPerSecond: 100,
  aliceCpuMsPerMessage: alice,
  bobCpuMsPerMessage: 5,
  pairCpuMsPerMessage: 15,
});

function input(runs: ReportInput["runs"]): ReportInput {
  return {
    generatedAt: "2026-12-07T10:00:00Z",
    command: "npm run bench -- report",
    machine,
    loadAverage: { before: 0.5, after: 1.25 },
    runs,
  };
}

describe("the benchmark report page", () => {
  it("shows ACA-Py's CPU per round trip behind the bridge next to its baseline from the same run, with the ratio", () => {
    const files = renderReport(
      input({
        e2e: [
          {
            args: [],
            elapsedMs: 1000,
            summary: {
              bench: "e2e",
              baseline: side(8),
              bridge: { ...side(6), bridgeCpuMsPerMessage: 2, redisCpuMsPerMessage: 1, redisCallsPerMessage: 14 },
            },
          },
        ],
      }),
    );
    expect(files.markdown).toContain("| Alice's ACA-Py CPU | 8.00 ms | 6.00 ms (× 0.75) |");
    expect(files.markdown).toContain("](benchmarks/cpu-per-message.svg)");
    expect(files.markdown).toContain("Test CPU, 2 cores");
    expect(Object.keys(files.charts).sort()).toEqual(["cpu-per-message.svg", "round-trip-latency.svg"]);
    for (const svg of Object.values(files.charts)) {
      expect(svg.startsWith("<svg xmlns=")).toBe(true);
      expect(svg).toMatch(/^<title>.+<\/title>$/m);
      expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
      expect(svg).not.toContain("NaN");
    }
  });

  it("plots memory against the session count, one point per sessions run, and keeps every run's command", () => {
    const sessionsRun = (sessions: number, relayMiB: number) => ({
      args: ["--sessions", String(sessions)],
      elapsedMs: 1000,
      summary: {
        bench: "sessions",
        sessions,
        ratePerSecond: 1000,
        lost: 0,
        relay: {
          residentMiB: relayMiB,
          bytesPerSession: 1000,
          push: { sent: 1, received: 1, p50Ms: 1, p99Ms: 2, maxMs: 3, curve },
        },
        baseline: {
          residentMiB: 50,
          bytesPerSession: 500,
          push: { sent: 1, received: 1, p50Ms: 1, p99Ms: 2, maxMs: 3, curve },
        },
      },
    });
    const files = renderReport(input({ sessions: [sessionsRun(10_000, 170), sessionsRun(1_000, 60)] }));
    expect(files.markdown.indexOf("| 1,000 |")).toBeLessThan(files.markdown.indexOf("| 10,000 |"));
    expect(files.markdown).toContain("$ npm run bench -- sessions --sessions 10000");
    expect(files.charts["sessions-memory.svg"]).toContain("relay: 10,000 → 170");
  });

  it("reports a bench it has no section for by its command and summary, so that no run goes missing", () => {
    const files = renderReport(input({ admin: [{ args: [], elapsedMs: 1000, summary: { bench: "admin", p50: 1 } }] }));
    expect(files.markdown).toContain("## admin");
    expect(files.markdown).toContain('{"bench":"admin","p50":1}');
  });
});
