import { describe, expect, it } from "vitest";
import { BRIDGE_VERSION, createMetricsRegistry } from "./metrics.js";

describe("metrics registry", () => {
  it("follows Prometheus conventions: standard default metric names, build info, no instance label", async () => {
    const text = await createMetricsRegistry({ mode: "all" }).metrics();
    expect(text).toMatch(/^process_cpu_seconds_total\{mode="all"\} /m);
    expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds\{mode="all"\} /m);
    expect(text).toContain(
      `acapy_bridge_build_info{version="${BRIDGE_VERSION}",nodejs_version="${process.version}",mode="all"} 1`,
    );
    expect(BRIDGE_VERSION).toMatch(/^\d+\.\d+\.\d+/);
    expect(text).not.toContain("instance=");
    expect(text).not.toContain("acapy_bridge_process_");
  });
});
