import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exited, killChildrenOnExit, trackChild } from "./child-processes.js";
import { freePort } from "./free-port.js";

/**
 * The directory of PostgreSQL's binaries (initdb, postgres): $POSTGRES_BIN_DIR if set, else the newest
 * version Debian's package installs (scripts/setup.sh). Throws when there is none, so a test that needs
 * PostgreSQL fails instead of silently not running.
 */
export function postgresBinDir(): string {
  const override = process.env.POSTGRES_BIN_DIR;
  if (override) {
    if (!existsSync(join(override, "postgres"))) throw new Error(`POSTGRES_BIN_DIR=${override} has no postgres binary`);
    return override;
  }
  const base = "/usr/lib/postgresql";
  const versions = existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  const dir = versions.map((v) => join(base, v, "bin")).find((d) => existsSync(join(d, "postgres")));
  if (!dir) throw new Error(`PostgreSQL not found under ${base}: run scripts/setup.sh (or set POSTGRES_BIN_DIR)`);
  return dir;
}

function asPostgresUser(): string[] {
  // initdb and postgres refuse to run as root.
  return process.getuid?.() === 0 ? ["runuser", "-u", "postgres", "--"] : [];
}

/** A throwaway PostgreSQL cluster on 127.0.0.1 with trust authentication (tests only). */
export class PostgresServer {
  private child: ChildProcess | undefined;
  private log = "";

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly bin: string,
  ) {}

  static async start(): Promise<PostgresServer> {
    killChildrenOnExit();
    const bin = postgresBinDir();
    const dir = mkdtempSync(join(tmpdir(), "acapy-bridge-pg-"));
    if (process.getuid?.() === 0) {
      const id = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
      const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
      chownSync(dir, id, gid);
    }
    const [runner, ...runnerArgs] = [...asPostgresUser(), join(bin, "initdb")];
    execFileSync(
      runner as string,
      [...runnerArgs, "-D", join(dir, "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
      {
        stdio: "ignore",
      },
    );
    const server = new PostgresServer(await freePort(), dir, bin);
    await server.launch();
    return server;
  }

  /** Host:port as ACA-Py's postgres_storage config wants it. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  private async launch(): Promise<void> {
    const command = [...asPostgresUser(), join(this.bin, "postgres")];
    const child = spawn(
      command[0] as string,
      [
        ...command.slice(1),
        "-D",
        join(this.dir, "data"),
        "-p",
        String(this.port),
        "-k",
        this.dir,
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "fsync=off",
        "-c",
        "max_connections=200",
      ],
      { stdio: ["ignore", "pipe", "pipe"], detached: true },
    );
    trackChild(child);
    child.stderr?.on("data", (c: Buffer) => {
      this.log = (this.log + c.toString()).slice(-4000);
    });
    this.child = child;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (this.log.includes("ready to accept connections")) return;
      if (child.exitCode !== null) throw new Error(`postgres exited: ${this.log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`postgres did not start: ${this.log}`);
  }

  /** ACA-Py flags for an Askar wallet stored in this server. */
  walletArgs(walletName: string): string[] {
    return [
      "--wallet-type",
      "askar",
      "--wallet-name",
      walletName,
      "--wallet-key",
      `${walletName}-key`,
      "--wallet-key-derivation-method",
      "kdf:argon2i:int",
      "--wallet-storage-type",
      "postgres_storage",
      "--wallet-storage-config",
      JSON.stringify({ url: this.address, max_connections: 10 }),
      "--wallet-storage-creds",
      JSON.stringify({
        account: "postgres",
        password: "postgres",
        admin_account: "postgres",
        admin_password: "postgres",
      }),
      "--auto-provision",
    ];
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null) {
      try {
        process.kill(-(child.pid as number), "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
      await exited(child);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
