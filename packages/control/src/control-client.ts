import {
  ControlService,
  type DeadLetterRef,
  DeadLetterRefSchema,
  DropDeadLettersRequestSchema,
  GetWalletRequestSchema,
  ListDeadLettersRequestSchema,
  ListInstancesRequestSchema,
  ListPartitionsRequestSchema,
  type QueueFamily,
  RequeueDeadLettersRequestSchema,
} from "@acapy-bridge/protocol";
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { grpcClient } from "./grpc-adapter.js";

/** TLS to the control API (PEM contents): `ca` to trust (system CAs otherwise), `cert`/`key` for mutual TLS. */
export interface ControlClientTls {
  ca?: string | Buffer | undefined;
  cert?: string | Buffer | undefined;
  key?: string | Buffer | undefined;
}

function channelCredentials(tls: ControlClientTls | undefined): grpc.ChannelCredentials {
  if (!tls) return grpc.credentials.createInsecure();
  const pem = (v: string | Buffer | undefined) => (v === undefined ? null : Buffer.from(v));
  return grpc.credentials.createSsl(pem(tls.ca), pem(tls.key), pem(tls.cert));
}

/** A client of one process's control API (what `acapy-bridge status` and `dlq` use). */
export class ControlClient {
  private readonly client;
  private readonly healthClient: grpc.Client;

  constructor(
    readonly address: string,
    private readonly token?: string,
    tls?: ControlClientTls,
  ) {
    this.client = grpcClient(ControlService, address, channelCredentials(tls));
    this.healthClient = new grpc.Client(address, channelCredentials(tls));
  }

  private metadata(): grpc.Metadata {
    const metadata = new grpc.Metadata();
    if (this.token) metadata.set("authorization", `Bearer ${this.token}`);
    return metadata;
  }

  private call<K extends keyof typeof ControlService.method>(name: K, request: unknown) {
    const method = ControlService.method[name];
    return this.client.call(method as never, request as never, 10_000, this.metadata()) as Promise<never>;
  }

  listPartitions(family: QueueFamily) {
    return this.call("listPartitions", create(ListPartitionsRequestSchema, { family }));
  }

  listInstances() {
    return this.call("listInstances", create(ListInstancesRequestSchema, {}));
  }

  /** Secrets in the dead letters (x-api-key headers, URL credentials) come back masked unless `showSecrets`. */
  listDeadLetters(family: QueueFamily, limit = 100, options: { showSecrets?: boolean } = {}) {
    return this.call(
      "listDeadLetters",
      create(ListDeadLettersRequestSchema, { family, limit, showSecrets: options.showSecrets ?? false }),
    );
  }

  requeueDeadLetters(refs: Omit<DeadLetterRef, "$typeName">[]) {
    return this.call(
      "requeueDeadLetters",
      create(RequeueDeadLettersRequestSchema, { refs: refs.map((r) => create(DeadLetterRefSchema, r)) }),
    );
  }

  dropDeadLetters(refs: Omit<DeadLetterRef, "$typeName">[]) {
    return this.call(
      "dropDeadLetters",
      create(DropDeadLettersRequestSchema, { refs: refs.map((r) => create(DeadLetterRefSchema, r)) }),
    );
  }

  getWallet(recipientKey: string) {
    return this.call("getWallet", create(GetWalletRequestSchema, { recipientKey }));
  }

  /** grpc.health.v1.Health/Check for the whole server: "SERVING" | "NOT_SERVING" | ... */
  checkHealth(service = ""): Promise<string> {
    // HealthCheckRequest { string service = 1; } and response { ServingStatus status = 1; } by hand:
    // two tiny messages are not worth a generated copy of health.proto.
    const request = Buffer.concat([Buffer.from([0x0a, Buffer.byteLength(service)]), Buffer.from(service)]);
    return new Promise((resolve, reject) => {
      this.healthClient.makeUnaryRequest(
        "/grpc.health.v1.Health/Check",
        (b: Buffer) => b,
        (b: Buffer) => b,
        request,
        new grpc.Metadata(),
        { deadline: Date.now() + 5000 },
        (error, response) => {
          if (error) return reject(error);
          const status = response && response.length >= 2 && response[0] === 0x08 ? (response[1] as number) : 0;
          resolve(["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"][status] ?? "UNKNOWN");
        },
      );
    });
  }

  close(): void {
    this.client.close();
    this.healthClient.close();
  }
}
