import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { exited, killChildrenOnExit, trackChild } from "./child-processes.js";
import { freePort } from "./free-port.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/**
 * The aca-py console script: $ACAPY_BIN if set, else the repo's venv (scripts/setup.sh).
 * Throws when neither exists, so a test that needs ACA-Py fails instead of silently not running.
 */
export function acapyBinary(): string {
  const candidates = [process.env.ACAPY_BIN, join(repoRoot, ".venv/bin/aca-py")].filter(Boolean) as string[];
  const found = candidates.find((c) => existsSync(c));
  if (!found)
    throw new Error(`aca-py not found at ${candidates.join(" or ")}: run scripts/setup.sh (or set ACAPY_BIN)`);
  return found;
}

/** The Python of the repo's venv (scripts/setup.sh), which has ACA-Py and its libraries; throws when missing. */
export function venvPython(): string {
  const python = join(repoRoot, ".venv/bin/python");
  if (!existsSync(python)) throw new Error(`${python} not found: run scripts/setup.sh`);
  return python;
}

export interface AcaPyOptions {
  label: string;
  /** Transport and feature flags, e.g. ["-it", "http", "127.0.0.1", "8030", "-ot", "http", "-e", url]. */
  args: string[];
  /** Admin port; a free one when omitted. */
  adminPort?: number;
  /** Protect the admin API with this key (`--admin-api-key`) instead of `--admin-insecure-mode`. */
  adminApiKey?: string;
  env?: Record<string, string>;
  /** Reuse a wallet (e.g. a second instance on the same PostgreSQL wallet). */
  walletName?: string;
  /** Extra wallet flags replacing the default sqlite wallet. */
  walletArgs?: string[];
  readyTimeoutMs?: number;
}

/** A real ACA-Py process with a fresh ACAPY_HOME and a sqlite Askar wallet. */
export class AcaPyProcess {
  private child: ChildProcess | undefined;
  private logTail = "";

  private constructor(
    readonly label: string,
    readonly adminPort: number,
    readonly home: string,
    private readonly argv: string[],
    private readonly env: Record<string, string>,
  ) {}

  static async start(options: AcaPyOptions): Promise<AcaPyProcess> {
    killChildrenOnExit();
    const binary = acapyBinary();
    const adminPort = options.adminPort ?? (await freePort());
    const home = mkdtempSync(join(tmpdir(), `acapy-${options.label}-`));
    const walletName = options.walletName ?? `${options.label}-${Date.now()}`;
    const argv = [
      binary,
      "start",
      "--label",
      options.label,
      "--admin",
      "127.0.0.1",
      String(adminPort),
      ...(options.adminApiKey ? ["--admin-api-key", options.adminApiKey] : ["--admin-insecure-mode"]),
      "--no-ledger",
      ...(options.walletArgs ?? [
        "--wallet-type",
        "askar",
        "--wallet-name",
        walletName,
        "--wallet-key",
        `${walletName}-key`,
        // Test wallets need no slow key stretching.
        "--wallet-key-derivation-method",
        "kdf:argon2i:int",
        "--auto-provision",
      ]),
      ...options.args,
    ];
    const env = {
      ...process.env,
      ACAPY_HOME: home,
      RUST_LOG: "warn",
      PYTHONUNBUFFERED: "1",
      ...(options.env ?? {}),
    } as Record<string, string>;
    const acapy = new AcaPyProcess(options.label, adminPort, home, argv, env);
    await acapy.launch(options.readyTimeoutMs ?? 90_000);
    return acapy;
  }

  get adminUrl(): string {
    return `http://127.0.0.1:${this.adminPort}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The last few KB of ACA-Py's output, for failure messages. */
  get logs(): string {
    return this.logTail;
  }

  private async launch(readyTimeoutMs: number): Promise<void> {
    const [command, ...args] = this.argv as [string, ...string[]];
    const child = spawn(command, args, { env: this.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    trackChild(child);
    const keep = (chunk: Buffer) => {
      this.logTail = (this.logTail + chunk.toString()).slice(-20_000);
      if (process.env.ACAPY_TEST_LOGS) process.stderr.write(`[${this.label}] ${chunk}`);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    this.child = child;
    const deadline = Date.now() + readyTimeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`ACA-Py ${this.label} exited (${child.exitCode}):\n${this.logTail}`);
      try {
        const res = await fetch(`${this.adminUrl}/status/ready`);
        if (res.ok && ((await res.json()) as { ready?: boolean }).ready) return;
      } catch {
        // admin server not up yet
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`ACA-Py ${this.label} not ready after ${readyTimeoutMs} ms:\n${this.logTail}`);
  }

  /** `kill -9` of the whole process group. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    try {
      process.kill(-(child.pid as number), "SIGKILL");
    } catch {
      child.kill("SIGKILL");
    }
    await exited(child);
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null) {
      try {
        process.kill(-(child.pid as number), "SIGTERM");
      } catch {
        child.kill("SIGTERM");
      }
      const timer = setTimeout(() => void this.kill(), graceMs);
      await exited(child);
      clearTimeout(timer);
    }
    rmSync(this.home, { recursive: true, force: true });
  }

  /** Restarts with the same arguments and home (same wallet). */
  async restart(readyTimeoutMs = 90_000): Promise<void> {
    await this.kill();
    await this.launch(readyTimeoutMs);
  }
}
