#!/usr/bin/env bash
# The shim's pytest suite, with a JUnit report for the combined summary.
# VENV picks the Python environment (default .venv, the newest ACA-Py supported;
# .venv-acapy-oldest has the oldest claimed), REPORT the report's name in .test-results/.
# Arguments go to pytest (e.g. tests/test_x.py).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${VENV:-.venv}
report=${REPORT:-pytest}
[ -x "$venv/bin/python" ] || { echo "[test-py] no $venv: run bash scripts/setup.sh" >&2; exit 1; }
mkdir -p .test-results
cd plugin-py-shim
"../$venv/bin/python" -m pytest -q --junitxml="../.test-results/$report.xml" "$@"
