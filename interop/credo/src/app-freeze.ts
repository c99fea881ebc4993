// The backgrounded phone: the wallet process is frozen (SIGSTOP) with its socket open while its
// correspondent writes to it, then resumed.
import type { AcaPyAdmin } from "@acapy-bridge/test-harness";
import { waitFor } from "@acapy-bridge/test-harness";
import type { CredoWallet } from "./credo-wallet.js";

export const FREEZE_MS = 15_000;

/** Freezes `wallet` for FREEZE_MS while `count` basic messages are sent to it; returns their contents. */
export async function sendWhileFrozen(
  wallet: CredoWallet,
  correspondent: AcaPyAdmin,
  connectionId: string,
  tag: string,
  count = 5,
): Promise<string[]> {
  const contents = Array.from({ length: count }, (_, i) => `${tag}-${i}`);
  wallet.freeze();
  const frozenAt = Date.now();
  try {
    for (const content of contents) await correspondent.sendMessage(connectionId, content);
    // The freeze length is the scenario (an app in the background for 15 s), not a wait for a result.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, FREEZE_MS - (Date.now() - frozenAt))));
  } finally {
    wallet.resume();
  }
  return contents;
}

/** Waits until the wallet received nothing more with `tag` for `quietMs` (late copies have arrived). */
export async function waitForQuiet(
  wallet: CredoWallet,
  tag: string,
  quietMs = 3_000,
  timeoutMs = 60_000,
): Promise<void> {
  let seen = -1;
  let since = Date.now();
  await waitFor(
    `no more "${tag}" messages for ${quietMs} ms`,
    () => {
      const count = wallet.receivedWith(`${tag}-`).length;
      if (count !== seen) {
        seen = count;
        since = Date.now();
      }
      return Date.now() - since >= quietMs;
    },
    timeoutMs,
    100,
  );
}

/** Waits until the wallet has every content, then for late copies (see waitForQuiet). */
export async function waitUntilSettled(
  wallet: CredoWallet,
  contents: readonly string[],
  tag: string,
  timeoutMs = 60_000,
  quietMs = 3_000,
): Promise<void> {
  await wallet.waitForContents(contents, timeoutMs);
  await waitForQuiet(wallet, tag, quietMs, timeoutMs);
}
