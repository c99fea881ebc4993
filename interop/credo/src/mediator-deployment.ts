// The deployment a Credo wallet meets in the interop tests: ACA-Py mediators (one PostgreSQL wallet)
// behind relay processes and a TCP load balancer, a deliverer, real Redis; and a plain ACA-Py agent
// over HTTP as the wallet's correspondent. Also a plain ACA-Py mediator without the bridge (the control).
import { randomUUID } from "node:crypto";
import {
  DEFAULT_PARTITIONS,
  decodeEnvelope,
  Keyspace,
  partitionCountsOf,
  type WalletPickup,
  WalletPickupSchema,
  type WalletPushDevice,
  WalletPushDeviceSchema,
  type WalletRoute,
  WalletRouteSchema,
} from "@acapy-bridge/protocol";
import {
  AcaPyAdmin,
  AcaPyProcess,
  BridgeProcess,
  freePort,
  loopbackBridgeArgs,
  PostgresServer,
  TcpLoadBalancer,
  uniquePrefix,
} from "@acapy-bridge/test-harness";
import type { Redis } from "ioredis";
import { CredoWallet } from "./credo-wallet.js";
import type { WalletSettings } from "./credo-wallet-process.js";

const INBOUND_PARTITIONS = 4;
/** Fast heartbeats and janitor rounds, as in the other mediator end-to-end tests. */
const RELAY_FLAGS = ["--ws-heartbeat-ms", "1000", "--janitor-interval-ms", "1000"];

/**
 * Endpoints a mediator advertises: HTTP first, the one its grants name, so that a correspondent's
 * forwards are POSTs that fail visibly (and are sent again) when a relay dies under them, where a
 * WebSocket frame has no answer; WebSocket second, for Credo, which opens its long-lived session
 * (Implicit and live-mode pickup) only to a mediator that advertises a ws:// service.
 */
function mediatorEndpointArgs(httpUrl: string): string[] {
  return ["-e", httpUrl, httpUrl.replace("http:", "ws:")];
}

const MEDIATOR_FLAGS = ["--open-mediation", "--auto-accept-invites", "--auto-accept-requests"];

function shimArgs(redisUrl: string, prefix: string): string[] {
  return [
    "--plugin",
    "acapy_bridge_shim",
    "-o",
    `acapy_bridge_shim.redis_url=${redisUrl}`,
    `acapy_bridge_shim.prefix=${prefix}`,
    `acapy_bridge_shim.partitions.inbound=${INBOUND_PARTITIONS}`,
    "-it",
    "acapy_bridge_shim.inbound",
    "127.0.0.1",
    "0",
    "-ot",
    "acapy_bridge_shim.outbound",
  ];
}

/** An out-of-band invitation (DID Exchange 1.1) of an ACA-Py agent, as a URL a wallet scans. */
export async function invitationUrl(admin: AcaPyAdmin, label: string): Promise<{ url: string; invitationId: string }> {
  const result = await admin.request<{ invitation_url: string; invitation: { "@id": string } }>(
    "POST",
    "/out-of-band/create-invitation?auto_accept=true",
    { handshake_protocols: ["https://didcomm.org/didexchange/1.1"], my_label: label, use_public_did: false },
  );
  return { url: result.invitation_url, invitationId: result.invitation["@id"] };
}

/** The agent's side of the connection made from its invitation, once it is active. */
export function connectionFromInvitation(admin: AcaPyAdmin, invitationId: string, timeoutMs = 30_000): Promise<string> {
  return admin.connectionFromInvitation(invitationId, timeoutMs);
}

/** A plain ACA-Py agent with its own HTTP transport (and WebSocket out, to reach ws:// mediators). */
export async function plainAgent(label: string, extraArgs: string[] = []): Promise<AcaPyProcess> {
  const port = await freePort();
  return AcaPyProcess.start({
    label,
    args: [
      "-it",
      "http",
      "127.0.0.1",
      String(port),
      "-ot",
      "http",
      "-ot",
      "ws",
      "-e",
      `http://127.0.0.1:${port}`,
      "--auto-accept-invites",
      "--auto-accept-requests",
      ...extraArgs,
    ],
  });
}

