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

// Lua scripts live once under proto/scripts; each declares its signature in a header of
// `--!` lines, which this step parses and checks, and from which it generates one typed
// wrapper per script in both languages (callers never pass positional key/arg arrays):
//   --! key <name>[?|...] [what it is]     KEYS[i] in order; `?` (may be absent) or `...` (any number)
//                                          only on the last
//   --! arg <name> <type>[?|...] [what]    ARGV[i] in order; type string | int | bytes;
//                                          `?` (may be absent) or `...` (any number) only on the last
//   --! returns int | string               a scalar reply; `--! returns a:int b:string` a fixed array;
//                                          or one `--! reply` line per outcome:
//   --! reply <STATUS> [<name>:<type> ...] an array whose first element is STATUS
//   --! include <fragment>                 replaced by proto/scripts/lib/<fragment>.lua (shared bodies)
// Two or more spaces end a declaration; the rest of the line describes it. Names are
// snake_case and unique within a script (keys and args share one namespace). A header in
// the script rather than a separate declaration file: the signature sits beside the
// KEYS[i]/ARGV[i] it names, and gen fails when the body uses one the header lacks.
// The embedded text (includes expanded) is what Redis runs.
const NAME = /^[a-z][a-z0-9_]*$/;

function camel(name) {
  return name.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
}

function pascal(name) {
  const c = camel(name);
  return c[0].toUpperCase() + c.slice(1);
}

/** A shared fragment's lines, its own includes expanded; each fragment goes into a script once. */
function fragmentLines(dir, name, included, fail) {
  if (included.has(name)) return [];
  included.add(name);
  const file = join(dir, "lib", `${name}.lua`);
  if (!existsSync(file)) fail(`no fragment proto/scripts/lib/${name}.lua`);
  return readFileSync(file, "utf8")
    .replace(/\n$/, "")
    .split("\n")
    .flatMap((text) => {
      const include = /^--!\s*include\s+([a-z][a-z0-9_]*)\s*$/.exec(text);
      if (include) return fragmentLines(dir, include[1], included, fail);
      if (text.startsWith("--!")) fail(`lib/${name}.lua: a fragment may only hold "--! include" lines, not "${text}"`);
      return [text];
    });
}

