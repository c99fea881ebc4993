// The baseline of `npm run bench -- sessions`: a bare Node WebSocket server
// (ws) holding the same idle sessions, pushing each entry of one Redis stream
// (XREAD, no consumer group, no confirmation, no acknowledgement) to the
// socket it names. What the relay adds on top of this is the price of the
// bridge: session tags, routes, confirmations by pong, hand-over.
//
// argv: <redis-url> <stream-key>. Prints {"event":"ready","port":N} once listening.
import { Redis } from "ioredis";
import { WebSocketServer } from "ws";

const [redisUrl, streamKey] = process.argv.slice(2);
const sockets = new Map();
const server = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
server.on("connection", (ws, request) => {
  const session = new URL(request.url ?? "/", "http://x").searchParams.get("session") ?? "";
  sockets.set(session, ws);
  ws.on("close", () => sockets.delete(session));
  ws.on("error", () => undefined);
});

const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
let after = "$";
async function pushLoop() {
  for (;;) {
    const result = await redis.xreadBuffer("COUNT", 500, "BLOCK", 1000, "STREAMS", streamKey, after);
    if (!result) continue;
    for (const [, entries] of result) {
      for (const [id, fields] of entries) {
        after = id.toString();
        let session = "";
        let body;
        for (let i = 0; i < fields.length; i += 2) {
          const name = fields[i].toString();
          if (name === "s") session = fields[i + 1].toString();
          else if (name === "b") body = fields[i + 1];
        }
        sockets.get(session)?.send(body, { binary: false });
      }
    }
  }
}

server.on("listening", () => {
  process.stdout.write(`${JSON.stringify({ event: "ready", port: server.address().port })}\n`);
  pushLoop().catch((error) => {
    process.stderr.write(`baseline push loop failed: ${error.message}\n`);
    process.exit(1);
  });
});
process.on("SIGTERM", () => process.exit(0));