/** A plain ACA-Py mediator without the bridge: its own HTTP and WebSocket transports (the control). */
export async function plainMediator(label: string): Promise<AcaPyProcess> {
  const [httpPort, wsPort] = [await freePort(), await freePort()];
  return AcaPyProcess.start({
    label,
    args: [
      "-it",
      "http",
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
      `ws://127.0.0.1:${wsPort}`,
      `http://127.0.0.1:${httpPort}`,
      // ACA-Py's own queue for messages to a wallet without a session (in memory): its best setting.
      "--enable-undelivered-queue",
      ...MEDIATOR_FLAGS,
    ],
  });
}

export class CredoMediatorDeployment {
  readonly prefix = uniquePrefix("credo-interop");
  readonly relays: BridgeProcess[] = [];
  /** The instance id of each relay in `relays` (the id a wallet route names). */
  readonly relayIds: string[] = [];
  readonly mediators: AcaPyProcess[] = [];
  deliverer: BridgeProcess | undefined;
  balancer!: TcpLoadBalancer;
  postgres!: PostgresServer;
  readonly keyspace: Keyspace;

  private constructor(readonly redisUrl: string) {
    this.keyspace = new Keyspace(
      this.prefix,
      partitionCountsOf({ ...DEFAULT_PARTITIONS, inboundPartitions: INBOUND_PARTITIONS }),
    );
  }

  private bridgeArgs(mode: "relay" | "deliverer", instanceId?: string, extra: string[] = []): string[] {
    return loopbackBridgeArgs(mode, this.redisUrl, this.prefix, [
      "--inbound-partitions",
      String(INBOUND_PARTITIONS),
      ...(mode === "relay" ? RELAY_FLAGS : []),
      ...(instanceId ? ["--instance-id", instanceId] : []),
      ...extra,
    ]);
  }

  /**
   * `relays` relay processes behind one load balancer, `mediators` ACA-Py mediators on one PostgreSQL
   * wallet; `delivererArgs`: more flags for the deliverer (push notification services).
   */
  static async start(
    redisUrl: string,
    options: { relays: number; mediators: number; delivererArgs?: string[] },
  ): Promise<CredoMediatorDeployment> {
    const d = new CredoMediatorDeployment(redisUrl);
    try {
      d.relayIds.push(...Array.from({ length: options.relays }, (_, i) => `relay-${i}-${randomUUID().slice(0, 8)}`));
      const [postgres, deliverer, ...relays] = await Promise.all([
        PostgresServer.start(),
        BridgeProcess.start("deliverer", d.bridgeArgs("deliverer", undefined, options.delivererArgs)),
        ...d.relayIds.map((id) => BridgeProcess.start("relay", d.bridgeArgs("relay", id))),
      ]);
      d.postgres = postgres;
      d.deliverer = deliverer;
      d.relays.push(...relays);
      d.balancer = await TcpLoadBalancer.start(d.relays.map((r) => r.address("http")));
      for (let i = 0; i < options.mediators; i++) {
        // One after the other: the first provisions the shared wallet.
        d.mediators.push(
          await AcaPyProcess.start({
            label: `mediator-${i}`,
            walletArgs: postgres.walletArgs("mediator"),
            args: [...shimArgs(redisUrl, d.prefix), ...mediatorEndpointArgs(d.balancer.url), ...MEDIATOR_FLAGS],
          }),
        );
      }
    } catch (error) {
      await d.stop();
      throw error;
    }
    return d;
  }

  /** Stops the deliverer (`kill -9` when `killed`) and starts another instance with `delivererArgs`. */
  async replaceDeliverer(delivererArgs: string[], how: "stop" | "kill" = "stop"): Promise<BridgeProcess> {
    if (how === "kill") await this.deliverer?.kill();
    else await this.deliverer?.stop();
    this.deliverer = await BridgeProcess.start("deliverer", this.bridgeArgs("deliverer", undefined, delivererArgs));
    return this.deliverer;
  }