function parseScript(dir, file) {
  const name = file.replace(/\.lua$/, "");
  const where = `proto/scripts/${file}`;
  const fail = (line, why) => {
    throw new Error(`gen: ${where}${line ? `:${line}` : ""}: ${why}`);
  };
  if (!NAME.test(name)) fail(0, "a script's file name must be snake_case");
  const signature = { name, keys: [], args: [], returns: undefined, replies: [] };
  const names = new Set();
  const declare = (line, n) => {
    if (!NAME.test(n)) fail(line, `"${n}" is not a snake_case name`);
    if (names.has(n)) fail(line, `"${n}" is declared twice`);
    names.add(n);
  };
  const body = [];
  const included = new Set();
  const lines = readFileSync(join(dir, file), "utf8").split("\n");
  lines.forEach((text, i) => {
    const line = i + 1;
    const directive = /^--!\s*(\S+)\s*(.*)$/.exec(text);
    if (!directive) {
      body.push(text);
      return;
    }
    const [, kind, rest] = directive;
    // Two or more spaces end the declaration; what follows is its description.
    const words = (rest.trim().split(/\s{2,}/)[0] ?? "").split(/\s+/).filter(Boolean);
    switch (kind) {
      case "key": {
        const m = /^([a-z0-9_]+)(\?|\.\.\.)?$/.exec(words[0] ?? "");
        if (!m || words.length !== 1)
          fail(line, `malformed key; expected "--! key <name>[?|...] [description]", got "${text}"`);
        const last = signature.keys.at(-1);
        if (last && (last.optional || last.variadic)) fail(line, "only the last key may be optional or variadic");
        if (signature.args.length > 0) fail(line, "keys come before args");
        declare(line, m[1]);
        signature.keys.push({ name: m[1], optional: m[2] === "?", variadic: m[2] === "..." });
        body.push(text);
        return;
      }
      case "arg": {
        const m = /^([a-z0-9_]+)$/.exec(words[0] ?? "");
        const t = /^(string|int|bytes)(\?|\.\.\.)?$/.exec(words[1] ?? "");
        if (!m || !t || words.length !== 2)
          fail(line, `malformed arg; expected "--! arg <name> <string|int|bytes>[?|...] [description]", got "${text}"`);
        const last = signature.args.at(-1);
        if (last && (last.optional || last.variadic)) fail(line, "only the last arg may be optional or variadic");
        declare(line, m[1]);
        signature.args.push({ name: m[1], type: t[1], optional: t[2] === "?", variadic: t[2] === "..." });
        body.push(text);
        return;
      }
      case "returns": {
        if (signature.returns || signature.replies.length) fail(line, "the reply is declared twice");
        if (words.length === 1 && ["int", "string"].includes(words[0])) {
          signature.returns = words[0];
        } else {
          // A fixed array without a status: named fields, e.g. "removed:int depth:int".
          const fields = words.map((w) => /^([a-z][a-z0-9_]*):(string|int)$/.exec(w));
          if (words.length < 2 || fields.some((f) => !f)) {
            fail(
              line,
              `malformed returns; expected "--! returns int|string" or "--! returns <name>:<string|int> ...", got "${text}"`,
            );
          }
          signature.returns = "tuple";
          signature.tuple = fields.map((f) => ({ name: f[1], type: f[2] }));
        }
        body.push(text);
        return;
      }
      case "reply": {
        if (signature.returns) fail(line, "a script has either `returns` or `reply` lines");
        const status = words[0] ?? "";
        if (!/^[A-Z][A-Z_]*$/.test(status))
          fail(line, `malformed reply; expected "--! reply <STATUS> [name:type ...]", got "${text}"`);
        if (signature.replies.some((r) => r.status === status)) fail(line, `reply ${status} is declared twice`);
        const fields = words.slice(1).map((w) => {
          const f = /^([a-z][a-z0-9_]*):(string|int|bytes)$/.exec(w);
          if (!f) fail(line, `malformed reply field "${w}"; expected name:string|int|bytes`);
          return { name: f[1], type: f[2] };
        });
        signature.replies.push({ status, fields });
        body.push(text);
        return;
      }
      case "include": {
        if (words.length !== 1 || !NAME.test(words[0]))
          fail(line, `malformed include; expected "--! include <fragment>"`);
        body.push(...fragmentLines(dir, words[0], included, (why) => fail(line, why)));
        return;
      }
      default:
        fail(line, `unknown directive "--! ${kind}" (key, arg, returns, reply, include)`);
    }
  });
  if (signature.keys.length === 0)
    fail(0, 'no "--! key" line: every script declares its keys (cluster routing needs one)');
  if (!signature.returns && signature.replies.length === 0) fail(0, 'no "--! returns" or "--! reply" line');
  const used = new Set([...body.join("\n").matchAll(/(KEYS|ARGV)\[(\d+)\]/g)].map((m) => `${m[1]}${m[2]}`));
  for (const [i] of signature.keys.entries())
    if (!signature.keys[i].variadic && !used.has(`KEYS${i + 1}`))
      fail(0, `key ${signature.keys[i].name} (KEYS[${i + 1}]) is declared but never used`);
  for (const u of used) {
    const [, kind, n] = /^(KEYS|ARGV)(\d+)$/.exec(u);
    if (kind === "KEYS" && signature.keys.at(-1)?.variadic) continue;
    const declared = kind === "KEYS" ? signature.keys.length : signature.args.length;
    if (Number(n) > declared)
      fail(0, `${kind}[${n}] is used but only ${declared} ${kind === "KEYS" ? "keys" : "args"} are declared`);
  }
  signature.body = body.join("\n");
  return signature;
}

const TS_ARG = { string: "string", int: "number | bigint", bytes: "Uint8Array" };
const TS_REPLY = { string: "string", int: "number", bytes: "Buffer" };
const PY_TYPE = { string: "str", int: "int", bytes: "bytes" };

function tsReplyType(s) {
  if (s.tuple) return `[${s.tuple.map((f) => `${camel(f.name)}: ${TS_REPLY[f.type]}`).join(", ")}]`;
  if (s.returns) return TS_REPLY[s.returns];
  return s.replies
    .map(
      (r) =>
        `[${[JSON.stringify(r.status), ...r.fields.map((f) => `${camel(f.name)}: ${TS_REPLY[f.type]}`)].join(", ")}]`,
    )
    .join(" | ");
}

