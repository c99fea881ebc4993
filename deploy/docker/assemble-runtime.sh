#!/usr/bin/env bash
# Lays out what the acapy-bridge command needs at run time in DEST: the built workspaces it imports
# (package.json, dist, the CLI's bin) and only their production dependencies. Run from the repository
# root after `tsc -b`. The Dockerfile's build stage runs it; deploy-files.test.ts runs it too and
# starts the result, so the image's layout is checked without a container engine.
set -euo pipefail
dest=${1:?usage: assemble-runtime.sh DEST}
cd "$(dirname "$0")/../.."

# The CLI and every workspace it imports, directly or not: read from the package.json files, so a new
# workspace dependency is laid out without editing this list.
mapfile -t runtime_workspaces < <(node --input-type=module -e '
  import { readFileSync, readdirSync } from "node:fs";
  const dirOf = new Map(readdirSync("packages").map((dir) => [JSON.parse(readFileSync(`packages/${dir}/package.json`, "utf8")).name, dir]));
  const needed = new Set(["cli"]);
  for (const dir of needed) {
    const deps = JSON.parse(readFileSync(`packages/${dir}/package.json`, "utf8")).dependencies ?? {};
    for (const name of Object.keys(deps)) if (dirOf.has(name)) needed.add(dirOf.get(name));
  }
  console.log([...needed].join("\n"));
')

mkdir -p "$dest"
cp package.json package-lock.json "$dest/"
# npm ci checks the lockfile against every workspace's package.json.
for manifest in packages/*/package.json; do
  mkdir -p "$dest/$(dirname "$manifest")"
  cp "$manifest" "$dest/$manifest"
done
for workspace in "${runtime_workspaces[@]}"; do
  cp -R "packages/$workspace/dist" "$dest/packages/$workspace/dist"
done
cp -R packages/cli/bin "$dest/packages/cli/bin"
(cd "$dest" && npm ci --omit=dev --workspace=acapy-bridge --no-audit --no-fund --ignore-scripts --prefer-offline --loglevel=error)
