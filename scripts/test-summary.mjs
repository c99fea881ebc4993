#!/usr/bin/env node
// Prints the combined result of the vitest and pytest runs as one plain line,
// "N passed, N failed, N skipped", and exits non-zero if nothing ran or anything failed.
import { existsSync, readFileSync } from "node:fs";

let passed = 0;
let failed = 0;
let skipped = 0;

if (existsSync(".test-results/vitest.json")) {
  const report = JSON.parse(readFileSync(".test-results/vitest.json", "utf8"));
  passed += report.numPassedTests ?? 0;
  failed += (report.numFailedTests ?? 0) + (report.numFailedTestSuites > 0 && report.numFailedTests === 0 ? 1 : 0);
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  console.log(
    `vitest: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${report.numPendingTests} skipped`,
  );
} else {
  console.log("vitest: no report");
  failed += 1;
}

if (existsSync(".test-results/pytest.xml")) {
  const xml = readFileSync(".test-results/pytest.xml", "utf8");
  const suite = xml.match(/<testsuite [^>]*>/)?.[0] ?? "";
  const attr = (name) => Number(suite.match(new RegExp(`${name}="(\\d+)"`))?.[1] ?? 0);
  const total = attr("tests");
  const pyFailed = attr("failures") + attr("errors");
  const pySkipped = attr("skipped");
  passed += total - pyFailed - pySkipped;
  failed += pyFailed;
  skipped += pySkipped;
  console.log(`pytest: ${total - pyFailed - pySkipped} passed, ${pyFailed} failed, ${pySkipped} skipped`);
} else {
  console.log("pytest: no report");
  failed += 1;
}

console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
