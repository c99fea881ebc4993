// The image's HEALTHCHECK: the ops listener's liveness (the slim image has no curl). It asks
// loopback, which a listener on 0.0.0.0 (the image's ACAPY_BRIDGE_OPS_HOST) also answers.
const port = process.env.ACAPY_BRIDGE_OPS_PORT ?? "9464";
try {
  const response = await fetch(`http://127.0.0.1:${port}/health/live`, { signal: AbortSignal.timeout(2000) });
  process.exit(response.ok ? 0 : 1);
} catch {
  process.exit(1);
}
