import { OptionsError, parseOptions } from "@acapy-bridge/operability";
import { describe, expect, it } from "vitest";
import { DEFAULT_RELAY_CONFIG, relayConfigFromOptions, relayOptionSpecs } from "./relay-options.js";

describe("relay options", () => {
  it("default to ACA-Py's limits (2 MiB, port 8020) and read flags and ACAPY_BRIDGE_ environment", () => {
    expect(relayConfigFromOptions(parseOptions(relayOptionSpecs, [], {}))).toEqual(DEFAULT_RELAY_CONFIG);
    const config = relayConfigFromOptions(
      parseOptions(
        relayOptionSpecs,
        ["--http-port", "9000", "--ws-port=9001", "--allowed-origins", "https://a,https://b"],
        {
          ACAPY_BRIDGE_REPLY_TIMEOUT_MS: "5000",
        },
      ),
    );
    expect(config).toMatchObject({
      httpPort: 9000,
      wsPort: 9001,
      replyTimeoutMs: 5000,
      allowedOrigins: ["https://a", "https://b"],
      maxMessageBytes: 2 * 1024 * 1024,
    });
  });

  it("refuse invalid values with the flag's name", () => {
    expect(() => parseOptions(relayOptionSpecs, ["--http-port", "70000"], {})).toThrow(OptionsError);
    expect(() => parseOptions(relayOptionSpecs, ["--max-message-bytes", "0"], {})).toThrow(/max-message-bytes/);
    for (const option of ["--ws-send-timeout-ms", "--ws-max-buffered-bytes", "--ws-max-frames-in-flight"]) {
      expect(() => parseOptions(relayOptionSpecs, [option, "0"], {})).toThrow(option.slice(2));
    }
  });

  it("give the limits against hostile clients safe defaults, seconds not minutes, and refuse contradictory ones", () => {
    const defaults = relayConfigFromOptions(parseOptions(relayOptionSpecs, [], {}));
    expect(defaults).toMatchObject({
      maxConnections: 10_000,
      maxConnectionsPerClient: 64,
      rateLimitPerSecond: 50,
      httpHeadersTimeoutMs: 10_000,
      httpRequestTimeoutMs: 30_000,
      wsFirstFrameTimeoutMs: 30_000,
      maxBodyBytesInFlight: 64 * 1024 * 1024,
      limitExemptAddresses: ["127.0.0.1", "::1"],
    });
    const fromEnv = relayConfigFromOptions(
      parseOptions(relayOptionSpecs, ["--limit-exempt-ips="], {
        ACAPY_BRIDGE_MAX_CONNECTIONS_PER_IP: "8",
        ACAPY_BRIDGE_RATE_LIMIT_PER_IP: "0",
      }),
    );
    expect(fromEnv).toMatchObject({ maxConnectionsPerClient: 8, rateLimitPerSecond: 0, limitExemptAddresses: [] });
    expect(() => parseOptions(relayOptionSpecs, ["--limit-exempt-ips", "localhost"], {})).toThrow(/limit-exempt-ips/);
    expect(() => parseOptions(relayOptionSpecs, ["--rate-limit-burst", "0"], {})).toThrow(/rate-limit-burst/);
    expect(() =>
      relayConfigFromOptions(
        parseOptions(relayOptionSpecs, ["--http-headers-timeout-ms", "20000", "--http-request-timeout-ms", "5000"], {}),
      ),
    ).toThrow(/http-headers-timeout-ms/);
    expect(() =>
      relayConfigFromOptions(parseOptions(relayOptionSpecs, ["--max-body-bytes-in-flight", "1024"], {})),
    ).toThrow(/max-body-bytes-in-flight/);
  });
});
