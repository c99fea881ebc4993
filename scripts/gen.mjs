#!/usr/bin/env node
// Regenerates every artefact derived from proto/: the TypeScript contract
// (protoc-gen-es via buf), the Python contract (grpcio-tools) and the Lua
// script modules for both languages. With --check it regenerates into the
// working tree and fails if anything differs from what is committed.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const protoDir = join(root, "proto");
const tsGenDir = join(root, "packages/protocol/src/gen");
const pyContractDir = join(root, "plugin-py-shim/acapy_bridge");
const check = process.argv.includes("--check");

function run(cmd, args, opts = {}) {
  execFileSync(cmd, args, { stdio: "inherit", cwd: root, ...opts });
}

function python() {
  const candidates = [process.env.PYTHON, join(root, ".venv/bin/python")].filter(Boolean);
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error("gen: no Python with grpcio-tools; run .ci/setup-python.sh or set PYTHON");
  }
  return found;
}

function protoFiles() {
  const dir = join(protoDir, "acapy_bridge/v1");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".proto"))
    .sort()
    .map((f) => `acapy_bridge/v1/${f}`);
}

function generateTypeScript() {
  run(join(root, "node_modules/.bin/buf"), ["generate", "--template", "buf.gen.yaml"], {
    cwd: protoDir,
    env: { ...process.env, PATH: `${join(root, "node_modules/.bin")}:${process.env.PATH}` },
  });
}

function generatePython() {
  const out = pyContractDir;
  rmSync(join(out, "v1"), { recursive: true, force: true });
  mkdirSync(join(out, "v1"), { recursive: true });
  run(python(), [
    "-m",
    "grpc_tools.protoc",
    `-I${protoDir}`,
    `--python_out=${join(root, "plugin-py-shim")}`,
    `--pyi_out=${join(root, "plugin-py-shim")}`,
    ...protoFiles(),
  ]);
  writeFileSync(join(out, "__init__.py"), '"""The acapy-bridge contract, generated from proto/. Do not edit."""\n');
  writeFileSync(join(out, "v1/__init__.py"), '"""Generated from proto/acapy_bridge/v1. Do not edit."""\n');
}

// Lua scripts live once under proto/scripts and are embedded in both languages.
function generateScripts() {
  const dir = join(protoDir, "scripts");
  const scripts = readdirSync(dir)
    .filter((f) => f.endsWith(".lua"))
    .sort()
    .map((f) => ({ name: f.replace(/\.lua$/, ""), body: readFileSync(join(dir, f), "utf8") }));
  const ts = [
    "// Generated from proto/scripts/*.lua by scripts/gen.mjs. Do not edit.",
    "export const luaScripts = {",
    ...scripts.map((s) => `  ${JSON.stringify(s.name)}: ${JSON.stringify(s.body)},`),
    "} as const;",
    "export type LuaScriptName = keyof typeof luaScripts;",
    "",
  ].join("\n");
  writeFileSync(join(tsGenDir, "lua_scripts.ts"), ts);
  const py = [
    '"""Generated from proto/scripts/*.lua by scripts/gen.mjs. Do not edit."""',
    "",
    "LUA_SCRIPTS: dict[str, str] = {",
    ...scripts.map((s) => `    ${JSON.stringify(s.name)}: ${JSON.stringify(s.body)},`),
    "}",
    "",
  ].join("\n");
  writeFileSync(join(pyContractDir, "v1/lua_scripts.py"), py);
}

function generateTestVectors() {
  run(process.execPath, ["--import", "tsx", join(root, "scripts/make-test-vectors.ts")]);
}

generateTypeScript();
generatePython();
generateScripts();
generateTestVectors();

if (check) {
  const generated = ["packages/protocol/src/gen", "plugin-py-shim/acapy_bridge", "proto/testdata"];
  const status = execFileSync("git", ["status", "--porcelain", "--", ...generated], {
    cwd: root,
    encoding: "utf8",
  });
  if (status.trim() !== "") {
    console.error(`gen --check: generated code is stale; run \`npm run gen\` and commit:\n${status}`);
    execFileSync("git", ["--no-pager", "diff", "--stat", "--", ...generated], { cwd: root, stdio: "inherit" });
    process.exit(1);
  }
  console.log("gen --check: generated code matches proto/");
}
