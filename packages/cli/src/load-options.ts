import { readFileSync } from "node:fs";
import { type OptionSpec, OptionsError, type ParsedOptions, parseOptions } from "@acapy-bridge/operability";

function configFileArg(argv: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--config") return argv[i + 1];
    if (arg.startsWith("--config=")) return arg.slice("--config=".length);
  }
  return env.ACAPY_BRIDGE_CONFIG || undefined;
}

/**
 * Flags over environment over the optional JSON config file over defaults.
 * The file uses the flags' names: {"redis-url": "...", "http-port": 8020}.
 */
export function loadOptions(
  specs: readonly OptionSpec[],
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): ParsedOptions {
  const file = configFileArg(argv, env);
  const fromFile: NodeJS.ProcessEnv = {};
  if (file) {
    let content: Record<string, unknown>;
    try {
      content = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    } catch (error) {
      throw new OptionsError(`--config ${file}: ${(error as Error).message}`);
    }
    const byName = new Map(specs.map((s) => [s.name, s]));
    for (const [name, value] of Object.entries(content)) {
      const spec = byName.get(name);
      if (!spec) throw new OptionsError(`--config ${file}: unknown option "${name}"`);
      fromFile[spec.env] = Array.isArray(value) ? value.join(",") : String(value);
    }
  }
  return parseOptions(specs, argv, { ...fromFile, ...env });
}
