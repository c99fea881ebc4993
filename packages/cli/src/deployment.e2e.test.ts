import { BridgeDeployment, connectAgents } from "@acapy-bridge/test-harness";
import { afterEach, describe, it } from "vitest";

// Issue 5, "Done when" 1: Alice entirely behind the bridge, Bob plain, in both
// deployment shapes: separate relay + deliverer processes, and `all` processes.
describe.each(["split", "combined"] as const)("Alice behind the bridge (%s shape)", (shape) => {
  let deployment: BridgeDeployment | undefined;
  afterEach(async () => {
    await deployment?.stop();
    deployment = undefined;
  });

  it("connects, exchanges basic messages both ways and answers pings both ways", async () => {
    deployment = await BridgeDeployment.start({ shape, bridgeInstances: 1, aliceInstances: 1 });
    const [alice] = deployment.aliceAdmins;
    const bob = deployment.bobAdmin;
    if (!alice) throw new Error("no Alice");
    const { inviterConnectionId: aliceConn, inviteeConnectionId: bobConn } = await connectAgents(alice, bob);

    await bob.sendMessage(bobConn, "hello alice");
    await deployment.aliceHooks.waitFor(
      "Alice gets Bob's message",
      (w) => w.topic === "basicmessages" && w.body.content === "hello alice",
    );
    // Alice's auto-reply leaves through the shim's outbound transport and the deliverer.
    await deployment.bobHooks.waitFor(
      "Bob gets Alice's auto-reply",
      (w) => w.topic === "basicmessages" && String(w.body.content).includes("received your message"),
    );
    await alice.sendMessage(aliceConn, "hello bob");
    await deployment.bobHooks.waitFor(
      "Bob gets Alice's message",
      (w) => w.topic === "basicmessages" && w.body.content === "hello bob",
    );

    const bobPing = await bob.sendPing(bobConn);
    await deployment.bobHooks.waitFor(
      "Bob's ping answered",
      (w) => w.topic === "ping" && w.body.thread_id === bobPing && w.body.state === "response_received",
    );
    const alicePing = await alice.sendPing(aliceConn);
    await deployment.aliceHooks.waitFor(
      "Alice's ping answered",
      (w) => w.topic === "ping" && w.body.thread_id === alicePing && w.body.state === "response_received",
    );
  }, 240_000);
});
