let lastEpochMs = 0;
let epochCounter = 0;

/** A session epoch that grows with time and within one millisecond (at most 1000 opens per ms). */
export function nextSessionEpoch(now = Date.now()): bigint {
  if (now > lastEpochMs) {
    lastEpochMs = now;
    epochCounter = 0;
  } else {
    epochCounter = Math.min(epochCounter + 1, 999);
  }
  return BigInt(lastEpochMs) * 1000n + BigInt(epochCounter);
}
