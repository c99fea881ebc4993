import { readFileSync } from "node:fs";
import { ControlClient } from "@acapy-bridge/control";
import { check, formatHelp, type OptionSpec, OptionsError, type ParsedOptions } from "@acapy-bridge/operability";
import {
  DeadLetterReason,
  type ListDeadLettersResponse,
  ListDeadLettersResponseSchema,
  type ListInstancesResponse,
  ListInstancesResponseSchema,
  type ListPartitionsResponse,
  ListPartitionsResponseSchema,
  QueueFamily,
} from "@acapy-bridge/protocol";
import { toJson } from "@bufbuild/protobuf";
import { loadOptions } from "./load-options.js";

/** Options of `status` and `dlq`. */
export const operatorOptionSpecs: OptionSpec[] = [
  {
    name: "control-address",
    env: "ACAPY_BRIDGE_CONTROL_ADDRESS",
    kind: "string",
    default: "127.0.0.1:9465",
    description: "host:port of a running process's gRPC control API",
  },
  {
    name: "control-token",
    env: "ACAPY_BRIDGE_CONTROL_TOKEN",
    kind: "string",
    secret: true,
    description: "bearer token of the control API",
  },
  {
    name: "control-ca-file",
    env: "ACAPY_BRIDGE_CONTROL_CA_FILE",
    kind: "string",
    description: "PEM CA bundle: connect with TLS and trust these CAs (the server's --grpc-tls-cert-file)",
  },
  {
    name: "control-tls",
    env: "ACAPY_BRIDGE_CONTROL_TLS",
    kind: "boolean",
    default: false,
    description: "connect with TLS trusting the system CAs (implied by --control-ca-file)",
  },
  {
    name: "control-cert-file",
    env: "ACAPY_BRIDGE_CONTROL_CERT_FILE",
    kind: "string",
    description: "PEM client certificate for a control API that requires one (with --control-key-file)",
  },
  {
    name: "control-key-file",
    env: "ACAPY_BRIDGE_CONTROL_KEY_FILE",
    kind: "string",
    description: "PEM private key of --control-cert-file",
  },
  {
    name: "show-secrets",
    env: "ACAPY_BRIDGE_SHOW_SECRETS",
    kind: "boolean",
    default: false,
    description: "dlq list: show x-api-key and other secret headers and URL credentials instead of ***",
  },
  {
    name: "json",
    env: "ACAPY_BRIDGE_JSON",
    kind: "boolean",
    default: false,
    description: "print JSON instead of tables",
  },
  {
    name: "family",
    env: "ACAPY_BRIDGE_FAMILY",
    kind: "string",
    default: "all",
    description: "inbound, outbound or all",
    validate: (v: string) => (["inbound", "outbound", "all"].includes(v) ? undefined : "inbound, outbound or all"),
  },
  {
    name: "limit",
    env: "ACAPY_BRIDGE_LIMIT",
    kind: "integer",
    default: 100,
    description: "most dead letters to list",
    validate: check.positive,
  },
  {
    name: "partition",
    env: "ACAPY_BRIDGE_PARTITION",
    kind: "integer",
    description: "partition of the dead letter (requeue/drop)",
  },
  {
    name: "entry",
    env: "ACAPY_BRIDGE_ENTRY",
    kind: "string",
    description: "dead-letter entry id (requeue/drop)",
  },
  {
    name: "all",
    env: "ACAPY_BRIDGE_DLQ_ALL",
    kind: "boolean",
    default: false,
    description: "requeue/drop: act on every listed dead letter (needed without --entry or --partition)",
  },
];

function familyOf(name: string): QueueFamily {
  return name === "inbound"
    ? QueueFamily.INBOUND
    : name === "outbound"
      ? QueueFamily.OUTBOUND
      : QueueFamily.UNSPECIFIED;
}

function readPem(flag: string, path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new OptionsError(`--${flag} ${path}: ${(error as Error).message}`);
  }
}

function connect(o: ParsedOptions): ControlClient {
  const ca = readPem("control-ca-file", o["control-ca-file"] as string | undefined);
  const cert = readPem("control-cert-file", o["control-cert-file"] as string | undefined);
  const key = readPem("control-key-file", o["control-key-file"] as string | undefined);
  if ((cert === undefined) !== (key === undefined)) {
    throw new OptionsError("--control-cert-file and --control-key-file go together");
  }
  const tls = ca !== undefined || cert !== undefined || o["control-tls"] === true ? { ca, cert, key } : undefined;
  return new ControlClient(o["control-address"] as string, o["control-token"] as string | undefined, tls);
}

