// The local deployment: Redis, `acapy-bridge all` (Design 2), ACA-Py Alice
// entirely behind the bridge, and a plain ACA-Py Bob. It connects them, sends
// basic messages Bob -> Alice -> Bob (Alice auto-replies) and prints progress
// and a latency summary. `npm start` runs it; `-- --messages 200` for more,
// `-- --keep-running` to leave everything up for your own curl/admin calls,
// `-- --free-ports` to put acapy-bridge's listeners on free ports instead of
// bridge.json's 8020/9464/9465 (beside a deployment that holds them).
// BRIDGE_CLI and ACAPY_BIN run an installed acapy-bridge and aca-py instead of
// this repository's (scripts/test-packages.sh runs it from the packed packages).
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  AcaPyAdmin,
  AcaPyProcess,
  acapyBinary,
  BridgeProcess,
  connectAgents,
  freePort,
  killAllChildren,
  RedisServer,
  WebhookSink,
} from "@acapy-bridge/test-harness";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const messages = Number(args[args.indexOf("--messages") + 1]) || 50;
const keepRunning = args.includes("--keep-running");
const freePortFlags = args.includes("--free-ports") ? ["--http-port", "0", "--ops-port", "0", "--grpc-port", "0"] : [];

const started = Date.now();
let step = 0;
const TOTAL_STEPS = 7;
function say(text: string): void {
  step++;
  console.log(`[${step}/${TOTAL_STEPS}] ${text}  (+${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function progress(done: number, total: number): void {
  if (!process.stdout.isTTY && done !== total && done % Math.max(1, Math.floor(total / 5)) !== 0) return;
  const width = 30;
  const filled = Math.round((done / total) * width);
  const bar = `      [${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total}`;
  if (process.stdout.isTTY) {
    process.stdout.write(`\r${bar}`);
    if (done === total) process.stdout.write("\n");
  } else {
    console.log(bar);
  }
}

async function main(): Promise<void> {
  console.log(
    `      acapy-bridge: ${process.env.BRIDGE_CLI ?? "this repository's build (packages/cli)"}; aca-py: ${acapyBinary()}`,
  );
  const redis = await RedisServer.start({
    args: readFileSync(join(here, "redis.conf"), "utf8")
      .split("\n")
      .filter((l) => l && !l.startsWith("#"))
      .flatMap((l) => {
        const [k, ...v] = l.split(" ");
        return [`--${k}`, ...v];
      }),
  });
  say(
    `Redis ${await redis.cli("info", "server").then((i) => i.match(/redis_version:(\S+)/)?.[1])} on ${redis.url} (AOF on)`,
  );

  const bridge = await BridgeProcess.start("all", [
    "--config",
    join(here, "bridge.json"),
    "--redis-url",
    redis.url,
    ...freePortFlags,
  ]);
  const relayUrl = `http://${bridge.address("http")}`;
  say(
    `acapy-bridge all: DIDComm ${relayUrl}, metrics http://${bridge.address("ops")}/metrics, control ${bridge.address("grpc")}`,
  );

  const aliceHooks = await WebhookSink.start();
  const bobHooks = await WebhookSink.start();
  const alice = await AcaPyProcess.start({
    label: "alice",
    args: [
      "--plugin",
      "acapy_bridge_shim",
      "--plugin-config",
      join(here, "alice-plugin-config.yml"),
      "-o",
      `acapy_bridge_shim.redis_url=${redis.url}`,
      "-it",
      "acapy_bridge_shim.inbound",
      "127.0.0.1",
      "0",
      "-ot",
      "acapy_bridge_shim.outbound",
      "-ot",
      "http",
      "-e",
      relayUrl,
      "--webhook-url",
      aliceHooks.url,
      "--auto-accept-invites",
      "--auto-accept-requests",
      "--auto-respond-messages",
      "--monitor-ping",
    ],
  });
  say(`ACA-Py Alice behind the bridge: admin ${alice.adminUrl}, endpoint ${relayUrl}`);

  const bobPort = await freePort();
  const bob = await AcaPyProcess.start({
    label: "bob",
    args: [
      "-it",
      "http",
      "127.0.0.1",
      String(bobPort),
      "-ot",
      "http",
      "-e",
      `http://127.0.0.1:${bobPort}`,
      "--webhook-url",
      bobHooks.url,
      "--auto-accept-invites",
      "--auto-accept-requests",
      "--monitor-ping",
    ],
  });
  say(`ACA-Py Bob (plain HTTP): admin ${bob.adminUrl}, endpoint http://127.0.0.1:${bobPort}`);

  const aliceAdmin = new AcaPyAdmin(alice.adminUrl);
  const bobAdmin = new AcaPyAdmin(bob.adminUrl);
  const connectStart = Date.now();
  const { inviteeConnectionId: bobToAlice } = await connectAgents(aliceAdmin, bobAdmin);
  say(`Bob accepted Alice's invitation; DID Exchange complete in ${Date.now() - connectStart} ms`);

  console.log(
    `      ${messages} basic messages Bob -> Alice, one at a time; Alice's auto-reply comes back through the deliverer`,
  );
  const roundTrips: number[] = [];
  let seen = 0;
  for (let i = 0; i < messages; i++) {
    const sentAt = Date.now();
    await bobAdmin.sendMessage(bobToAlice, `demo message ${i}`);
    const deadline = sentAt + 30_000;
    while (bobHooks.byTopic("basicmessages").length <= seen && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 2));
    }
    if (bobHooks.byTopic("basicmessages").length > seen) {
      seen++;
      roundTrips.push((bobHooks.byTopic("basicmessages")[seen - 1]?.at ?? Date.now()) - sentAt);
    }
    progress(i + 1, messages);
  }
  const arrivedAtAlice = aliceHooks.byTopic("basicmessages").length;
  say(`Alice received ${arrivedAtAlice}/${messages}; Bob received ${seen}/${messages} replies`);

  const sorted = [...roundTrips].sort((a, b) => a - b);
  const metrics = await (await fetch(`http://${bridge.address("ops")}/metrics`)).text();
  const metric = (name: string) =>
    metrics
      .split("\n")
      .filter((l) => l.startsWith(name) && !l.startsWith("#"))
      .reduce((sum, l) => sum + Number(l.split(" ").pop()), 0);
  console.log(
    `\nsummary: ${messages} messages, ${arrivedAtAlice} at Alice, ${seen} replies at Bob; ` +
      `round trip Bob -> Alice -> Bob p50 ${percentile(sorted, 50)} ms, p99 ${percentile(sorted, 99)} ms\n` +
      `         bridge counters: ${JSON.stringify(Object.fromEntries(["acapy_bridge_relay_messages_total", "acapy_bridge_deliverer_deliveries_total"].map((m) => [m, metric(m)])))}`,
  );
  if (arrivedAtAlice < messages || seen < messages) process.exitCode = 1;

  if (keepRunning) {
    console.log(
      `\nstill running (Ctrl-C to stop): Alice admin ${alice.adminUrl}, Bob admin ${bob.adminUrl}, relay ${relayUrl}`,
    );
    await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
  }
  await Promise.all([alice.stop(), bob.stop()]);
  await bridge.stop();
  await Promise.all([aliceHooks.close(), bobHooks.close()]);
  await redis.stop();
}

main().catch((error: Error) => {
  console.error(`\ndemo failed: ${error.message}`);
  killAllChildren();
  process.exit(1);
});
