// The FCM-shaped sink of `npm run bench -- push`, in a worker thread of its own so that the
// bench's load (the baseline's client loop) and the sink never share a thread: FcmTestServer
// (the OAuth2 token endpoint and FCM v1 send endpoint the tests use, with all their checks).
import { parentPort } from "node:worker_threads";
import { FcmTestServer } from "@acapy-bridge/test-harness";

/** A bearer the baseline's bare loop sends (the deliverer gets its own through the JWT grant). */
const BENCH_BEARER = "bench-bearer";

const server = await FcmTestServer.start();
server.issued.add(BENCH_BEARER);
parentPort?.on("message", (message: { command: "times" | "reset" | "close" }) => {
  if (message.command === "times") {
    parentPort?.postMessage({ times: server.sends.map((s) => s.at), refusals: server.refusals.slice(0, 5) });
  } else if (message.command === "reset") {
    server.sends.length = 0;
    parentPort?.postMessage({ reset: true });
  } else {
    void server.close().then(() => parentPort?.postMessage({ closed: true }));
  }
});
parentPort?.postMessage({ url: server.url, serviceAccount: server.serviceAccount, bearer: BENCH_BEARER });
