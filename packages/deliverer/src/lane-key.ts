import { createHash } from "node:crypto";
import type { OutboundJob } from "@acapy-bridge/protocol";

const SAFE_KEY = /^[^{}\s\p{Cc}]{1,200}$/u;

/** The lane and park-list key of a job: its recipient key, hashed when it could not be part of a Redis key. */
export function laneKeyOf(job: OutboundJob, entryId: string): string {
  const rk = job.recipientKey;
  if (!rk) return `entry:${entryId}`;
  return SAFE_KEY.test(rk) ? rk : `sha256:${createHash("sha256").update(rk).digest("hex")}`;
}
