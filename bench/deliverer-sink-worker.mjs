// The bench's HTTP sink, in its own thread: answers 204 at once and tells the
// main thread which ids arrived and when (absolute ms, sub-ms precision), in
// batches, for the baseline and the deliverer alike. Its first message says
// where its thread's CPU time can be read.
import { readlinkSync } from "node:fs";
import { createServer } from "node:http";
import { parentPort } from "node:worker_threads";

let ids = [];
let times = [];
let scheduled = false;
function flush() {
  scheduled = false;
  parentPort.postMessage({ ids, times });
  ids = [];
  times = [];
}
const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(204).end();
    ids.push(req.headers["x-bench-id"]);
    times.push(performance.timeOrigin + performance.now());
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  });
});
server.keepAliveTimeout = 60_000;
let procPath;
try {
  procPath = readlinkSync("/proc/thread-self");
} catch {
  procPath = undefined;
}
server.listen(0, "127.0.0.1", () => parentPort.postMessage({ port: server.address().port, procPath }));
