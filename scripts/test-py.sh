#!/usr/bin/env bash
# The shim's pytest suite, with a JUnit report for the combined summary.
set -euo pipefail
cd "$(dirname "$0")/../plugin-py-shim"
mkdir -p ../.test-results
../.venv/bin/python -m pytest -q --junitxml=../.test-results/pytest.xml "$@"
