import type { Keyspace } from "../contract/keyspace.js";
import { WalletCount } from "../gen/acapy_bridge/v1/keyspace_pb.js";
import type { RedisClient } from "./connection.js";

export { WalletCount };

/** The hash field of a `WalletCount` in `wallet_mailbox_and_route_counts`: "MAILBOX_IN", ... */
export function walletCountField(count: WalletCount): string {
  return WalletCount[count];
}

/**
 * Adds `by` to one of the deployment's wallet counts (`wallet_mailbox_and_route_counts`), which
 * the relays export as metrics. Call it after the mailbox or route write it counts has
 * succeeded. It never throws: the count is in another Cluster slot than the wallet's keys, so it
 * cannot be part of that write, and a failure here must not turn a handled message into an
 * error. `onError` logs it; the metric is then off by `by`, the message is not.
 */
export async function countWallet(
  client: RedisClient,
  keyspace: Keyspace,
  count: WalletCount,
  by: number,
  onError: (error: Error, field: string) => void,
): Promise<void> {
  if (by <= 0) return;
  const field = walletCountField(count);
  try {
    await client.hincrby(keyspace.key("walletMailboxAndRouteCounts"), field, by);
  } catch (error) {
    onError(error as Error, field);
  }
}
