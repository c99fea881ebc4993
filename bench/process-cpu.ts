import { readFileSync } from "node:fs";

/** CPU time a process has used, in user space and in the kernel. */
export interface CpuTime {
  userMs: number;
  systemMs: number;
}

/** CPU time a process has used so far, from /proc (Linux); undefined elsewhere or once it is gone. */
export function cpuTimeOf(pid: number | undefined): CpuTime | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
    return { userMs: Number(fields[11]) * 10, systemMs: Number(fields[12]) * 10 };
  } catch {
    return undefined;
  }
}

/** Milliseconds of CPU (user + system) used between two readings; undefined if either is missing. */
export function cpuMsBetween(start: CpuTime | undefined, end: CpuTime | undefined): number | undefined {
  if (!start || !end) return undefined;
  return end.userMs - start.userMs + end.systemMs - start.systemMs;
}
