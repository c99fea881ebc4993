import { readFileSync } from "node:fs";

/** CPU time a process has used, in user space and in the kernel. */
export interface CpuTime {
  userMs: number;
  systemMs: number;
}

/** CPU time a process has used so far, from /proc (Linux); undefined elsewhere or once it is gone. */
export function cpuTimeOf(pid: number | undefined): CpuTime | undefined {
  return pid === undefined ? undefined : cpuTimeFromProc(String(pid));
}

/** CPU time one thread has used so far (`procPath`: "<pid>/task/<tid>", what /proc/thread-self links to in that thread). */
export function cpuTimeOfThread(procPath: string | undefined): CpuTime | undefined {
  return procPath === undefined ? undefined : cpuTimeFromProc(procPath);
}

function cpuTimeFromProc(procPath: string): CpuTime | undefined {
  try {
    const stat = readFileSync(`/proc/${procPath}/stat`, "utf8");
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

/** Busy and total CPU time of the whole machine so far (all cores), from /proc/stat. */
function machineTimes(): { busy: number; total: number } | undefined {
  try {
    const cpu = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
    const total = cpu.reduce((a, b) => a + b, 0);
    // idle and iowait
    return { busy: total - (cpu[3] ?? 0) - (cpu[4] ?? 0), total };
  } catch {
    return undefined;
  }
}

/**
 * Where the CPU went during a measurement window: each named part's CPU time
 * per unit of work (µs), and how busy the whole machine was. On a small
 * machine the parts share the cores, so a part's cost per unit explains a
 * throughput better than the throughput alone.
 */
export class CpuBreakdown {
  private readonly startTimes = new Map<string, CpuTime | undefined>();
  private machineAtStart: { busy: number; total: number } | undefined;

  constructor(private readonly parts: Record<string, () => CpuTime | undefined>) {}

  start(): void {
    for (const [name, read] of Object.entries(this.parts)) this.startTimes.set(name, read());
    this.machineAtStart = machineTimes();
  }

  /** µs of CPU per unit by part, and the machine's busy share (0..1) over the window. */
  stop(units: number): { microsPerUnit: Record<string, number>; machineBusy: number | undefined } {
    const microsPerUnit: Record<string, number> = {};
    for (const [name, read] of Object.entries(this.parts)) {
      const ms = cpuMsBetween(this.startTimes.get(name), read());
      if (ms !== undefined && units > 0) microsPerUnit[name] = Math.round((ms * 1000) / units);
    }
    const end = machineTimes();
    const start = this.machineAtStart;
    const machineBusy =
      start && end && end.total > start.total
        ? Number(((end.busy - start.busy) / (end.total - start.total)).toFixed(2))
        : undefined;
    return { microsPerUnit, machineBusy };
  }
}
