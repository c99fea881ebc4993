#!/usr/bin/env bash
# Mediator Design 1 on one machine (see README.md next to this script): installs what is missing,
# builds, and runs run-demo.ts.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/setup.sh
npx tsc -b
exec node --conditions=@acapy-bridge/source --import tsx examples/mediator-design-1/run-demo.ts "$@"