/** Buffer replies only where a field is bytes; then the status and string fields are made text in place. */
function tsNeedsBuffers(s) {
  return s.replies.some((r) => r.fields.some((f) => f.type === "bytes"));
}

function tsArgValue(a) {
  const v = `call.${camel(a.name)}`;
  if (a.type === "bytes") return `scriptBytes(${v})`;
  if (a.type === "int") return `scriptInt(${v})`;
  return v;
}

function tsScript(s) {
  const type = pascal(s.name);
  const fields = [
    ...s.keys.map((k) =>
      k.variadic
        ? `  ${camel(k.name)}: readonly string[];`
        : `  ${camel(k.name)}${k.optional ? "?" : ""}: string${k.optional ? " | undefined" : ""};`,
    ),
    ...s.args.map((a) => {
      const item = TS_ARG[a.type].includes("|") ? `(${TS_ARG[a.type]})` : TS_ARG[a.type];
      const t = a.variadic ? `readonly ${item}[]` : TS_ARG[a.type];
      return `  ${camel(a.name)}${a.optional ? "?" : ""}: ${t}${a.optional ? " | undefined" : ""};`;
    }),
  ];
  const required = s.keys.filter((k) => !k.optional && !k.variadic);
  const optionalKey = s.keys.find((k) => k.optional);
  const variadicKey = s.keys.find((k) => k.variadic);
  const fixedArgs = s.args.filter((a) => !a.optional && !a.variadic);
  const tailArg = s.args.find((a) => a.optional || a.variadic);
  const head = [
    optionalKey
      ? `call.${camel(optionalKey.name)} === undefined ? ${required.length} : ${s.keys.length}`
      : variadicKey
        ? `${required.length ? `${required.length} + ` : ""}call.${camel(variadicKey.name)}.length`
        : String(s.keys.length),
    ...required.map((k) => `call.${camel(k.name)}`),
    ...(variadicKey ? [`...call.${camel(variadicKey.name)}`] : []),
  ];
  const build = [];
  if (optionalKey) {
    build.push(`  const argv: ScriptValue[] = [${head.join(", ")}];`);
    build.push(`  if (call.${camel(optionalKey.name)} !== undefined) argv.push(call.${camel(optionalKey.name)});`);
    if (fixedArgs.length) build.push(`  argv.push(${fixedArgs.map(tsArgValue).join(", ")});`);
  } else {
    build.push(`  const argv: ScriptValue[] = [${[...head, ...fixedArgs.map(tsArgValue)].join(", ")}];`);
  }
  if (tailArg?.optional)
    build.push(`  if (call.${camel(tailArg.name)} !== undefined) argv.push(${tsArgValue(tailArg)});`);
  if (tailArg?.variadic) {
    const item = tailArg.type === "bytes" ? "scriptBytes(v)" : tailArg.type === "int" ? "scriptInt(v)" : "v";
    build.push(`  for (const v of call.${camel(tailArg.name)}) argv.push(${item});`);
  }
  const buffers = tsNeedsBuffers(s);
  const textFields = buffers
    ? [
        ...new Set(
          s.replies.flatMap((r) => r.fields.map((f, i) => (f.type === "string" ? i + 1 : -1)).filter((i) => i > 0)),
        ),
      ]
    : [];
  const doc = `/** ${s.name}.lua: KEYS ${s.keys.map((k) => k.name + (k.optional ? "?" : k.variadic ? "..." : "")).join(", ")}; ARGV ${s.args.map((a) => a.name + (a.optional ? "?" : a.variadic ? "..." : "")).join(", ") || "none"} */`;
  return [
    `/** Keys and arguments of ${s.name}.lua. */`,
    `export interface ${type}Call {`,
    ...fields,
    "}",
    `export type ${type}Reply = ${tsReplyType(s)};`,
    `function ${camel(s.name)}Argv(call: ${type}Call): ScriptValue[] {`,
    ...build,
    "  return argv;",
    "}",
    doc,
    buffers
      ? `async function ${camel(s.name)}(client: RedisClient, call: ${type}Call): Promise<${type}Reply> {\n  return replyAsText((await callScript(client, ${JSON.stringify(s.name)}, ${camel(s.name)}Argv(call), true)) as unknown[], ${JSON.stringify(textFields)}) as ${type}Reply;\n}`
      : `function ${camel(s.name)}(client: RedisClient, call: ${type}Call): Promise<${type}Reply> {\n  return callScript(client, ${JSON.stringify(s.name)}, ${camel(s.name)}Argv(call), false) as Promise<${type}Reply>;\n}`,
    "",
  ].join("\n");
}