  mediatorAdmin(index = 0): AcaPyAdmin {
    return new AcaPyAdmin((this.mediators[index] as AcaPyProcess).adminUrl);
  }

  /** Points the load balancer at the relays still running. */
  refreshBalancer(): void {
    this.balancer.setBackends(this.relays.filter((r) => r.isRunning).map((r) => r.address("http")));
  }

  /** Every wallet mailbox key in the deployment (the wallets' keys are Credo's, unknown to the test). */
  async mailboxKeys(redis: Redis): Promise<string[]> {
    return redis.keys(this.keyspace.key("walletMailbox", { recipient: "*" }));
  }

  /** Messages waiting in all the deployment's wallet mailboxes. */
  async waitingInMailboxes(redis: Redis): Promise<number> {
    const lengths = await Promise.all((await this.mailboxKeys(redis)).map((key) => redis.llen(key)));
    return lengths.reduce((sum, n) => sum + n, 0);
  }

  /** The Message Pickup 2.0 state the shims keep for each wallet key that used it. */
  async pickupStates(redis: Redis): Promise<WalletPickup[]> {
    const keys = await redis.keys(this.keyspace.key("walletPickup", { recipient: "*" }));
    const values = await Promise.all(keys.map((key) => redis.getBuffer(key)));
    return values.filter((v): v is Buffer => v !== null).map((v) => decodeEnvelope(WalletPickupSchema, v));
  }

  /** The push devices wallets registered (set-device-info), by wallet key. */
  async pushDevices(redis: Redis): Promise<Map<string, WalletPushDevice>> {
    const pattern = this.keyspace.key("walletPushDevice", { recipient: "*" });
    const keys = await redis.keys(pattern);
    const devices = new Map<string, WalletPushDevice>();
    for (const key of keys) {
      const value = await redis.getBuffer(key);
      const wallet = /\{w:(.*)\}/.exec(key)?.[1];
      if (value && wallet) devices.set(wallet, decodeEnvelope(WalletPushDeviceSchema, value));
    }
    return devices;
  }

  /** Messages waiting in one wallet's mailbox. */
  mailboxDepth(redis: Redis, walletKey: string): Promise<number> {
    return redis.llen(this.keyspace.key("walletMailbox", { recipient: walletKey }));
  }

  /** The live routes of all wallets: which relay holds each wallet's socket. */
  async routes(redis: Redis): Promise<WalletRoute[]> {
    const keys = await redis.keys(this.keyspace.key("walletRoute", { recipient: "*" }));
    const values = await Promise.all(keys.map((key) => redis.getBuffer(key)));
    return values.filter((v): v is Buffer => v !== null).map((v) => decodeEnvelope(WalletRouteSchema, v));
  }

  async stop(): Promise<void> {
    const steps: (() => Promise<unknown> | undefined)[] = [
      ...this.mediators.map((m) => () => m.stop()),
      ...this.relays.map((r) => () => r.stop()),
      () => this.deliverer?.stop(),
      () => this.balancer?.close(),
      () => this.postgres?.stop(),
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

/**
 * A Credo wallet mediated by `mediator` (it scans the mediator's invitation, as Bifold does), then
 * connected to `correspondent` by the correspondent's invitation; returns the wallet and the
 * correspondent's connection id to it.
 */
export async function credoWalletConnectedTo(
  mediator: AcaPyAdmin,
  correspondent: AcaPyAdmin,
  settings: Omit<WalletSettings, "mediatorInvitationUrl">,
): Promise<{ wallet: CredoWallet; connectionId: string }> {
  const mediatorInvitation = await invitationUrl(mediator, "mediator");
  const wallet = await CredoWallet.start({ ...settings, mediatorInvitationUrl: mediatorInvitation.url });
  try {
    const invitation = await invitationUrl(correspondent, "correspondent");
    await wallet.acceptInvitation(invitation.url);
    return { wallet, connectionId: await connectionFromInvitation(correspondent, invitation.invitationId) };
  } catch (error) {
    await wallet.stop();
    throw error;
  }
}
