/** Close codes (RFC 6455 and the IANA registry). */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  unsupportedData: 1003,
  policyViolation: 1008,
  tooLarge: 1009,
  internalError: 1011,
  tryAgainLater: 1013,
} as const;

/** A close frame's payload is at most 125 bytes, two of them the code (RFC 6455, 5.5). */
const MAX_CLOSE_REASON_BYTES = 123;

/** Codes a close frame may carry: ws throws on any other (1004-1006 and 1015 are reserved, never sent). */
function isSendableCloseCode(code: number): boolean {
  return (
    Number.isInteger(code) &&
    ((code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
      (code >= 3000 && code <= 4999))
  );
}

/**
 * A close code and reason that ws can send: an invalid code becomes 1011, a reason over 123 UTF-8
 * bytes is cut on a character boundary. They come from ACA-Py through Redis, and ws.close throws
 * on either after it marked the socket closing, which would leave it half closed.
 */
export function sendableClose(code: number, reason: string): { code: number; reason: string; adjusted: boolean } {
  const sendableCode = isSendableCloseCode(code) ? code : CLOSE.internalError;
  const bytes = Buffer.from(reason, "utf8");
  let sendableReason = reason;
  if (bytes.length > MAX_CLOSE_REASON_BYTES) {
    let end = MAX_CLOSE_REASON_BYTES;
    // Back off to the start of the character the limit falls in (continuation bytes are 10xxxxxx).
    while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--;
    sendableReason = bytes.subarray(0, end).toString("utf8");
  }
  return {
    code: sendableCode,
    reason: sendableReason,
    adjusted: sendableCode !== code || sendableReason !== reason,
  };
}
