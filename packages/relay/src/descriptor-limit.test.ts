import { describe, expect, it } from "vitest";
import { effectiveMaxConnections, openFilesSoftLimit, RESERVED_DESCRIPTORS } from "./descriptor-limit.js";

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max processes             63456                63456                processes
Max open files            1024                 524288               files
`;

describe("descriptor limit", () => {
  it("reads the soft open-files limit", () => {
    expect(openFilesSoftLimit(LIMITS)).toBe(1024);
    expect(openFilesSoftLimit("nothing here")).toBeUndefined();
  });

  it("keeps descriptors for Redis and the ops listener below the open-files limit", () => {
    expect(effectiveMaxConnections(10_000, 1024)).toBe(1024 - RESERVED_DESCRIPTORS);
    expect(effectiveMaxConnections(500, 1024)).toBe(500);
    expect(effectiveMaxConnections(0, 1024)).toBe(1024 - RESERVED_DESCRIPTORS);
    expect(effectiveMaxConnections(10_000, undefined)).toBe(10_000);
  });
});
