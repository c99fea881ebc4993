#!/usr/bin/env bash
# Installs Credo-ts 0.5.19, the framework most mobile wallets run on, for the interop tests in
# interop/credo (its own package, outside the npm workspaces), with @credo-ts/push-notifications
# 0.7.1 (its peer range is @credo-ts/core ^0.5.0: the push-notifications-fcm/apns modules wallets on
# Credo 0.5 register their device token with):
#   1. npm ci --ignore-scripts: the Askar wrapper's install script downloads its native library
#      from outside the package registries, which fails offline;
#   2. @2060.io/ref-napi and @2060.io/ffi-napi built with npm's bundled node-gyp against the
#      system Node headers (no prebuilt binaries for this platform);
#   3. libaries_askar.so from the PyPI wheel aries-askar 0.3.2 (the version the wrapper 0.2.3
#      names in its package.json), unpacked into node_modules/.askar-native; the tests point
#      LIB_ARIES_ASKAR_PATH at it.
# Idempotent: a stamp in interop/credo/node_modules records what was installed.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup-credo] %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

ASKAR_VERSION=0.3.2
dir=interop/credo
stamp=$dir/node_modules/.credo-installed-$(cat "$dir/package-lock.json" scripts/setup-credo.sh | sha256sum | cut -c1-16)
if [ -f "$stamp" ]; then
  say "Credo-ts $(node -p "require('./$dir/node_modules/@credo-ts/core/package.json').version") installed"
  exit 0
fi

started=$(date +%s)
if ! command -v g++ >/dev/null || ! command -v make >/dev/null; then
  say "installing build-essential (apt) for Credo's native FFI modules"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq build-essential >/dev/null
fi
node_headers=$(dirname "$(dirname "$(command -v node)")")
[ -f "$node_headers/include/node/node_api.h" ] || { echo "[setup-credo] no Node headers under $node_headers/include/node" >&2; exit 1; }

say "installing Credo-ts into $dir (npm ci --ignore-scripts)"
(cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

node_gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
for module in ref-napi ffi-napi; do
  say "building @2060.io/$module against the Node headers in $node_headers"
  log=$(mktemp)
  (cd "$dir/node_modules/@2060.io/$module" && node "$node_gyp" rebuild --nodedir="$node_headers" >"$log" 2>&1) || { cat "$log" >&2; exit 1; }
  rm -f "$log"
done

py=.venv/bin/python
[ -x "$py" ] || { echo "[setup-credo] .venv missing: run scripts/setup.sh" >&2; exit 1; }
native=$dir/node_modules/.askar-native
rm -rf "$native" && mkdir -p "$native"
say "taking libaries_askar.so from the PyPI wheel aries-askar==$ASKAR_VERSION"
"$py" -m pip download -q "aries-askar==$ASKAR_VERSION" --no-deps --only-binary=:all: -d "$native/wheel"
"$py" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2], [n for n in zipfile.ZipFile(sys.argv[1]).namelist() if n.endswith(".so")])' \
  "$(ls "$native"/wheel/*.whl)" "$native"
rm -rf "$native/wheel"
[ -f "$native/aries_askar/libaries_askar.so" ] || { echo "[setup-credo] libaries_askar.so not in the wheel" >&2; exit 1; }

touch "$stamp"
say "Credo-ts installed in $(($(date +%s) - started)) s"
