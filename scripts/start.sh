#!/usr/bin/env bash
# The README's run command: installs what is missing, builds, and runs the
# local deployment of examples/local-deployment (Redis, acapy-bridge all,
# ACA-Py Alice behind the bridge, ACA-Py Bob), showing messages flow.
# BRIDGE_CLI=/path/to/acapy-bridge and ACAPY_BIN=/path/to/aca-py run installed
# ones instead of this repository's (scripts/test-packages.sh does).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "[start] building acapy-bridge (tsc -b)"
npx tsc -b
exec node --conditions=@acapy-bridge/source --import tsx examples/local-deployment/run-demo.ts "$@"
