import { timingSafeEqual } from "node:crypto";
import {
  ControlService,
  DEFAULT_DEAD_AFTER_MS,
  DropDeadLettersResponseSchema,
  type Keyspace,
  ListDeadLettersResponseSchema,
  ListInstancesResponseSchema,
  ListPartitionsResponseSchema,
  type RedisClient,
  RequeueDeadLettersResponseSchema,
} from "@acapy-bridge/protocol";
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import { controlBindProblem } from "./bind-policy.js";
import { ControlError, ControlQueries, type ControlWarnings } from "./control-queries.js";
import { maskDeadLetterSecrets } from "./dead-letter-secrets.js";
import { grpcImplementation, grpcServiceDefinition } from "./grpc-adapter.js";

export interface ControlServerOptions {
  client: RedisClient;
  keyspace: Keyspace;
  /** True while the process can do its job (Redis reachable, loops running). */
  isServing: () => boolean;
  /** Optional bearer token; when set every ControlService call must present it. */
  token?: string | undefined;
  /** Serve TLS (PEM contents); with `clientCa`, clients must present a certificate it signed. */
  tls?: { cert: string | Buffer; key: string | Buffer; clientCa?: string | Buffer | undefined } | undefined;
  healthPollMs?: number;
  /** Where problems beside a request's answer are logged (a wallet count not updated). */
  logger?: ControlWarnings;
}

export class ControlBindError extends Error {
  override name = "ControlBindError";
}

function authorized(token: string | undefined, metadata: grpc.Metadata): boolean {
  if (!token) return true;
  const presented = String(metadata.get("authorization")[0] ?? "").replace(/^Bearer /i, "");
  const a = Buffer.from(presented);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * grpc.health.v1.Health (overall "" and per service) plus the ControlService,
 * on a separate, normally loopback-only port.
 */
export class ControlServer {
  private readonly server = new grpc.Server();
  private readonly health = new HealthImplementation({ "": "NOT_SERVING", [ControlService.typeName]: "NOT_SERVING" });
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ControlServerOptions) {
    const queries = new ControlQueries(options.client, options.keyspace, options.logger);
    this.health.addToServer(this.server);
    const guard =
      <T>(fn: (request: T) => Promise<unknown>) =>
      async (request: T) => {
        try {
          return await fn(request);
        } catch (error) {
          if (error instanceof ControlError) throw error;
          throw Object.assign(new Error(`control request failed: ${(error as Error).message}`), {
            code: grpc.status.UNAVAILABLE,
          });
        }
      };
    const implementation = grpcImplementation(ControlService, {
      listPartitions: guard(async (r: { family: number }) =>
        create(ListPartitionsResponseSchema, { partitions: await queries.listPartitions(r.family) }),
      ),
      listInstances: guard(async () => {
        const { instances, lastHeartbeatMs } = await queries.listInstances();
        return create(ListInstancesResponseSchema, { instances, lastHeartbeatMs });
      }),
      listDeadLetters: guard(async (r: { family: number; limit: number; showSecrets: boolean }) => {
        const entries = await queries.listDeadLetters(r.family, r.limit || 100);
        return create(ListDeadLettersResponseSchema, {
          entries: r.showSecrets ? entries : entries.map(maskDeadLetterSecrets),
        });
      }),
      requeueDeadLetters: guard(async (r: { refs: never[] }) =>
        create(RequeueDeadLettersResponseSchema, { requeued: await queries.requeueDeadLetters(r.refs) }),
      ),
      dropDeadLetters: guard(async (r: { refs: never[] }) =>
        create(DropDeadLettersResponseSchema, { dropped: await queries.dropDeadLetters(r.refs) }),
      ),
      getWallet: guard(async (r: { recipientKey: string }) => queries.getWallet(r.recipientKey, DEFAULT_DEAD_AFTER_MS)),
    } as never);
    // Authorization is checked before any handler runs.
    const guarded: grpc.UntypedServiceImplementation = {};
    for (const [name, handler] of Object.entries(implementation)) {
      guarded[name] = ((call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        if (!authorized(options.token, call.metadata)) {
          callback({
            code: grpc.status.UNAUTHENTICATED,
            details: "missing or wrong bearer token",
          } as grpc.ServiceError);
          return;
        }
        (handler as grpc.handleUnaryCall<unknown, unknown>)(call, callback);
      }) as grpc.UntypedHandleCall;
    }
    this.server.addService(grpcServiceDefinition(ControlService), guarded);
  }

  /**
   * Binds (port 0 = any free port) and starts reporting health. Returns the bound port.
   * Refuses, before binding, a host beyond loopback when no token is set.
   */
  async listen(host: string, port: number): Promise<number> {
    const problem = controlBindProblem(host, this.options.token);
    if (problem) throw new ControlBindError(problem);
    const bound = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(
        `${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${port}`,
        this.credentials(),
        (error, p) => (error ? reject(error) : resolve(p)),
      ),
    );
    this.refreshHealth();
    this.timer = setInterval(() => this.refreshHealth(), this.options.healthPollMs ?? 500);
    this.timer.unref();
    return bound;
  }

  private credentials(): grpc.ServerCredentials {
    const tls = this.options.tls;
    if (!tls) return grpc.ServerCredentials.createInsecure();
    return grpc.ServerCredentials.createSsl(
      tls.clientCa === undefined ? null : Buffer.from(tls.clientCa),
      [{ cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) }],
      tls.clientCa !== undefined,
    );
  }

  private refreshHealth(): void {
    const status = this.options.isServing() ? "SERVING" : "NOT_SERVING";
    this.health.setStatus("", status);
    this.health.setStatus(ControlService.typeName, status);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.health.setStatus("", "NOT_SERVING");
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
  }
}
