#!/usr/bin/env bash
# Installs everything the tests and the local deployment need, on a fresh
# Debian machine with Node 20 and Python 3.13: redis-server, the npm
# workspaces, and Python venvs with ACA-Py and the shim: .venv (the newest ACA-Py
# supported) and .venv-acapy-oldest (the oldest claimed).
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*"; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
  say "installing redis-server and redis-tools (apt)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq redis-server redis-tools >/dev/null
fi
say "redis: $(redis-server --version | awk '{print $3}')"

if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  say "installing postgresql (apt) for the multi-instance wallet tests"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm workspaces (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# shellcheck source=scripts/find-python.sh
source scripts/find-python.sh

# venv_with_acapy DIR CONSTRAINTS EXTRAS: a venv with ACA-Py and the shim (editable), rebuilt only when
# pyproject.toml or the constraints change (a stamp file names their hash).
venv_with_acapy() {
  local dir=$1 constraints=$2 extras=$3
  local stamp
  stamp=$dir/.installed-$(cat plugin-py-shim/pyproject.toml "$constraints" | sha256sum | cut -c1-16)
  if [ ! -f "$stamp" ]; then
    local py
    py=$(find_python) || { echo "[setup] Python 3.13 not found (set PYTHON313=/path/to/python3.13)" >&2; exit 1; }
    say "creating $dir with $py and installing ACA-Py + the shim ($constraints; takes a minute)"
    rm -rf "$dir"
    "$py" -m venv "$dir"
    "$dir/bin/pip" install -q --upgrade pip
    "$dir/bin/pip" install -q -c "$constraints" -e "plugin-py-shim[$extras]"
    touch "$stamp"
  fi
  say "python ($dir): $("$dir/bin/python" --version), ACA-Py $("$dir/bin/python" -c 'import importlib.metadata as m; print(m.version("acapy-agent"))')"
}

# The newest ACA-Py the shim supports: the venv everything runs with.
venv_with_acapy .venv plugin-py-shim/constraints.txt acapy,test,gen
# The oldest ACA-Py it claims (pyproject's floor): the shim's pytest suite runs under both.
venv_with_acapy .venv-acapy-oldest plugin-py-shim/constraints-acapy-oldest.txt acapy,test

# Credo-ts for the wallet interop tests (interop/credo, outside the workspaces).
bash scripts/setup-credo.sh

# Checkers of the deployment files in deploy/ (yamllint, hadolint, helm, promtool, systemd-analyze).
bash scripts/setup-deploy-tools.sh
