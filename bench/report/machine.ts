// What the report says about the machine a run was made on: the figures mean little without it.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../bench-process.js";

export interface MachineFacts {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  python: string;
  acapy: string;
  redis: string;
  commit: string;
}

function firstLineOf(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { cwd: repoRoot, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })
      .split("\n")[0]
      ?.trim() as string;
  } catch {
    return "unknown";
  }
}

function osName(): string {
  try {
    const release = readFileSync("/etc/os-release", "utf8");
    return /^PRETTY_NAME="?([^"\n]+)"?/m.exec(release)?.[1] ?? "unknown";
  } catch {
    return "unknown";
  }
}

export function machineFacts(): MachineFacts {
  const venvPython = join(repoRoot, ".venv", "bin", "python");
  return {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    os: osName(),
    node: process.version,
    python: firstLineOf(venvPython, ["--version"]),
    acapy: firstLineOf(venvPython, ["-c", 'import importlib.metadata as m; print(m.version("acapy-agent"))']),
    redis: firstLineOf("redis-server", ["--version"]).replace(/^Redis server v=(\S+).*/, "$1"),
    commit: firstLineOf("git", ["rev-parse", "--short", "HEAD"]),
  };
}
