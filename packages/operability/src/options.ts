/**
 * Declarative options: each one has a flag, an environment variable, a
 * default and a validator, so that flags, environment and `--help` can never
 * disagree. Flags win over environment, environment over defaults.
 */
export type OptionValue = string | number | boolean | string[];

export interface OptionSpec<T extends OptionValue = OptionValue> {
  /** Flag name without dashes, e.g. "redis-url". */
  name: string;
  /** Environment variable, e.g. "ACAPY_BRIDGE_REDIS_URL". */
  env: string;
  kind: "string" | "integer" | "number" | "boolean" | "list";
  default?: T;
  /** Omit from --help defaults and logs (passwords). */
  secret?: boolean;
  description: string;
  /** Returns an error message for an invalid value. */
  validate?: (value: T & never) => string | undefined;
}

export class OptionsError extends Error {
  override name = "OptionsError";
}

export type ParsedOptions = Record<string, OptionValue | undefined>;

function convert(spec: OptionSpec, raw: string, source: string): OptionValue {
  switch (spec.kind) {
    case "string":
      return raw;
    case "list":
      return raw
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
    case "boolean":
      if (["true", "1", "yes", "on", ""].includes(raw.toLowerCase())) return true;
      if (["false", "0", "no", "off"].includes(raw.toLowerCase())) return false;
      throw new OptionsError(`${source}: expected true or false, got "${raw}"`);
    case "integer": {
      const n = Number(raw);
      if (!Number.isInteger(n)) throw new OptionsError(`${source}: expected an integer, got "${raw}"`);
      return n;
    }
    case "number": {
      const n = Number(raw);
      if (!Number.isFinite(n)) throw new OptionsError(`${source}: expected a number, got "${raw}"`);
      return n;
    }
  }
}

/** Parses `--name value`, `--name=value` and `--flag` / `--no-flag` for booleans. */
export function parseOptions(
  specs: readonly OptionSpec[],
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): ParsedOptions {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const fromFlags = new Map<string, OptionValue>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith("--")) throw new OptionsError(`unexpected argument "${arg}"`);
    let [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    let negated = false;
    if (!byName.has(name) && name.startsWith("no-") && byName.get(name.slice(3))?.kind === "boolean") {
      name = name.slice(3);
      negated = true;
    }
    const spec = byName.get(name);
    if (!spec) throw new OptionsError(`unknown option --${name} (see --help)`);
    let raw = inline;
    if (spec.kind === "boolean") {
      fromFlags.set(name, negated ? false : raw === undefined ? true : convert(spec, raw, `--${name}`));
      continue;
    }
    if (raw === undefined) {
      raw = argv[++i];
      if (raw === undefined) throw new OptionsError(`--${name} needs a value`);
    }
    fromFlags.set(name, convert(spec, raw, `--${name}`));
  }
  const parsed: ParsedOptions = {};
  for (const spec of specs) {
    let value: OptionValue | undefined = spec.default;
    const envRaw = env[spec.env];
    if (envRaw !== undefined && envRaw !== "") value = convert(spec, envRaw, spec.env);
    if (fromFlags.has(spec.name)) value = fromFlags.get(spec.name);
    if (value !== undefined && spec.validate) {
      const problem = spec.validate(value as never);
      if (problem) throw new OptionsError(`--${spec.name} / ${spec.env}: ${problem}`);
    }
    parsed[spec.name] = value;
  }
  return parsed;
}

export function formatHelp(title: string, specs: readonly OptionSpec[]): string {
  const lines = [title, "", "Options (flag / environment variable, default):"];
  for (const spec of specs) {
    const def = spec.default === undefined ? "none" : spec.secret ? "***" : JSON.stringify(spec.default);
    lines.push(`  --${spec.name}  (${spec.env}, default ${def})`, `      ${spec.description}`);
  }
  return lines.join("\n");
}

/** The options as they may be logged: secrets hidden. */
export function redactOptions(specs: readonly OptionSpec[], parsed: ParsedOptions): ParsedOptions {
  const out: ParsedOptions = {};
  for (const spec of specs) out[spec.name] = spec.secret && parsed[spec.name] !== undefined ? "***" : parsed[spec.name];
  return out;
}

/** Validators used by many options. */
export const check = {
  port: (v: number) => (v >= 0 && v <= 65535 ? undefined : "must be a port number 0..65535"),
  positive: (v: number) => (v > 0 ? undefined : "must be greater than 0"),
  nonNegative: (v: number) => (v >= 0 ? undefined : "must be 0 or greater"),
  nonEmpty: (v: string) => (v.trim() !== "" ? undefined : "must not be empty"),
};