function typeScriptScripts(scripts) {
  return [
    "// Generated from proto/scripts/*.lua (their `--!` headers) by scripts/gen.mjs. Do not edit.",
    'import type { ChainableCommander } from "ioredis";',
    'import type { RedisClient } from "../redis/connection.js";',
    'import { callScript, queueScriptCall, replyAsText, type ScriptValue, scriptBytes, scriptInt } from "../redis/scripts.js";',
    "",
    ...scripts.map(tsScript),
    "/** The contract's scripts, one typed call each (EVALSHA with EVAL fallback; all keys in one slot). */",
    "export const lua = {",
    ...scripts.map((s) => `  ${camel(s.name)},`),
    "} as const;",
    "",
    "/** Each script's keys (fields of its call), in KEYS order: what must share one hash slot. */",
    "export const luaKeys = {",
    ...scripts.map((s) => `  ${camel(s.name)}: [${s.keys.map((k) => JSON.stringify(camel(k.name))).join(", ")}],`),
    "} as const;",
    "",
    "/** The same calls queued on a pipeline of a client that has had `registerScripts`; replies come with `exec`. */",
    "export const luaPipeline = {",
    ...scripts.map(
      (s) =>
        `  ${camel(s.name)}: (pipeline: ChainableCommander, call: ${pascal(s.name)}Call): ChainableCommander =>\n    queueScriptCall(pipeline, ${JSON.stringify(s.name)}, ${camel(s.name)}Argv(call)),`,
    ),
    "} as const;",
    "",
  ].join("\n");
}

function typeScriptSources(scripts) {
  return [
    "// Generated from proto/scripts/*.lua (includes expanded) by scripts/gen.mjs. Do not edit.",
    "export const luaScripts = {",
    ...scripts.map((s) => `  ${JSON.stringify(s.name)}: ${JSON.stringify(s.body)},`),
    "} as const;",
    "export type LuaScriptName = keyof typeof luaScripts;",
    "",
  ].join("\n");
}

function pyReplyType(s) {
  if (s.tuple) return `tuple[${s.tuple.map((f) => PY_TYPE[f.type]).join(", ")}]`;
  if (s.returns) return PY_TYPE[s.returns];
  return s.replies
    .map(
      (r) => `tuple[${[`Literal[${JSON.stringify(r.status)}]`, ...r.fields.map((f) => PY_TYPE[f.type])].join(", ")}]`,
    )
    .join(" | ");
}

const PY_CONVERT = { string: "_text", int: "_int", bytes: "_bytes" };

