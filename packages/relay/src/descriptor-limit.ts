import { readFileSync } from "node:fs";

/** Descriptors kept for everything but the DIDComm connections: Redis clients, the ops and gRPC listeners, files, logs. */
export const RESERVED_DESCRIPTORS = 256;

/** The soft limit on open files of this process (Linux: /proc/self/limits), or undefined where unknown. */
export function openFilesSoftLimit(limitsText?: string): number | undefined {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync("/proc/self/limits", "utf8");
    } catch {
      return undefined;
    }
  }
  const row = text.split("\n").find((line) => line.startsWith("Max open files"));
  const soft = row?.slice("Max open files".length).trim().split(/\s+/)[0];
  const n = Number(soft);
  return soft !== undefined && Number.isInteger(n) && n > 0 ? n : undefined;
}

/**
 * The connection cap that keeps descriptors for the rest of the process: once the DIDComm listener
 * has used them all, every accept fails, the ops listener's too, and nothing says why.
 */
export function effectiveMaxConnections(configured: number, softLimit: number | undefined): number {
  if (softLimit === undefined) return configured;
  const room = Math.max(1, softLimit - RESERVED_DESCRIPTORS);
  return configured === 0 ? room : Math.min(configured, room);
}
