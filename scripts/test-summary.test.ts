import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const script = join(dirname(fileURLToPath(import.meta.url)), "test-summary.mjs");

interface VitestCounts {
  passed: number;
  failed?: number;
  skipped?: number;
  todo?: number;
  failedSuites?: number;
}

function vitestReport({ passed, failed = 0, skipped = 0, todo = 0, failedSuites = 0 }: VitestCounts): string {
  return JSON.stringify({
    numPassedTests: passed,
    numFailedTests: failed,
    numPendingTests: skipped,
    numTodoTests: todo,
    numFailedTestSuites: failedSuites,
    numTotalTests: passed + failed + skipped + todo,
  });
}

function pytestReport({ tests, failures = 0, errors = 0, skipped = 0 }: Record<string, number>): string {
  return `<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" errors="${errors}" failures="${failures}" skipped="${skipped}" tests="${tests}" time="1.0" timestamp="2026-01-01T00:00:00" hostname="h"><testcase classname="t" name="a" time="0.1"/></testsuite></testsuites>`;
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function summarize(files: Record<string, string>, env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "test-summary-"));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  const { ACAPY_BRIDGE_ALLOW_SKIPS: _ignored, ...inherited } = process.env;
  const run = spawnSync(process.execPath, [script, dir], { env: { ...inherited, ...env }, encoding: "utf8" });
  const lines = run.stdout.trim().split("\n");
  return { status: run.status, lines, last: lines.at(-1) };
}

describe("scripts/test-summary.mjs", () => {
  it("passes when every test passed, and ends with the plain combined line", () => {
    const result = summarize({
      "vitest.json": vitestReport({ passed: 10 }),
      "pytest.xml": pytestReport({ tests: 5 }),
    });
    expect(result.last).toBe("15 passed, 0 failed, 0 skipped");
    expect(result.status).toBe(0);
  });

  it("fails the run when one test was skipped", () => {
    const result = summarize({
      "vitest.json": vitestReport({ passed: 10, skipped: 1 }),
      "pytest.xml": pytestReport({ tests: 5 }),
    });
    expect(result.last).toBe("15 passed, 0 failed, 1 skipped");
    expect(result.status).toBe(1);
    expect(result.lines.join("\n")).toContain("ACAPY_BRIDGE_ALLOW_SKIPS=1");
  });

  it("counts a pytest skip and a vitest todo as skipped too", () => {
    const result = summarize({
      "vitest.json": vitestReport({ passed: 3, todo: 1 }),
      "pytest.xml": pytestReport({ tests: 4, skipped: 1 }),
    });
    expect(result.last).toBe("6 passed, 0 failed, 2 skipped");
    expect(result.status).toBe(1);
  });

  it("lets skips pass only with ACAPY_BRIDGE_ALLOW_SKIPS=1", () => {
    const files = { "vitest.json": vitestReport({ passed: 10, skipped: 1 }), "pytest.xml": pytestReport({ tests: 5 }) };
    expect(summarize(files, { ACAPY_BRIDGE_ALLOW_SKIPS: "1" }).status).toBe(0);
    expect(summarize(files, { ACAPY_BRIDGE_ALLOW_SKIPS: "yes" }).status).toBe(1);
  });

  it("fails when one test failed, even with skips allowed", () => {
    const result = summarize(
      { "vitest.json": vitestReport({ passed: 9, failed: 1 }), "pytest.xml": pytestReport({ tests: 5 }) },
      { ACAPY_BRIDGE_ALLOW_SKIPS: "1" },
    );
    expect(result.last).toBe("14 passed, 1 failed, 0 skipped");
    expect(result.status).toBe(1);
  });

  it("adds up every pytest report in the folder (two pytest runs)", () => {
    const result = summarize({
      "vitest.json": vitestReport({ passed: 10 }),
      "pytest.xml": pytestReport({ tests: 5 }),
      "pytest-acapy-oldest.xml": pytestReport({ tests: 6, failures: 1, errors: 1 }),
    });
    expect(result.lines).toContain("pytest: 5 passed, 0 failed, 0 skipped");
    expect(result.lines).toContain("pytest-acapy-oldest: 4 passed, 2 failed, 0 skipped");
    expect(result.last).toBe("19 passed, 2 failed, 0 skipped");
    expect(result.status).toBe(1);
  });

  it("counts another JUnit report (scripts/test-packages.sh's packages.xml) beside the pytest ones", () => {
    const result = summarize({
      "vitest.json": vitestReport({ passed: 10 }),
      "pytest.xml": pytestReport({ tests: 5 }),
      "packages.xml": pytestReport({ tests: 9, failures: 1 }),
    });
    expect(result.lines).toContain("packages: 8 passed, 1 failed, 0 skipped");
    expect(result.last).toBe("23 passed, 1 failed, 0 skipped");
    expect(result.status).toBe(1);
  });

  it("still fails without a pytest report when another JUnit report is there", () => {
    const result = summarize({
      "vitest.json": vitestReport({ passed: 10 }),
      "packages.xml": pytestReport({ tests: 9 }),
    });
    expect(result.lines).toContain("pytest: no report");
    expect(result.status).toBe(1);
  });

  it("fails when a report is missing or a suite broke before its tests ran", () => {
    expect(summarize({ "vitest.json": vitestReport({ passed: 10 }) }).status).toBe(1);
    expect(summarize({ "pytest.xml": pytestReport({ tests: 5 }) }).status).toBe(1);
    const broken = summarize({
      "vitest.json": vitestReport({ passed: 10, failedSuites: 1 }),
      "pytest.xml": pytestReport({ tests: 5 }),
    });
    expect(broken.last).toBe("15 passed, 1 failed, 0 skipped");
    expect(broken.status).toBe(1);
  });
});
