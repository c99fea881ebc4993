import { createMetricsRegistry } from "@acapy-bridge/operability";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { createDelivererMetrics } from "./deliverer-metrics.js";
import { ReadBackpressure } from "./read-backpressure.js";
import { RecipientLanes } from "./recipient-lanes.js";

function backpressure(buffer: number) {
  const warnings: Record<string, unknown>[] = [];
  const logger = pino({ level: "warn" }, { write: (line: string) => warnings.push(JSON.parse(line)) });
  const lanes = new RecipientLanes(() => {});
  const metrics = createDelivererMetrics(createMetricsRegistry());
  return { held: new ReadBackpressure({ partition: 3, buffer, lanes, logger, metrics }), lanes, warnings };
}

describe("a partition's read backpressure", () => {
  it("lets reading go on below the buffer, and pauses it at the buffer until an entry is released", async () => {
    const { held } = backpressure(2);
    held.hold("1-0");
    await held.room();
    held.hold("2-0");
    let resumed = false;
    const room = held.room().then(() => {
      resumed = true;
    });
    await Promise.resolve();
    expect(resumed).toBe(false);
    held.release("1-0");
    await room;
    expect(resumed).toBe(true);
    expect(held.size).toBe(1);
    expect(held.has("2-0")).toBe(true);
  });

  it("names the busiest recipient once while full, and frees a waiting reader when stopped", async () => {
    const { held, lanes, warnings } = backpressure(1);
    let finish: () => void = () => {};
    lanes.push("slow-recipient", () => new Promise<void>((resolve) => (finish = resolve)));
    held.hold("1-0");
    const first = held.room();
    const second = held.room();
    held.stop();
    await Promise.all([first, second]);
    expect(warnings.map((w) => w.event)).toEqual(["deliverer.partition_buffer_full"]);
    expect(warnings[0]).toMatchObject({ partition: 3, held: 1, buffer: 1, busiestRecipient: "slow-recipient" });
    await held.room(); // stopped: never waits
    finish();
    await lanes.idle();
  });
});
