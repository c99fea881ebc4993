// Many sockets in one process need as many descriptors: a bench that opens 100,000 sessions raises
// its own open-files limit (children, the relay among them, inherit it) instead of asking the user to.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

function openFilesLimits(): { soft: number; hard: number } {
  const row = readFileSync("/proc/self/limits", "utf8")
    .split("\n")
    .find((line) => line.startsWith("Max open files"));
  const [soft, hard] = (row ?? "").slice("Max open files".length).trim().split(/\s+/);
  const parse = (value: string | undefined) => (value === "unlimited" ? Number.POSITIVE_INFINITY : Number(value));
  return { soft: parse(soft), hard: parse(hard) };
}

/**
 * Raises this process's open-files limit to at least `needed` with util-linux `prlimit` (raising
 * the hard limit needs root or CAP_SYS_RESOURCE). Throws with what to do when it cannot.
 */
export function ensureOpenFilesLimit(needed: number): number {
  const { soft, hard } = openFilesLimits();
  if (soft >= needed) return soft;
  const target = Math.max(needed, Number.isFinite(hard) && hard >= needed ? hard : needed);
  try {
    execFileSync("prlimit", ["--pid", String(process.pid), `--nofile=${target}:${target}`], { stdio: "pipe" });
  } catch (error) {
    throw new Error(
      `this run needs ${needed} open files but the limit is ${soft} (hard ${hard}) and prlimit could not raise it ` +
        `(${(error as Error).message.split("\n")[0]}): run it as root, or raise the limit first (ulimit -n ${needed})`,
    );
  }
  return openFilesLimits().soft;
}
