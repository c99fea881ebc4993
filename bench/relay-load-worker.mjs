// Load generator for bench/relay.bench.ts, in a worker thread so that it does
// not share an event loop with the server it measures. N keep-alive senders,
// each posting sequentially for a fixed time; every body is unique.
import { Agent, request } from "node:http";
import { parentPort, workerData } from "node:worker_threads";

const { url, concurrency, durationMs, alg, kidPool } = workerData;
const target = new URL(url);
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
const header = (kid) =>
  Buffer.from(
    JSON.stringify({
      enc: "xchacha20poly1305_ietf",
      typ: "JWM/1.0",
      alg,
      recipients: [{ encrypted_key: "k".repeat(64), header: { kid, sender: "s", iv: "i" } }],
    }),
  ).toString("base64url");
const headers = kidPool.map(header);
const ciphertext = "c".repeat(344); // ~256 bytes of base64url, like a small DIDComm message

let seq = 0;
function body() {
  seq++;
  return `{"protected":"${headers[seq % headers.length]}","iv":"${seq}-${Math.random()}","ciphertext":"${ciphertext}","tag":"t"}`;
}

function post(payload) {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: "/",
        method: "POST",
        headers: { "content-type": "application/didcomm-envelope-enc", "content-length": Buffer.byteLength(payload) },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

const latencies = [];
const statuses = {};
let errors = 0;
const deadline = performance.now() + durationMs;
async function sender() {
  while (performance.now() < deadline) {
    const started = performance.now();
    try {
      const status = await post(body());
      latencies.push(performance.now() - started);
      statuses[status] = (statuses[status] ?? 0) + 1;
    } catch {
      errors++;
    }
  }
}
const began = performance.now();
await Promise.all(Array.from({ length: concurrency }, sender));
const elapsed = performance.now() - began;
latencies.sort((a, b) => a - b);
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
agent.destroy();
parentPort.postMessage({
  count: latencies.length,
  errors,
  statuses,
  perSecond: latencies.length / (elapsed / 1000),
  p50: pct(50),
  p99: pct(99),
});
