import { randomBytes } from "node:crypto";

/** A key prefix no other test file uses, so files can share one Redis. */
export function uniquePrefix(label: string): string {
  return `t-${label.replace(/[^a-z0-9]+/gi, "-").slice(0, 20)}-${randomBytes(3).toString("hex")}`;
}
