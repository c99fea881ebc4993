import { controlBindProblem } from "@acapy-bridge/control";
import { check, type LogLevel, type OptionSpec, OptionsError, type ParsedOptions } from "@acapy-bridge/operability";
import { type BridgeConnectionConfig, redisUrlProblem } from "@acapy-bridge/protocol";

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/** Options every process mode shares: where Redis is, the deployment's shape, how to operate it. */
export const commonOptionSpecs: OptionSpec[] = [
  {
    name: "config",
    env: "ACAPY_BRIDGE_CONFIG",
    kind: "string",
    description: "JSON file of options (names as the flags); flags and environment override it",
  },
  {
    name: "redis-url",
    env: "ACAPY_BRIDGE_REDIS_URL",
    kind: "string",
    default: "redis://127.0.0.1:6379",
    description: "redis:// or rediss:// URL; comma-separated seed URLs with --cluster",
    validate: (v: string) => check.nonEmpty(v) ?? redisUrlProblem(v),
  },
  {
    name: "cluster",
    env: "ACAPY_BRIDGE_REDIS_CLUSTER",
    kind: "boolean",
    default: false,
    description: "connect to a Redis Cluster",
  },
  {
    name: "redis-username",
    env: "ACAPY_BRIDGE_REDIS_USERNAME",
    kind: "string",
    description: "Redis ACL user (overrides the URL's)",
  },
  {
    name: "redis-password",
    env: "ACAPY_BRIDGE_REDIS_PASSWORD",
    kind: "string",
    secret: true,
    description: "Redis password (overrides the URL's); prefer the environment",
  },
  {
    name: "redis-tls-ca-file",
    env: "ACAPY_BRIDGE_REDIS_TLS_CA_FILE",
    kind: "string",
    description: "PEM CA bundle for rediss:// (system CAs otherwise)",
  },
  {
    name: "prefix",
    env: "ACAPY_BRIDGE_PREFIX",
    kind: "string",
    default: "br",
    description: "key prefix shared by every relay, deliverer and shim of one deployment",
    validate: (v: string) => (/^[A-Za-z0-9_.:-]+$/.test(v) ? undefined : "letters, digits, _ . : - only"),
  },
  {
    name: "inbound-partitions",
    env: "ACAPY_BRIDGE_INBOUND_PARTITIONS",
    kind: "integer",
    default: 16,
    description: "inbound partitions (fixed per deployment)",
    validate: check.positive,
  },
  {
    name: "outbound-partitions",
    env: "ACAPY_BRIDGE_OUTBOUND_PARTITIONS",
    kind: "integer",
    default: 16,
    description: "outbound partitions (fixed per deployment)",
    validate: check.positive,
  },
  {
    name: "event-partitions",
    env: "ACAPY_BRIDGE_EVENT_PARTITIONS",
    kind: "integer",
    default: 4,
    description: "event stream partitions (fixed per deployment)",
    validate: check.positive,
  },
  {
    name: "admin-partitions",
    env: "ACAPY_BRIDGE_ADMIN_PARTITIONS",
    kind: "integer",
    default: 1,
    description: "admin request partitions (fixed per deployment)",
    validate: check.positive,
  },
  {
    name: "instance-id",
    env: "ACAPY_BRIDGE_INSTANCE_ID",
    kind: "string",
    description: "this process's id (default: <mode>-<host>-<pid>-<random>)",
  },
  {
    name: "log-level",
    env: "ACAPY_BRIDGE_LOG_LEVEL",
    kind: "string",
    default: "info",
    description: `one of ${LOG_LEVELS.join(", ")}`,
    validate: (v: string) => (LOG_LEVELS.includes(v) ? undefined : `must be one of ${LOG_LEVELS.join(", ")}`),
  },
  {
    name: "ops-host",
    env: "ACAPY_BRIDGE_OPS_HOST",
    kind: "string",
    default: "127.0.0.1",
    description: "listen address of /health/live, /health/ready and /metrics",
  },
  {
    name: "ops-port",
    env: "ACAPY_BRIDGE_OPS_PORT",
    kind: "integer",
    default: 9464,
    description: "port of the ops endpoints (0 = any free port)",
    validate: check.port,
  },
  {
    name: "grpc-host",
    env: "ACAPY_BRIDGE_GRPC_HOST",
    kind: "string",
    default: "127.0.0.1",
    description: "listen address of the gRPC control API (keep it private; beyond loopback it needs --control-token)",
  },
  {
    name: "grpc-port",
    env: "ACAPY_BRIDGE_GRPC_PORT",
    kind: "integer",
    default: 9465,
    description: "port of the gRPC control API (0 = any free port)",
    validate: check.port,
  },
  {
    name: "control-token",
    env: "ACAPY_BRIDGE_CONTROL_TOKEN",
    kind: "string",
    secret: true,
    description: "bearer token required by the control API (none = loopback trust; required beyond loopback)",
  },
  {
    name: "grpc-tls-cert-file",
    env: "ACAPY_BRIDGE_GRPC_TLS_CERT_FILE",
    kind: "string",
    description: "PEM certificate chain: the control API serves TLS (with --grpc-tls-key-file)",
  },
  {
    name: "grpc-tls-key-file",
    env: "ACAPY_BRIDGE_GRPC_TLS_KEY_FILE",
    kind: "string",
    description: "PEM private key of --grpc-tls-cert-file",
  },
  {
    name: "grpc-tls-client-ca-file",
    env: "ACAPY_BRIDGE_GRPC_TLS_CLIENT_CA_FILE",
    kind: "string",
    description: "PEM CA bundle: the control API then requires client certificates it signed (mutual TLS)",
  },
  {
    name: "shutdown-timeout-ms",
    env: "ACAPY_BRIDGE_SHUTDOWN_TIMEOUT_MS",
    kind: "integer",
    default: 30000,
    description: "longest graceful shutdown before exiting anyway",
    validate: check.positive,
  },
];

