import type { ChildProcess } from "node:child_process";

// Every process a test starts is registered here, so that an aborted run
// (a failing test, Ctrl-C, an uncaught error) still leaves nothing behind.
const children = new Set<ChildProcess>();

export function trackChild(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

export function killAllChildren(signal: NodeJS.Signals = "SIGKILL"): void {
  for (const child of children) {
    if (child.exitCode === null && child.pid !== undefined) {
      try {
        // Started detached: kill the whole group (ACA-Py spawns helpers).
        process.kill(-child.pid, signal);
      } catch {
        child.kill(signal);
      }
    }
  }
}

let hooked = false;
export function killChildrenOnExit(): void {
  if (hooked) return;
  hooked = true;
  process.once("exit", () => killAllChildren());
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      killAllChildren();
      process.exit(130);
    });
  }
}

/** Resolves when the child has exited (immediately if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}