function pyScript(s) {
  const type = `${pascal(s.name)}Reply`;
  const params = [
    ...s.keys.map((k) =>
      k.variadic ? `${k.name}: Sequence[str]` : k.optional ? `${k.name}: str | None = None` : `${k.name}: str`,
    ),
    ...s.args.map((a) => {
      if (a.variadic) return `${a.name}: Sequence[${PY_TYPE[a.type]}]`;
      return a.optional ? `${a.name}: ${PY_TYPE[a.type]} | None = None` : `${a.name}: ${PY_TYPE[a.type]}`;
    }),
  ];
  const required = s.keys.filter((k) => !k.optional && !k.variadic);
  const optionalKey = s.keys.find((k) => k.optional);
  const variadicKey = s.keys.find((k) => k.variadic);
  const fixedArgs = s.args.filter((a) => !a.optional && !a.variadic);
  const tailArg = s.args.find((a) => a.optional || a.variadic);
  const lines = [`    async def ${s.name}(self, *, ${params.join(", ")}) -> ${type}:`];
  const keyList = `[${[...required.map((k) => k.name), ...(variadicKey ? [`*${variadicKey.name}`] : [])].join(", ")}]`;
  lines.push(
    optionalKey
      ? `        keys = ${keyList} if ${optionalKey.name} is None else [${s.keys.map((k) => k.name).join(", ")}]`
      : `        keys = ${keyList}`,
  );
  const args = `[${fixedArgs.map((a) => a.name).join(", ")}${tailArg?.variadic ? `${fixedArgs.length ? ", " : ""}*${tailArg.name}` : ""}]`;
  lines.push(`        args: list[ScriptValue] = ${args}`);
  if (tailArg?.optional)
    lines.push(`        if ${tailArg.name} is not None:\n            args.append(${tailArg.name})`);
  lines.push(`        return _reply_${s.name}(await self._invoke(${JSON.stringify(s.name)}, keys, args))`);
  const convert = [`def _reply_${s.name}(raw: object) -> ${type}:`];
  if (s.tuple) {
    convert.push(
      `    reply = _array(${JSON.stringify(s.name)}, raw)`,
      `    return (${s.tuple.map((f, i) => `${PY_CONVERT[f.type]}(reply[${i}])`).join(", ")})`,
    );
  } else if (s.returns) {
    convert.push(`    return ${PY_CONVERT[s.returns]}(raw)`);
  } else {
    convert.push(`    reply = _array(${JSON.stringify(s.name)}, raw)`, "    status = _text(reply[0])");
    for (const r of s.replies) {
      const parts = [JSON.stringify(r.status), ...r.fields.map((f, i) => `${PY_CONVERT[f.type]}(reply[${i + 1}])`)];
      convert.push(
        `    if status == ${JSON.stringify(r.status)}:`,
        `        return (${parts.join(", ")}${parts.length === 1 ? "," : ""})`,
      );
    }
    convert.push(`    raise ScriptReplyError(${JSON.stringify(s.name)}, raw)`);
  }
  return { alias: `${type}: TypeAlias = ${pyReplyType(s)}`, method: lines.join("\n"), convert: convert.join("\n") };
}

function pythonScripts(scripts) {
  const parts = scripts.map(pyScript);
  return [
    '"""Generated from proto/scripts/*.lua (their `--!` headers) by scripts/gen.mjs. Do not edit."""',
    "",
    "from collections.abc import Sequence",
    "from typing import Literal, TypeAlias",
    "",
    "ScriptValue: TypeAlias = str | int | bytes",
    "",
    "LUA_SCRIPTS: dict[str, str] = {",
    ...scripts.map((s) => `    ${JSON.stringify(s.name)}: ${JSON.stringify(s.body)},`),
    "}",
    "",
    ...parts.map((p) => p.alias),
    "",
    "",
    "class ScriptReplyError(RuntimeError):",
    '    """A script answered outside its declared reply shape."""',
    "",
    "    def __init__(self, script: str, reply: object):",
    '        super().__init__(f"{script}.lua returned {reply!r}, not a declared reply")',
    "",
    "",
    "def _text(value: object) -> str:",
    "    return value.decode() if isinstance(value, bytes) else str(value)",
    "",
    "",
    "def _int(value: object) -> int:",
    "    if isinstance(value, (int, str, bytes)):",
    "        return int(value)",
    '    raise TypeError(f"a script answered {value!r} where its header declares an integer")',
    "",
    "",
    "def _bytes(value: object) -> bytes:",
    "    return value if isinstance(value, bytes) else str(value).encode()",
    "",
    "",
    "def _array(script: str, value: object) -> list[object]:",
    "    if not isinstance(value, list) or not value:",
    "        raise ScriptReplyError(script, value)",
    "    return value",
    "",
    "",
    ...parts.flatMap((p) => [p.convert, "", ""]),
    "class LuaScripts:",
    '    """One typed method per contract script; a subclass runs them (`_invoke`: keys, then args)."""',
    "",
    "    async def _invoke(self, name: str, keys: list[str], args: list[ScriptValue]) -> object:",
    "        raise NotImplementedError",
    "",
    parts.map((p) => p.method).join("\n\n"),
    "",
  ].join("\n");
}

// Lua scripts live once under proto/scripts and are embedded, with typed wrappers, in both languages.
function generateScripts() {
  const dir = join(protoDir, "scripts");
  const scripts = readdirSync(dir)
    .filter((f) => f.endsWith(".lua"))
    .sort()
    .map((f) => parseScript(dir, f));
  writeFileSync(join(tsGenDir, "lua_sources.ts"), typeScriptSources(scripts));
  writeFileSync(join(tsGenDir, "lua_scripts.ts"), typeScriptScripts(scripts));
  writeFileSync(join(pyContractDir, "v1/lua_scripts.py"), pythonScripts(scripts));
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
