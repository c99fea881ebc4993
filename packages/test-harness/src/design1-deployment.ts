// Mediator Design 1 for tests: ACA-Py instances with their own HTTP and WebSocket transports
// behind two TCP load balancers (one for HTTP, one for WebSockets), one PostgreSQL wallet, Redis.
// With the shim (own_transports) the instances meet in Redis; without it (the control) they are
// plain ACA-Py mediators with the in-memory undelivered queue.
import { DEFAULT_PARTITIONS, Keyspace, partitionCountsOf } from "@acapy-bridge/protocol";
import type { Redis } from "ioredis";
import { AcaPyAdmin } from "./acapy-admin.js";
import { AcaPyProcess } from "./acapy-process.js";
import { freePort } from "./free-port.js";
import type { PostgresServer } from "./postgres-server.js";
import { TcpLoadBalancer } from "./tcp-load-balancer.js";
import { waitFor } from "./wait-for.js";

export interface Design1Instance {
  process: AcaPyProcess;
  label: string;
  httpAddress: string;
  wsAddress: string;
  admin: AcaPyAdmin;
}

export interface Design1Options {
  /** With the acapy-bridge shim in Design 1 mode; false: plain ACA-Py (the control). */
  shim: boolean;
  redisUrl: string;
  prefix: string;
  postgres: PostgresServer;
  /** Extra `-o acapy_bridge_shim.*` settings (e.g. a mediation policy). */
  shimSettings?: string[];
  /** The shared wallet's name in PostgreSQL (one per deployment). */
  walletName?: string;
  /** `--open-mediation` (default); false: the shim's mediation policy decides (set in shimSettings). */
  openMediation?: boolean;
}

/** The balancers' addresses, fixed before the instances start: every instance advertises them. */
export class Design1Deployment {
  readonly instances: Design1Instance[] = [];

  private constructor(
    readonly options: Design1Options,
    readonly httpBalancer: TcpLoadBalancer,
    readonly wsBalancer: TcpLoadBalancer,
  ) {}

  /** Starts `count` instances, the first alone (it provisions the shared wallet and routing DID). */
  static async start(options: Design1Options, count: number): Promise<Design1Deployment> {
    const [httpBalancer, wsBalancer] = await Promise.all([TcpLoadBalancer.start([]), TcpLoadBalancer.start([])]);
    const deployment = new Design1Deployment(options, httpBalancer, wsBalancer);
    // The first instance provisions the shared wallet (and its routing DID) alone.
    await deployment.addInstance("mediator-0");
    for (let i = 1; i < count; i++) await deployment.addInstance(`mediator-${i}`);
    deployment.balanceOver(deployment.instances);
    return deployment;
  }

  /** What wallets and correspondents use: the mediator's HTTP endpoint and its WebSocket URL. */
  get endpoint(): string {
    return this.httpBalancer.url;
  }

  get wsUrl(): string {
    return this.wsBalancer.url.replace("http:", "ws:");
  }

  /** From now on new connections go round robin to these instances only. */
  balanceOver(instances: Design1Instance[]): void {
    this.httpBalancer.setBackends(instances.map((i) => i.httpAddress));
    this.wsBalancer.setBackends(instances.map((i) => i.wsAddress));
  }

  async addInstance(label: string): Promise<Design1Instance> {
    const [httpPort, wsPort] = [await freePort(), await freePort()];
    const o = this.options;
    const shimArgs = o.shim
      ? [
          "--plugin",
          "acapy_bridge_shim",
          "-o",
          `acapy_bridge_shim.redis_url=${o.redisUrl}`,
          `acapy_bridge_shim.prefix=${o.prefix}`,
          "acapy_bridge_shim.own_transports.enabled=true",
          "acapy_bridge_shim.own_transports.janitor_interval_s=1",
          ...(o.shimSettings ?? []),
        ]
      : ["--enable-undelivered-queue"];
    const acapy = await AcaPyProcess.start({
      label,
      walletArgs: o.postgres.walletArgs(o.walletName ?? "mediator"),
      args: [
        ...shimArgs,
        "-it",
        o.shim ? "acapy_bridge_shim.own_transports.durable_http" : "http",
        "127.0.0.1",
        String(httpPort),
        "-it",
        "ws",
        "127.0.0.1",
        String(wsPort),
        "-ot",
        "http",
        "-ot",
        "ws",
        "-e",
        this.endpoint,
        this.wsUrl,
        ...(o.openMediation === false ? [] : ["--open-mediation"]),
        "--auto-accept-invites",
        "--auto-accept-requests",
        ...(process.env.MEDIATOR_LOG_LEVEL ? ["--log-level", process.env.MEDIATOR_LOG_LEVEL] : []),
      ],
    });
    const instance = {
      process: acapy,
      label,
      httpAddress: `127.0.0.1:${httpPort}`,
      wsAddress: `127.0.0.1:${wsPort}`,
      admin: new AcaPyAdmin(acapy.adminUrl),
    };
    this.instances.push(instance);
    return instance;
  }

  /** Waits until every shim instance holds its sockets in Redis (its startup hooks are in place). */
  async socketHoldersUp(redis: Redis): Promise<string[]> {
    const keyspace = new Keyspace(this.options.prefix, partitionCountsOf(DEFAULT_PARTITIONS));
    const members = keyspace.key("members", { role: "relay" });
    return waitFor(
      "every instance's socket holder in the members set",
      async () => {
        const now = Date.now();
        const live = await redis.zrangebyscore(members, now - 10_000, "+inf");
        return live.length >= this.instances.length ? live : undefined;
      },
      30_000,
      100,
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.instances.map((i) => i.process.stop()));
    await Promise.all([this.httpBalancer.close(), this.wsBalancer.close()]);
  }
}
