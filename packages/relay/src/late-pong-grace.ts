/**
 * Bytes ahead of a ping below which a late pong is not explained by a transfer in progress: a ping
 * and a few small frames, which a live wallet receives within half a heartbeat.
 */
const PING_SIZED_BYTES = 4 * 1024;
/**
 * The slowest link a wallet is expected to receive on (about 130 kbit/s): a late pong behind N bytes
 * is waited for N / this, at most `MAX_TRANSFER_GRACE_MS`. A dead wallet with a large frame
 * outstanding is found that much later; its unconfirmed messages return to its mailbox then.
 */
const SLOWEST_WALLET_BYTES_PER_SECOND = 16 * 1024;
const MAX_TRANSFER_GRACE_MS = 120_000;

/**
 * Whether a socket whose pong is late may still be receiving what was sent before its ping: the
 * pong comes only after those bytes, and a wallet on a slow link takes seconds for a large frame.
 * Judged from what was sent, not from what the wallet took: Node does not see what the kernel still
 * holds (it takes a megabyte or more at once), and reading that per socket costs too much at scale.
 */
export function mayStillBeReceiving(socket: { sentAheadOfPing: number; pingedAt: number }, now: number): boolean {
  if (socket.sentAheadOfPing <= PING_SIZED_BYTES) return false;
  const graceMs = Math.min(MAX_TRANSFER_GRACE_MS, (socket.sentAheadOfPing * 1000) / SLOWEST_WALLET_BYTES_PER_SECOND);
  return now - socket.pingedAt < graceMs;
}
