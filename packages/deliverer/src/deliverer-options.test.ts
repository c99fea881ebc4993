import { OptionsError, parseOptions } from "@acapy-bridge/operability";
import { describe, expect, it } from "vitest";
import { DEFAULT_DELIVERER_CONFIG, delivererConfigFromOptions, delivererOptionSpecs } from "./deliverer-options.js";

const configOf = (argv: string[]) => delivererConfigFromOptions(parseOptions(delivererOptionSpecs, argv, {}));

describe("deliverer options", () => {
  it("bound what one recipient holds to 100 entries by default, below the partition's 1,000", () => {
    expect(configOf([])).toMatchObject({ recipientBuffer: 100, partitionBuffer: 1_000 });
    expect(configOf([])).toEqual(DEFAULT_DELIVERER_CONFIG);
    expect(configOf(["--delivery-recipient-buffer", "7"]).recipientBuffer).toBe(7);
  });

  it("reject a recipient buffer that is not positive or not below the partition buffer", () => {
    expect(() => configOf(["--delivery-recipient-buffer", "0"])).toThrow(OptionsError);
    expect(() => configOf(["--delivery-recipient-buffer", "1000"])).toThrow(
      /must be below --delivery-partition-buffer/,
    );
    expect(() => configOf(["--delivery-partition-buffer", "50"])).toThrow(OptionsError);
    expect(configOf(["--delivery-partition-buffer", "50", "--delivery-recipient-buffer", "49"])).toMatchObject({
      partitionBuffer: 50,
      recipientBuffer: 49,
    });
  });
});
