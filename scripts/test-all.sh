#!/usr/bin/env bash
# Every check and every test, from a fresh clone: setup, build, the type-check
# of tests and benches, lint, the import-cycle check, the shim's type-check (mypy),
# the stale-generated-code check, the TypeScript suites and the Python suite, under
# the newest and the oldest ACA-Py the shim supports, and the install from the packed
# packages (scripts/test-packages.sh).
# Ends with one line "N passed, N failed, N skipped" over all of them.
set -uo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s\n' "$*"; }
failed_steps=()

step "setup"
bash scripts/setup.sh || exit 1

step "build (tsc -b)"
npx tsc -b || failed_steps+=("build")

# tsc -b builds the shipped sources only; tests, fixtures, benches and the example are checked here.
step "type-check tests, fixtures, benches, examples (tsc -p tsconfig.tests.json)"
npx tsc -p tsconfig.tests.json || failed_steps+=("typecheck:tests")

step "lint (biome, buf, ruff)"
{ npx biome ci . && npx buf lint proto && npx buf format proto --diff --exit-code \
  && .venv/bin/ruff check plugin-py-shim && .venv/bin/ruff format --check plugin-py-shim; } || failed_steps+=("lint")

# Type-only imports count: a cycle through types still ties two modules' designs together.
step "no import cycles in the TypeScript sources (npm run check:cycles)"
npm run --silent check:cycles || failed_steps+=("check:cycles")

step "type-check the shim (mypy)"
(cd plugin-py-shim && ../.venv/bin/mypy) || failed_steps+=("mypy")

step "generated code is up to date (npm run gen:check)"
PYTHON=.venv/bin/python node scripts/gen.mjs --check || failed_steps+=("gen:check")

rm -rf .test-results && mkdir -p .test-results
step "TypeScript tests (vitest)"
npx vitest run || failed_steps+=("vitest")

step "Python tests (pytest, newest ACA-Py supported)"
bash scripts/test-py.sh || failed_steps+=("pytest")

step "Python tests (pytest, oldest ACA-Py claimed)"
VENV=.venv-acapy-oldest REPORT=pytest-acapy-oldest bash scripts/test-py.sh || failed_steps+=("pytest:acapy-oldest")

step "installed from the packages (npm tarballs, the shim's wheel), the local deployment runs"
bash scripts/test-packages.sh || failed_steps+=("test-packages")

step "summary"
node scripts/test-summary.mjs
summary_rc=$?
if [ ${#failed_steps[@]} -gt 0 ]; then
  echo "failed steps: ${failed_steps[*]}"
  exit 1
fi
exit $summary_rc
