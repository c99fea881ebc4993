import { postEnvelope } from "@acapy-bridge/didcomm-test-agent";
import { holdStill } from "@acapy-bridge/test-harness";

/**
 * POSTs a packed forward until a 2xx answer, as agents do: a failed try (the instance or relay
 * died under the request, or refused it) is sent again with a growing back-off, at most 20 times.
 * `onResend` counts the tries sent again.
 */
export async function postUntilTaken(
  endpoint: string,
  packed: Uint8Array,
  what: string,
  onResend: () => void = () => {},
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const { status } = await postEnvelope(endpoint, packed, { timeoutMs: 30_000 });
      if (status >= 200 && status < 300) return;
      if (attempt >= 20) throw new Error(`forward for ${what} refused: ${status}`);
    } catch (error) {
      if (attempt >= 20) throw error; // whether it was taken is unknown: it is sent again
    }
    onResend();
    await holdStill(250 * attempt, "the sender's back-off before it sends again");
  }
}
