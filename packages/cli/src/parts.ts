import { delivererConfigFromOptions, delivererOptionSpecs, startDeliverer } from "@acapy-bridge/deliverer";
import type { OptionSpec, ParsedOptions, ProcessServices, RunningPart } from "@acapy-bridge/operability";
import type { BridgeConnectionConfig } from "@acapy-bridge/protocol";
import { relayConfigFromOptions, relayOptionSpecs, startRelay } from "@acapy-bridge/relay";

/** A deployable part the CLI can start: its own options and how to start it. */
export interface PartDefinition {
  name: "relay" | "deliverer";
  optionSpecs: OptionSpec[];
  start(options: ParsedOptions, connection: BridgeConnectionConfig, services: ProcessServices): Promise<RunningPart>;
}

export const relayPart: PartDefinition = {
  name: "relay",
  optionSpecs: relayOptionSpecs,
  start: (options, connection, services) => startRelay(relayConfigFromOptions(options), connection, services),
};

export const delivererPart: PartDefinition = {
  name: "deliverer",
  optionSpecs: delivererOptionSpecs,
  start: (options, connection, services) => startDeliverer(delivererConfigFromOptions(options), connection, services),
};

/** Design 1 runs relay and deliverer as separate processes; Design 2 (`all`) runs both in one. */
export const partsByMode = {
  relay: [relayPart],
  deliverer: [delivererPart],
  all: [relayPart, delivererPart],
} as const;

export type ServerMode = keyof typeof partsByMode;
