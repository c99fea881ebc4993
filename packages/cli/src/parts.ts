import { delivererConfigFromOptions, delivererOptionSpecs, startDeliverer } from "@acapy-bridge/deliverer";
import type { OptionSpec, ParsedOptions, ProcessServices, RunningPart } from "@acapy-bridge/operability";
import type { BridgeConnectionConfig } from "@acapy-bridge/protocol";
import { relayConfigFromOptions, relayOptionSpecs, startRelay } from "@acapy-bridge/relay";

/** Starts a configured part once Redis is reachable. */
export type PartStarter = (connection: BridgeConnectionConfig, services: ProcessServices) => Promise<RunningPart>;

/** A deployable part the CLI can start: its own options, validated before anything connects, and how to start it. */
export interface PartDefinition {
  name: "relay" | "deliverer";
  optionSpecs: OptionSpec[];
  /** Validates the part's options (throws OptionsError) and returns how to start it. */
  configure(options: ParsedOptions): PartStarter;
}

export const relayPart: PartDefinition = {
  name: "relay",
  optionSpecs: relayOptionSpecs,
  configure: (options) => {
    const config = relayConfigFromOptions(options);
    return (connection, services) => startRelay(config, connection, services);
  },
};

export const delivererPart: PartDefinition = {
  name: "deliverer",
  optionSpecs: delivererOptionSpecs,
  configure: (options) => {
    const config = delivererConfigFromOptions(options);
    return (connection, services) => startDeliverer(config, connection, services);
  },
};

/** Design 1 runs relay and deliverer as separate processes; Design 2 (`all`) runs both in one. */
export const partsByMode = {
  relay: [relayPart],
  deliverer: [delivererPart],
  all: [relayPart, delivererPart],
} as const;

export type ServerMode = keyof typeof partsByMode;
