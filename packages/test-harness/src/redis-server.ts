import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { exited, killChildrenOnExit, trackChild } from "./child-processes.js";
import { freeClusterPort, freePort } from "./free-port.js";

const run = promisify(execFile);

export const REDIS_SERVER_BIN = process.env.REDIS_SERVER_BIN ?? "redis-server";
export const REDIS_CLI_BIN = process.env.REDIS_CLI_BIN ?? "redis-cli";

export interface RedisServerOptions {
  port?: number;
  /** Extra redis.conf directives as arguments, e.g. ["--appendonly", "yes"]. */
  args?: string[];
  dir?: string;
}

/** A real redis-server child process on 127.0.0.1, with its own data directory. */
export class RedisServer {
  private child: ChildProcess | undefined;
  private output = "";

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly args: string[],
    private readonly ownsDir: boolean,
  ) {}

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    killChildrenOnExit();
    const port = options.port ?? (await freePort());
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), "acapy-bridge-redis-"));
    const server = new RedisServer(port, dir, options.args ?? [], options.dir === undefined);
    await server.launch();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private async launch(): Promise<void> {
    const child = spawn(
      REDIS_SERVER_BIN,
      [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--dir",
        this.dir,
        "--save",
        "",
        "--appendonly",
        "no",
        "--protected-mode",
        "no",
        "--daemonize",
        "no",
        ...this.args,
      ],
      { stdio: ["ignore", "pipe", "pipe"], detached: true },
    );
    trackChild(child);
    child.stdout?.on("data", (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-4000);
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-4000);
    });
    this.child = child;
    await this.waitForPing();
  }

  private async waitForPing(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child?.exitCode !== null && this.child?.exitCode !== undefined) {
        throw new Error(`redis-server on ${this.port} exited: ${this.output}`);
      }
      try {
        const { stdout } = await run(REDIS_CLI_BIN, ["-p", String(this.port), "ping"]);
        if (stdout.trim() === "PONG") return;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`redis-server on ${this.port} did not answer PING: ${this.output}`);
  }

  async cli(...args: string[]): Promise<string> {
    const { stdout } = await run(REDIS_CLI_BIN, ["-p", String(this.port), ...args]);
    return stdout.trim();
  }

  /** `kill -9`: no shutdown, no save. */
  async kill(): Promise<void> {
    if (!this.child) return;
    const child = this.child;
    this.child = undefined;
    child.kill("SIGKILL");
    await exited(child);
  }

  /** Starts again on the same port and directory (AOF, if enabled, is replayed). */
  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  async stop(): Promise<void> {
    await this.kill();
    if (this.ownsDir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A real Redis Cluster of `masters` masters (no replicas) on 127.0.0.1. */
export class RedisCluster {
  private constructor(readonly nodes: RedisServer[]) {}

  static async start(masters = 3): Promise<RedisCluster> {
    const nodes: RedisServer[] = [];
    try {
      for (let i = 0; i < masters; i++) {
        const port = await freeClusterPort();
        nodes.push(
          await RedisServer.start({
            port,
            args: [
              "--cluster-enabled",
              "yes",
              "--cluster-config-file",
              `nodes-${port}.conf`,
              "--cluster-node-timeout",
              "5000",
            ],
          }),
        );
      }
      await run(REDIS_CLI_BIN, [
        "--cluster",
        "create",
        ...nodes.map((n) => `127.0.0.1:${n.port}`),
        "--cluster-replicas",
        "0",
        "--cluster-yes",
      ]);
      const cluster = new RedisCluster(nodes);
      await cluster.waitUntilOk();
      return cluster;
    } catch (error) {
      await Promise.all(nodes.map((n) => n.stop()));
      throw error;
    }
  }

  /** Seed URLs, comma-separated, as the bridge's `--redis-url` takes them. */
  get url(): string {
    return this.nodes.map((n) => n.url).join(",");
  }

  private async waitUntilOk(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const states = await Promise.all(this.nodes.map((n) => n.cli("cluster", "info").catch(() => "")));
      if (states.every((s) => s.includes("cluster_state:ok"))) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error("Redis Cluster did not reach cluster_state:ok");
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }
}
