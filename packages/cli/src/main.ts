import { readFileSync } from "node:fs";
import { OptionsError, redactSecretsInText } from "@acapy-bridge/operability";
import { RedisConfigError, TopologyMismatchError } from "@acapy-bridge/protocol";
import { checkEnvironmentNames } from "./environment-names.js";
import { operatorOptionSpecs, runDeadLetters, runStatus } from "./run-operator-commands.js";
import { runServer, serverOptionSpecs } from "./run-server.js";

const USAGE = `usage: acapy-bridge <command> [options]

  relay       take DIDComm messages from agents (HTTP, WebSocket) into Redis; hold wallets' sockets
  deliverer   deliver ACA-Py's outbound messages and webhooks from Redis, with retries and dead letters
  all         relay and deliverer in one process (Design 2)
  status      instances and queue depths of a running deployment (gRPC control API)
  dlq         list, requeue or drop dead letters (gRPC control API)
  --version   print the version

Every option can also be set by environment variable; see acapy-bridge <command> --help.`;

function version(): string {
  const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return manifest.version;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (["relay", "deliverer", "all", "status", "dlq"].includes(command ?? "")) {
      checkEnvironmentNames(process.env, [...serverOptionSpecs("all"), ...operatorOptionSpecs]);
    }
    switch (command) {
      case "relay":
      case "deliverer":
      case "all":
        return await runServer(command, rest);
      case "status":
        return await runStatus(rest);
      case "dlq":
        return await runDeadLetters(rest);
      case "--version":
      case "-V":
      case "version":
        console.log(`acapy-bridge ${version()}`);
        return 0;
      case "help":
      case "--help":
      case "-h":
        console.log(USAGE);
        return 0;
      default:
        console.error(command ? `acapy-bridge: unknown command "${command}"\n\n${USAGE}` : USAGE);
        return 2;
    }
  } catch (error) {
    if (error instanceof OptionsError || error instanceof TopologyMismatchError || error instanceof RedisConfigError) {
      console.error(`acapy-bridge: ${redactSecretsInText(error.message)}`);
      return 2;
    }
    console.error(`acapy-bridge: ${redactSecretsInText(String((error as Error).stack ?? error))}`);
    return 1;
  }
}
