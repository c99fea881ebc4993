#!/usr/bin/env bash
# Installs acapy-bridge the way a user does and runs it from there: packs every
# publishable npm workspace, installs all the tarballs into an empty folder (no
# workspace, no repo node_modules), runs `acapy-bridge --version`, builds the
# shim's wheel, installs it with ACA-Py into an empty Python 3.13 venv
# (plugin-py-shim/constraints.txt), and runs the local deployment
# (examples/local-deployment, `npm start`) with that acapy-bridge and that aca-py.
#
# Each check is a test case of a JUnit report, .test-results/packages.xml, which
# scripts/test-summary.mjs counts. Needs the registries (npm, PyPI) for the
# third-party dependencies, like a user's install. Temp folders are removed on exit.
# Usage: bash scripts/test-packages.sh [--keep]   (--keep leaves the temp folder for a look)
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
# shellcheck source=scripts/find-python.sh
source scripts/find-python.sh

# The workspaces that are published: every one not marked private (test-harness,
# wallet-simulator and didcomm-test-agent are private test tools), read from their package.json.
mapfile -t PUBLISHABLE < <(node -e '
  const { readdirSync, readFileSync } = require("node:fs");
  for (const dir of readdirSync("packages").sort()) {
    const manifest = JSON.parse(readFileSync(`packages/${dir}/package.json`, "utf8"));
    if (!manifest.private) console.log(dir);
  }
')
MESSAGES=5

work=$(mktemp -d "${TMPDIR:-/tmp}/acapy-bridge-packages.XXXXXX")
report_dir=$repo/.test-results
cases=()
failures=0
started=$SECONDS

say() { printf '[test-packages] %s  (+%d s)\n' "$*" "$((SECONDS - started))"; }

xml_escape() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'; }

write_report() {
  mkdir -p "$report_dir"
  {
    printf '<?xml version="1.0" encoding="utf-8"?>\n<testsuites name="packages">'
    printf '<testsuite name="packages" tests="%d" failures="%d" errors="0" skipped="0" time="%d">\n' \
      "${#cases[@]}" "$failures" "$((SECONDS - started))"
    printf '%s\n' "${cases[@]}"
    printf '</testsuite></testsuites>\n'
  } >"$report_dir/packages.xml"
}

finish() {
  write_report
  if [ "${1:-}" = "--keep" ]; then say "kept $work"; else rm -rf "$work"; fi
}
keep=${1:-}
trap 'finish "$keep"' EXIT

# check NAME FUNCTION: runs one check (errexit on) with its output in a log; a
# failure prints the log's tail and stops the run (later checks need what it makes).
check() {
  local name=$1 log
  shift
  log=$work/$(printf '%s' "$name" | tr -c 'a-zA-Z0-9' '-').log
  local step_start=$SECONDS
  say "$name"
  # errexit inside the check: not tested by `if`, which would switch it off.
  (set -e; "$@") >"$log" 2>&1
  if [ $? = 0 ]; then
    cases+=("<testcase classname=\"packages\" name=\"$(printf '%s' "$name" | xml_escape)\" time=\"$((SECONDS - step_start))\"/>")
    return 0
  fi
  failures=$((failures + 1))
  local tail
  tail=$(tail -n 40 "$log")
  printf '%s\n' "$tail" | sed 's/^/    | /'
  cases+=("<testcase classname=\"packages\" name=\"$(printf '%s' "$name" | xml_escape)\" time=\"$((SECONDS - step_start))\"><failure message=\"failed\">$(printf '%s' "$tail" | xml_escape)</failure></testcase>")
  say "FAILED: $name"
  exit 1
}

pack_workspaces() {
  mkdir -p "$work/tarballs"
  local flags=()
  for name in "${PUBLISHABLE[@]}"; do flags+=(--workspace "packages/$name"); done
  # prepack builds each package (tsc -b) and copies the LICENSE in.
  npm pack --loglevel=error --pack-destination "$work/tarballs" "${flags[@]}"
  ls "$work/tarballs"
}

tarballs_hold_no_tests() {
  local bad=0 tarball listing
  for tarball in "$work"/tarballs/*.tgz; do
    listing=$(tar -tzf "$tarball")
    for required in package/package.json package/README.md package/LICENSE package/dist/index.js; do
      grep -qx "$required" <<<"$listing" || { echo "$tarball lacks $required"; bad=1; }
    done
    if grep -E '\.test\.|test-fixtures/|\.tsbuildinfo$' <<<"$listing"; then
      echo "$tarball ships the test files above"
      bad=1
    fi
    # Every built file comes from a shipped source (a stale one from a removed source would not).
    local stale
    stale=$(comm -23 <(sed -n 's#^package/dist/\(.*\)\.js$#\1#p' <<<"$listing" | sort) \
      <(sed -n 's#^package/src/\(.*\)\.ts$#\1#p' <<<"$listing" | sort))
    [ -z "$stale" ] || { echo "$tarball: dist/ files without a source in src/ (stale: delete dist/ and rebuild): $stale"; bad=1; }
  done
  return $bad
}

install_tarballs() {
  mkdir -p "$work/app"
  # --prefer-offline: the third-party packages come from npm's cache where it has them (set-up's npm ci filled it).
  (cd "$work/app" && env -u NODE_PATH npm install --no-audit --no-fund --prefer-offline --loglevel=error "$work"/tarballs/*.tgz)
}

cli_reports_its_version() {
  local expected printed
  expected=$(node -p 'require("./packages/cli/package.json").version')
  printed=$(cd "$work/app" && env -u NODE_PATH npx --no-install acapy-bridge --version)
  echo "acapy-bridge --version: $printed (package: $expected)"
  [[ "$printed" == *"$expected"* ]]
}

libraries_import() {
  local name
  for name in "${PUBLISHABLE[@]}"; do
    [ "$name" = cli ] && continue
    (cd "$work/app" && env -u NODE_PATH node --input-type=module \
      -e "const m = await import('@acapy-bridge/$name'); console.log('@acapy-bridge/$name:', Object.keys(m).length, 'exports')") || return 1
  done
}

# Every type a package's declarations name resolves from what the install brought (skipLibCheck off):
# a type from a devDependency (say @types/ws) would not. The compiler is the repo's TypeScript.
typescript_consumer_type_checks() {
  local name module
  : >"$work/app/consumer.ts"
  for name in "${PUBLISHABLE[@]}"; do
    module=@acapy-bridge/$name
    [ "$name" = cli ] && module=acapy-bridge
    echo "export * as ${name//-/_} from \"$module\";" >>"$work/app/consumer.ts"
  done
  cat "$work/app/consumer.ts"
  (cd "$work/app" && node "$repo/node_modules/typescript/bin/tsc" --noEmit --strict --skipLibCheck false \
    --target es2023 --lib es2023 --module nodenext --moduleResolution nodenext --types node consumer.ts)
}

build_wheel() {
  local py
  py=$(find_python) || { echo "Python 3.13 not found (set PYTHON313=/path/to/python3.13)"; return 1; }
  "$py" -m venv "$work/venv"
  # Built from a copy: a build leaves build/ and *.egg-info behind; the LICENSE link is followed.
  mkdir -p "$work/shim-src"
  tar -C plugin-py-shim --dereference --exclude=build --exclude='*.egg-info' --exclude=__pycache__ \
    --exclude=.pytest_cache --exclude=.mypy_cache --exclude=.ruff_cache -cf - . | tar -C "$work/shim-src" -xf -
  "$work/venv/bin/pip" wheel --quiet --no-deps --wheel-dir "$work/wheel" "$work/shim-src"
  ls "$work/wheel"
}

wheel_holds_the_contract_and_no_tests() {
  local listing
  listing=$("$work/venv/bin/python" -m zipfile -l "$work"/wheel/*.whl | awk 'NR > 1 {print $1}')
  echo "$listing"
  for required in acapy_bridge/v1/envelopes_pb2.py acapy_bridge/v1/keyspace_pb2.py acapy_bridge/v1/lua_scripts.py \
    acapy_bridge_shim/__init__.py acapy_bridge_shim/pickup/__init__.py; do
    grep -qx "$required" <<<"$listing" || { echo "the wheel lacks $required"; return 1; }
  done
  grep -qE '\.dist-info/licenses/LICENSE$' <<<"$listing" || { echo "the wheel lacks its LICENSE"; return 1; }
  if grep -E '(^|/)tests?/|(^|/)test_[^/]*\.py$|conftest\.py$' <<<"$listing"; then
    echo "the wheel ships the test files above"
    return 1
  fi
}

install_wheel_with_acapy() {
  local wheel
  wheel=$(ls "$work"/wheel/*.whl)
  # --no-compile: byte-compiling all of ACA-Py's dependencies costs more than the few modules it imports.
  "$work/venv/bin/pip" install --quiet --no-compile -c plugin-py-shim/constraints.txt "acapy-bridge-shim[acapy] @ file://$wheel"
  # From the venv, not the repo's editable install.
  (cd "$work" && "$work/venv/bin/python" -c '
import importlib.metadata as m, sys, acapy_bridge_shim
location = acapy_bridge_shim.__file__
print("shim", m.version("acapy-bridge-shim"), "at", location, "; ACA-Py", m.version("acapy-agent"))
sys.exit(0 if location.startswith(sys.prefix) else 1)')
  [ -x "$work/venv/bin/aca-py" ]
}

deployment_runs_from_the_packages() {
  local log=$work/deployment.out
  # What `npm start` (scripts/start.sh) runs, without its set-up and build: both are done by now.
  BRIDGE_CLI=$work/app/node_modules/.bin/acapy-bridge ACAPY_BIN=$work/venv/bin/aca-py \
    node --conditions=@acapy-bridge/source --import tsx examples/local-deployment/run-demo.ts --messages "$MESSAGES" --free-ports \
    | tee "$log" || return 1
  grep -q "acapy-bridge: $work/app/node_modules/.bin/acapy-bridge" "$log" || { echo "not the installed acapy-bridge"; return 1; }
  grep -q "aca-py: $work/venv/bin/aca-py" "$log" || { echo "not the venv's aca-py"; return 1; }
  grep -q "summary: $MESSAGES messages, $MESSAGES at Alice, $MESSAGES replies at Bob" "$log"
}

check "npm pack the publishable workspaces" pack_workspaces
check "the tarballs hold a README, the LICENSE and the build of src/, and no tests" tarballs_hold_no_tests
check "all the tarballs install into an empty folder" install_tarballs
check "acapy-bridge --version runs from node_modules/.bin" cli_reports_its_version
check "every library package imports from the install" libraries_import
check "a TypeScript consumer type-checks against the packages' declarations" typescript_consumer_type_checks
check "the shim builds as a wheel" build_wheel
check "the wheel holds the generated contract and the Lua scripts, and no tests" wheel_holds_the_contract_and_no_tests
check "the wheel installs with ACA-Py into an empty venv (constraints.txt)" install_wheel_with_acapy
check "the local deployment runs from the installed packages, $MESSAGES messages flow" deployment_runs_from_the_packages
grep -E '^(summary|  +bridge counters)' "$work/deployment.out" | sed 's/^/    /'
say "all ${#cases[@]} checks passed"