/** Proto JSON: enum names, base64 bytes, int64 as strings, no `$typeName`. */
function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

type InstancesResponse = ListInstancesResponse;
type DeadLettersResponse = ListDeadLettersResponse;

/** `acapy-bridge status`: instances and every partition's backlog, pending, lag and dead letters. */
export async function runStatus(argv: string[]): Promise<number> {
  if (argv.includes("--help")) {
    console.log(formatHelp("acapy-bridge status [options]", operatorOptionSpecs));
    return 0;
  }
  const o = loadOptions(operatorOptionSpecs, argv, process.env);
  const client = connect(o);
  try {
    const health = await client.checkHealth();
    const instancesResponse = (await client.listInstances()) as InstancesResponse;
    const partitionsResponse = (await client.listPartitions(familyOf(o.family as string))) as ListPartitionsResponse;
    if (o.json) {
      printJson({
        health,
        ...(toJson(ListInstancesResponseSchema, instancesResponse) as object),
        ...(toJson(ListPartitionsResponseSchema, partitionsResponse) as object),
      });
      return 0;
    }
    const { instances, lastHeartbeatMs } = instancesResponse;
    console.log(`health: ${health}\n\ninstances:`);
    const now = Date.now();
    for (const i of instances) {
      const age = now - Number(lastHeartbeatMs[i.instanceId] ?? 0);
      console.log(`  ${i.role.padEnd(10)} ${i.instanceId.padEnd(40)} ${i.hostname}:${i.pid}  heartbeat ${age} ms ago`);
    }
    console.log("\npartitions:\n  family    p  backlog  pending      lag      dlq   parked  lease");
    for (const p of partitionsResponse.partitions) {
      const family = p.family === QueueFamily.INBOUND ? "inbound" : "outbound";
      console.log(
        `  ${family.padEnd(8)} ${String(p.partition).padStart(2)} ${String(p.backlog).padStart(8)} ${String(p.pending).padStart(8)} ${String(p.lag).padStart(8)} ${String(p.deadLetters).padStart(8)} ${String(p.parkedRecipients).padStart(8)}  ${p.leaseHolder}`,
      );
    }
    return 0;
  } finally {
    client.close();
  }
}

/** `acapy-bridge dlq list|requeue|drop`. */
export async function runDeadLetters(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  if (!action || !["list", "requeue", "drop"].includes(action) || rest.includes("--help")) {
    console.log(formatHelp("acapy-bridge dlq list|requeue|drop [options]", operatorOptionSpecs));
    return action ? 0 : 2;
  }
  const o = loadOptions(operatorOptionSpecs, rest, process.env);
  const filtered = o.entry !== undefined || o.partition !== undefined;
  if (action !== "list" && !filtered && o.all !== true) {
    // A bare requeue or drop would act on every dead letter of every family.
    throw new OptionsError(
      `dlq ${action} needs --entry and/or --partition, or --all to act on every listed dead letter`,
    );
  }
  const client = connect(o);
  try {
    const family = familyOf(o.family as string);
    const listed = (await client.listDeadLetters(family, o.limit as number, {
      showSecrets: o["show-secrets"] === true,
    })) as DeadLettersResponse;
    const entries = listed.entries;
    if (action === "list") {
      if (o.json) printJson(toJson(ListDeadLettersResponseSchema, listed));
      else
        for (const e of entries) {
          const d = e.deadLetter;
          const reason = d ? (DeadLetterReason[d.reason] ?? String(d.reason)) : "?";
          console.log(
            `${e.partition}\t${e.entryId}\t${d?.mid}\treason=${reason}\tattempts=${d?.attempts}\t${d?.detail}`,
          );
        }
      return 0;
    }
    const selected = entries.filter(
      (e) =>
        (o.entry === undefined || e.entryId === o.entry) && (o.partition === undefined || e.partition === o.partition),
    );
    const refs = selected.map((e) => ({
      family: e.deadLetter?.original.case === "agentMessage" ? QueueFamily.INBOUND : QueueFamily.OUTBOUND,
      partition: e.partition,
      entryId: e.entryId,
    }));
    const done =
      refs.length === 0
        ? 0
        : action === "requeue"
          ? ((await client.requeueDeadLetters(refs)) as { requeued: number }).requeued
          : ((await client.dropDeadLetters(refs)) as { dropped: number }).dropped;
    printJson(action === "requeue" ? { requeued: done } : { dropped: done });
    if (done === 0) {
      console.error(`acapy-bridge: dlq ${action}: no dead letter matched`);
      return 1;
    }
    return 0;
  } finally {
    client.close();
  }
}
