import { AcaPyAdmin } from "./acapy-admin.js";
import { AcaPyProcess } from "./acapy-process.js";
import { BridgeProcess, loopbackBridgeArgs } from "./bridge-process.js";
import { freePort } from "./free-port.js";
import { PostgresServer } from "./postgres-server.js";
import { RedisServer } from "./redis-server.js";
import { TcpLoadBalancer } from "./tcp-load-balancer.js";
import { uniquePrefix } from "./test-prefix.js";
import { WebhookSink } from "./webhook-sink.js";

export interface DeploymentOptions {
  /** "split": separate relay and deliverer processes (Design 1); "combined": `all` processes (Design 2). */
  shape: "split" | "combined";
  bridgeInstances: number;
  aliceInstances: number;
  /** Redis flags, e.g. ["--appendonly", "yes", "--appendfsync", "always"]. */
  redisArgs?: string[];
  /** Extra flags for every bridge process. */
  bridgeArgs?: string[];
  /** Extra ACA-Py flags for Alice. */
  aliceArgs?: string[];
  /** Alice answers every basic message (default true). */
  aliceAutoResponds?: boolean;
}

/** Alice's ACA-Py flags when she is entirely behind the bridge. */
export function aliceBehindBridgeArgs(redisUrl: string, prefix: string, endpoint: string): string[] {
  return [
    "--plugin",
    "acapy_bridge_shim",
    "-o",
    `acapy_bridge_shim.redis_url=${redisUrl}`,
    `acapy_bridge_shim.prefix=${prefix}`,
    // Webhooks as jobs in Redis for the deliverers: they survive a kill -9 of ACA-Py, ACA-Py's own posting does not.
    "acapy_bridge_shim.events.webhooks_via_deliverer=true",
    "-it",
    "acapy_bridge_shim.inbound",
    "127.0.0.1",
    "0",
    "-ot",
    "acapy_bridge_shim.outbound",
    "-ot",
    "http",
    "-e",
    endpoint,
  ];
}

const AUTO = ["--auto-accept-invites", "--auto-accept-requests", "--monitor-ping"];

/**
 * A whole local deployment: Redis, relay/deliverer processes behind a load
 * balancer, Alice's ACA-Py instances behind the bridge (one PostgreSQL wallet
 * when there are several), and a plain ACA-Py Bob. Every part is real.
 */
export class BridgeDeployment {
  readonly relays: BridgeProcess[] = [];
  readonly deliverers: BridgeProcess[] = [];
  readonly alices: AcaPyProcess[] = [];
  postgres: PostgresServer | undefined;
  bob!: AcaPyProcess;
  bobPort = 0;
  redis!: RedisServer;
  balancer!: TcpLoadBalancer;
  aliceHooks!: WebhookSink;
  bobHooks!: WebhookSink;
  readonly prefix = uniquePrefix("deploy");

  private constructor(readonly options: DeploymentOptions) {}

  static async start(options: DeploymentOptions): Promise<BridgeDeployment> {
    const d = new BridgeDeployment(options);
    try {
      await d.launch();
    } catch (error) {
      await d.stop();
      throw error;
    }
    return d;
  }

  get aliceAdmins(): AcaPyAdmin[] {
    return this.alices.map((a) => new AcaPyAdmin(a.adminUrl));
  }

  get bobAdmin(): AcaPyAdmin {
    return new AcaPyAdmin(this.bob.adminUrl);
  }

  /** Every bridge process (relays, deliverers, or the `all` processes). */
  get bridges(): BridgeProcess[] {
    return [...new Set([...this.relays, ...this.deliverers])];
  }

  private bridgeArgs(mode: "relay" | "deliverer" | "all"): string[] {
    return loopbackBridgeArgs(mode, this.redis.url, this.prefix, this.options.bridgeArgs);
  }

  private async launch(): Promise<void> {
    const o = this.options;
    this.redis = await RedisServer.start({ args: o.redisArgs ?? [] });
    for (let i = 0; i < o.bridgeInstances; i++) {
      if (o.shape === "combined") {
        const all = await BridgeProcess.start("all", this.bridgeArgs("all"));
        this.relays.push(all);
        this.deliverers.push(all);
      } else {
        this.relays.push(await BridgeProcess.start("relay", this.bridgeArgs("relay")));
        this.deliverers.push(await BridgeProcess.start("deliverer", this.bridgeArgs("deliverer")));
      }
    }
    this.balancer = await TcpLoadBalancer.start(this.relays.map((r) => r.address("http")));
    this.aliceHooks = await WebhookSink.start();
    this.bobHooks = await WebhookSink.start();
    if (o.aliceInstances > 1) this.postgres = await PostgresServer.start();
    for (let i = 0; i < o.aliceInstances; i++) {
      this.alices.push(
        await AcaPyProcess.start({
          label: `alice${i}`,
          walletArgs: this.postgres?.walletArgs("alice"),
          args: [
            ...aliceBehindBridgeArgs(this.redis.url, this.prefix, this.balancer.url),
            "--webhook-url",
            this.aliceHooks.url,
            ...(o.aliceAutoResponds === false ? [] : ["--auto-respond-messages"]),
            ...AUTO,
            ...(o.aliceArgs ?? []),
          ],
        }),
      );
    }
    this.bobPort = await freePort();
    this.bob = await AcaPyProcess.start({
      label: "bob",
      args: [
        "-it",
        "http",
        "127.0.0.1",
        String(this.bobPort),
        "-ot",
        "http",
        "-e",
        `http://127.0.0.1:${this.bobPort}`,
        "--webhook-url",
        this.bobHooks.url,
        ...AUTO,
      ],
    });
  }

  /** Points the load balancer at the relays that are currently running. */
  refreshBalancer(): void {
    this.balancer.setBackends(this.relays.map((r) => r.listeners.http).filter((a): a is string => Boolean(a)));
  }

  async stop(): Promise<void> {
    const steps: (() => Promise<unknown> | undefined)[] = [
      ...this.alices.map((a) => () => a.stop()),
      () => this.bob?.stop(),
      ...this.bridges.map((b) => () => b.stop()),
      () => this.balancer?.close(),
      () => this.aliceHooks?.close(),
      () => this.bobHooks?.close(),
      () => this.postgres?.stop(),
      () => this.redis?.stop(),
    ];
    for (const step of steps) {
      try {
        await step();
      } catch {
        // keep tearing down
      }
    }
  }
}
