import { describe, expect, it } from "vitest";
import { check, formatHelp, type OptionSpec, OptionsError, parseOptions, redactOptions } from "./options.js";

const specs: OptionSpec[] = [
  { name: "http-port", env: "T_HTTP_PORT", kind: "integer", default: 8020, description: "port", validate: check.port },
  { name: "redis-url", env: "T_REDIS_URL", kind: "string", description: "url" },
  { name: "password", env: "T_PASSWORD", kind: "string", secret: true, description: "secret" },
  { name: "cluster", env: "T_CLUSTER", kind: "boolean", default: false, description: "cluster" },
  { name: "origins", env: "T_ORIGINS", kind: "list", default: [], description: "origins" },
];

describe("options", () => {
  it("takes flags over environment over defaults", () => {
    const parsed = parseOptions(specs, ["--http-port=9000", "--cluster", "--origins", "a, b"], {
      T_HTTP_PORT: "8999",
      T_REDIS_URL: "redis://x",
    });
    expect(parsed).toMatchObject({ "http-port": 9000, "redis-url": "redis://x", cluster: true, origins: ["a", "b"] });
    expect(parseOptions(specs, ["--no-cluster"], { T_CLUSTER: "true" }).cluster).toBe(false);
  });

  it("rejects unknown flags, bad numbers and invalid values with the option's name", () => {
    expect(() => parseOptions(specs, ["--nope"], {})).toThrow(/unknown option --nope/);
    expect(() => parseOptions(specs, ["--http-port", "x"], {})).toThrow(OptionsError);
    expect(() => parseOptions(specs, [], { T_HTTP_PORT: "70000" })).toThrow(/T_HTTP_PORT: must be a port/);
  });

  it("hides secrets in help and logs", () => {
    const parsed = parseOptions(specs, ["--password", "hunter2"], {});
    expect(redactOptions(specs, parsed).password).toBe("***");
    expect(formatHelp("t", specs)).toContain("--http-port  (T_HTTP_PORT, default 8020)");
  });
});
