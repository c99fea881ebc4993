import { isSecretName, MASK, redactSecretsInText } from "@acapy-bridge/operability";
import type { DeadLetterEntry } from "@acapy-bridge/protocol";

/**
 * A dead letter as the control API answers it unless secrets are asked for:
 * secret-named headers (`x-api-key`, `authorization`, ...) and URL credentials
 * or token-like query parameters (in the endpoint and the detail) masked.
 * Bodies are left as they are: DIDComm bodies are encrypted for their recipient.
 */
export function maskDeadLetterSecrets(entry: DeadLetterEntry): DeadLetterEntry {
  const deadLetter = entry.deadLetter;
  if (!deadLetter) return entry;
  const original = deadLetter.original;
  let masked = original;
  if (original.case === "outboundJob") {
    const job = original.value;
    const headers = Object.fromEntries(
      Object.entries(job.headers).map(([name, value]) => [
        name,
        isSecretName(name) ? MASK : redactSecretsInText(value),
      ]),
    );
    masked = { case: "outboundJob", value: { ...job, endpoint: redactSecretsInText(job.endpoint), headers } };
  }
  return {
    ...entry,
    deadLetter: { ...deadLetter, detail: redactSecretsInText(deadLetter.detail), original: masked },
  };
}