export interface CommonConfig {
  connection: BridgeConnectionConfig;
  instanceId: string | undefined;
  logLevel: LogLevel;
  opsHost: string;
  opsPort: number;
  grpcHost: string;
  grpcPort: number;
  controlToken: string | undefined;
  controlTls: { cert: string; key: string; clientCa: string | undefined } | undefined;
  shutdownTimeoutMs: number;
}

function controlTlsFromOptions(
  o: ParsedOptions,
  readFile: (path: string) => string,
): CommonConfig["controlTls"] | undefined {
  const certFile = o["grpc-tls-cert-file"] as string | undefined;
  const keyFile = o["grpc-tls-key-file"] as string | undefined;
  const clientCaFile = o["grpc-tls-client-ca-file"] as string | undefined;
  if (!certFile && !keyFile) {
    if (clientCaFile)
      throw new OptionsError("--grpc-tls-client-ca-file needs --grpc-tls-cert-file and --grpc-tls-key-file");
    return undefined;
  }
  if (!certFile || !keyFile) throw new OptionsError("--grpc-tls-cert-file and --grpc-tls-key-file go together");
  const read = (flag: string, path: string) => {
    try {
      return readFile(path);
    } catch (error) {
      throw new OptionsError(`--${flag} ${path}: ${(error as Error).message}`);
    }
  };
  return {
    cert: read("grpc-tls-cert-file", certFile),
    key: read("grpc-tls-key-file", keyFile),
    clientCa: clientCaFile ? read("grpc-tls-client-ca-file", clientCaFile) : undefined,
  };
}

export function commonConfigFromOptions(o: ParsedOptions, readFile: (path: string) => string): CommonConfig {
  const caFile = o["redis-tls-ca-file"] as string | undefined;
  const bindProblem = controlBindProblem(o["grpc-host"] as string, o["control-token"] as string | undefined);
  if (bindProblem) throw new OptionsError(bindProblem);
  return {
    connection: {
      redis: {
        url: o["redis-url"] as string,
        cluster: o.cluster as boolean,
        username: o["redis-username"] as string | undefined,
        password: o["redis-password"] as string | undefined,
        tls: caFile ? { ca: readFile(caFile) } : undefined,
      },
      prefix: o.prefix as string,
      partitions: {
        inboundPartitions: o["inbound-partitions"] as number,
        outboundPartitions: o["outbound-partitions"] as number,
        eventPartitions: o["event-partitions"] as number,
        adminPartitions: o["admin-partitions"] as number,
      },
    },
    instanceId: o["instance-id"] as string | undefined,
    logLevel: o["log-level"] as LogLevel,
    opsHost: o["ops-host"] as string,
    opsPort: o["ops-port"] as number,
    grpcHost: o["grpc-host"] as string,
    grpcPort: o["grpc-port"] as number,
    controlToken: o["control-token"] as string | undefined,
    controlTls: controlTlsFromOptions(o, readFile),
    shutdownTimeoutMs: o["shutdown-timeout-ms"] as number,
  };
}
