import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { exited, killChildrenOnExit, trackChild } from "./child-processes.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const REPO_CLI = join(repoRoot, "packages/cli/bin/acapy-bridge.js");

/**
 * The acapy-bridge command to start: $BRIDGE_CLI when set, an installed command run as a user runs
 * it (e.g. node_modules/.bin/acapy-bridge from the packed packages: scripts/test-packages.sh); else
 * the repo's built CLI under this Node, with $BENCH_BRIDGE_NODE_ARGS, Node flags for a bench
 * (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"). Throws when the command is not there.
 */
function bridgeCommand(binScript?: string): { file: string; args: string[] } {
  const nodeArgs = (process.env.BENCH_BRIDGE_NODE_ARGS ?? "").split(" ").filter(Boolean);
  if (binScript) return { file: process.execPath, args: [...nodeArgs, binScript] };
  const installed = process.env.BRIDGE_CLI;
  if (installed) {
    if (!existsSync(installed)) throw new Error(`BRIDGE_CLI=${installed} does not exist`);
    return { file: installed, args: [] };
  }
  if (!existsSync(join(repoRoot, "packages/cli/dist/main.js"))) {
    throw new Error("acapy-bridge is not built: run `npm run build` (npm test does)");
  }
  return { file: process.execPath, args: [...nodeArgs, REPO_CLI] };
}

/** The deliverer's endpoints in tests (sinks, ACA-Py agents) listen on loopback: the target policy must allow it. */
export const LOOPBACK_OUTBOUND_ALLOW_CIDRS = "127.0.0.0/8,::1/128";

/**
 * Flags for a bridge process on loopback: every listener on a free port (read
 * back from its `process.ready` line), info logs (that line is info), and a
 * deliverer allowed to deliver to loopback (refused by default).
 */
export function loopbackBridgeArgs(
  mode: "relay" | "deliverer" | "all",
  redisUrl: string,
  prefix: string,
  extra: string[] = [],
): string[] {
  return [
    "--redis-url",
    redisUrl,
    ...(redisUrl.includes(",") ? ["--cluster"] : []),
    "--prefix",
    prefix,
    ...(mode === "deliverer" ? [] : ["--http-port", "0"]),
    ...(mode === "relay" ? [] : ["--outbound-allow-cidrs", LOOPBACK_OUTBOUND_ALLOW_CIDRS]),
    "--ops-port",
    "0",
    "--grpc-port",
    "0",
    "--log-level",
    "info",
    ...extra,
  ];
}

/** One JSON log line of an acapy-bridge process. */
export type BridgeLogLine = Record<string, unknown> & { event?: string; msg?: string; level?: string };

/**
 * A real `acapy-bridge relay|deliverer|all` process (the built CLI), started
 * with the given flags; resolves once it logged `process.ready`.
 */
export class BridgeProcess {
  private child: ChildProcess | undefined;
  readonly lines: BridgeLogLine[] = [];
  listeners: Record<string, string> = {};

  private constructor(
    readonly mode: string,
    private readonly args: string[],
    private readonly env: Record<string, string>,
    private readonly command: { file: string; args: string[] },
  ) {}

  static async start(
    mode: "relay" | "deliverer" | "all",
    args: string[],
    options: {
      env?: Record<string, string>;
      readyTimeoutMs?: number;
      /** Another copy of the CLI's bin script (the container image's layout); the repository's by default. */
      cli?: string;
      /** The log event to wait for, with its `listeners` (default `process.ready`; `ops.listening` comes before Redis). */
      until?: string;
    } = {},
  ): Promise<BridgeProcess> {
    killChildrenOnExit();
    const bridge = new BridgeProcess(mode, args, options.env ?? {}, bridgeCommand(options.cli));
    await bridge.launch(options.readyTimeoutMs ?? 30_000, options.until ?? "process.ready");
    return bridge;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get isRunning(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** host:port of a listener the process reported (http, ws, ops, grpc). */
  address(name: string): string {
    const value = this.listeners[name];
    if (!value) throw new Error(`${this.mode} reported no "${name}" listener: ${JSON.stringify(this.listeners)}`);
    return value;
  }

  private async launch(readyTimeoutMs: number, until: string): Promise<void> {
    const child = spawn(this.command.file, [...this.command.args, this.mode, ...this.args], {
      env: { ...process.env, ...this.env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    trackChild(child);
    this.child = child;
    let buffered = "";
    let stderr = "";
    const ready = new Promise<void>((resolveReady, rejectReady) => {
      const timer = setTimeout(
        () => rejectReady(new Error(`${this.mode} not ready after ${readyTimeoutMs} ms:\n${stderr}\n${this.tail()}`)),
        readyTimeoutMs,
      );
      child.stdout?.on("data", (chunk: Buffer) => {
        buffered += chunk.toString();
        let newline = buffered.indexOf("\n");
        while (newline !== -1) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          newline = buffered.indexOf("\n");
          try {
            const parsed = JSON.parse(line) as BridgeLogLine;
            this.lines.push(parsed);
            if (this.lines.length > 5000) this.lines.splice(0, 1000);
            if (parsed.event === until || parsed.event === "process.ready") {
              this.listeners = { ...this.listeners, ...(parsed.listeners as Record<string, string>) };
              clearTimeout(timer);
              resolveReady();
            }
          } catch {
            // not a JSON line (should not happen); keep for the failure message
            stderr += `${line}\n`;
          }
          if (process.env.BRIDGE_TEST_LOGS) process.stderr.write(`[${this.mode}] ${line}\n`);
        }
      });
      child.stderr?.on("data", (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-8000);
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        rejectReady(new Error(`${this.mode} exited with ${code} before ready:\n${stderr}\n${this.tail()}`));
      });
    });
    await ready;
  }

  private tail(): string {
    return this.lines
      .slice(-20)
      .map((l) => JSON.stringify(l))
      .join("\n");
  }

  /** Log lines with this event name. */
  events(name: string): BridgeLogLine[] {
    return this.lines.filter((l) => l.event === name);
  }

  /** `kill -9`. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGKILL");
    await exited(child);
  }

  /** SIGTERM (graceful shutdown); resolves with the exit code. */
  async stop(): Promise<number | null> {
    const child = this.child;
    if (!child) return null;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await exited(child);
    }
    return child.exitCode;
  }

  /** Starts again with the same flags. */
  async restart(readyTimeoutMs = 30_000): Promise<void> {
    await this.kill();
    this.listeners = {};
    await this.launch(readyTimeoutMs, "process.ready");
  }
}
