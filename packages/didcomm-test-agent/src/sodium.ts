import sodium from "libsodium-wrappers-sumo";

export type Sodium = typeof sodium;

let ready = false;

/** Loads libsodium's WASM once; every other entry point of this package relies on it having run. */
export async function initDidcomm(): Promise<void> {
  if (ready) return;
  await sodium.ready;
  ready = true;
}

/** libsodium, for code that runs only after `initDidcomm()` (e.g. inside a created TestAgent). */
export function sodiumReady(): Sodium {
  if (!ready) throw new Error("libsodium is not initialised: await initDidcomm() (or TestAgent.create) first");
  return sodium;
}
