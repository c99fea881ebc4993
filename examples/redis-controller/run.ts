// The Redis controller example: a local deployment (Redis, `acapy-bridge all`,
// ACA-Py Alice behind the bridge writing her events to the Redis events
// streams, a plain ACA-Py Bob) and two instances of the controller in
// controller.ts driving Alice. The controller creates an invitation, Bob accepts
// it, the connection completes, and the controller answers each of Bob's basic
// messages. `npm run example:redis-controller` runs it; `-- --messages 10` for
// more, `-- --instances 1` for a single controller instance.
import { type AdminClient, AdminThroughRedis } from "@acapy-bridge/controller";
import { BridgeDeployment, killAllChildren, waitFor } from "@acapy-bridge/test-harness";
import { RedisController } from "./controller.js";

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => Number(args[args.indexOf(name) + 1]) || fallback;
const messages = option("--messages", 5);
const instances = option("--instances", 2);

const started = Date.now();
let step = 0;
const TOTAL_STEPS = 6;
function say(text: string): void {
  step++;
  console.log(`[${step}/${TOTAL_STEPS}] ${text}  (+${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

async function main(): Promise<void> {
  const deployment = await BridgeDeployment.start({
    shape: "combined",
    bridgeInstances: 1,
    aliceInstances: 1,
    // The controller answers Bob's messages, not ACA-Py.
    aliceAutoResponds: false,
    // Alice's shim writes every event to the events streams in Redis.
    aliceArgs: ["-o", "acapy_bridge_shim.events.to_stream=true"],
  });
  const alice = deployment.alices[0];
  if (!alice) throw new Error("the deployment started no Alice");
  say(`Redis ${deployment.redis.url}, acapy-bridge all, ACA-Py Alice behind the bridge (prefix ${deployment.prefix})`);

  // The controller's only way to ACA-Py's admin API: through Redis, run by whichever ACA-Py instance
  // takes it, at most once. A controller that stays on HTTP uses HttpAdminClient (ACA-Py's admin
  // port, or the relays' --admin-port) instead: the one line to change.
  const admin: AdminClient & { close(): Promise<void> } = await AdminThroughRedis.connect({
    redis: { url: deployment.redis.url, cluster: false },
    prefix: deployment.prefix,
  });

  const active = new Map<string, string>();
  const answered: string[] = [];
  const controllers = Array.from(
    { length: instances },
    (_, i) =>
      new RedisController({
        redis: { url: deployment.redis.url, cluster: false },
        prefix: deployment.prefix,
        group: "redis-controller-example",
        name: `controller-${i + 1}`,
        admin,
        onConnectionActive: (connectionId, invitationMsgId) => active.set(invitationMsgId ?? "", connectionId),
        onAnswered: (_connectionId, content) => answered.push(content),
      }),
  );
  await Promise.all(controllers.map((c) => c.start()));
  say(
    `${instances} controller instance(s) reading Alice's events from Redis, consumer group "redis-controller-example"`,
  );

  const first = controllers[0] as RedisController;
  const { invitationMsgId, invitation, url } = await first.invite("alice (redis controller)");
  say(`the controller created an invitation: ${url.slice(0, 80)}...`);

  const bobAdmin = deployment.bobAdmin;
  const bobConnection = await bobAdmin.receiveInvitation(invitation);
  await bobAdmin.waitForActive(bobConnection);
  const aliceConnection = await waitFor(
    "the controller sees the connection active",
    () => active.get(invitationMsgId),
    60_000,
  );
  say(`Bob (plain ACA-Py) accepted it; connection active: Alice ${aliceConnection}, Bob ${bobConnection}`);

  for (let i = 0; i < messages; i++) {
    await bobAdmin.sendMessage(bobConnection, `hello ${i}`);
  }
  const replies = await waitFor(
    () => `${messages} replies at Bob (got ${deployment.bobHooks.byTopic("basicmessages").length})`,
    () => {
      const got = deployment.bobHooks.byTopic("basicmessages");
      return got.length >= messages ? got : undefined;
    },
    60_000,
  );
  const contents = replies.map((r) => (r.body as { content: string }).content).sort();
  say(`Bob sent ${messages} basic messages and got ${replies.length} answers: ${contents.join(", ")}`);

  const expected = Array.from({ length: messages }, (_, i) => `you said: hello ${i}`).sort();
  const ok = expected.every((text) => contents.includes(text));
  await Promise.all(controllers.map((c) => c.stop()));
  await admin.close();
  await deployment.stop();
  say(ok ? "done: every message answered by the controller through Redis" : "FAILED: some messages got no answer");
  console.log(
    `summary: ${JSON.stringify({ messages, answered: answered.length, replies: replies.length, instances, ok })}`,
  );
  if (!ok) process.exitCode = 1;
}

main().catch((error: Error) => {
  console.error(`\nexample failed: ${error.stack ?? error.message}`);
  killAllChildren();
  process.exit(1);
});
