import { afterAll, describe, expect, it } from "vitest";
import { AcaPyAdmin, connectAgents } from "./acapy-admin.js";
import { AcaPyProcess } from "./acapy-process.js";
import { freePort } from "./free-port.js";

async function plainAgent(label: string): Promise<AcaPyProcess> {
  const port = await freePort();
  return AcaPyProcess.start({
    label,
    args: [
      "-it",
      "http",
      "127.0.0.1",
      String(port),
      "-ot",
      "http",
      "-e",
      `http://127.0.0.1:${port}`,
      "--auto-accept-invites",
      "--auto-accept-requests",
      "--auto-respond-messages",
      "--monitor-ping",
    ],
  });
}

describe("real ACA-Py harness", () => {
  const agents: AcaPyProcess[] = [];
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
  });

  it("starts two plain ACA-Py agents that connect and exchange a basic message", async () => {
    const [alice, bob] = await Promise.all([plainAgent("alice"), plainAgent("bob")]);
    agents.push(alice, bob);
    const aliceAdmin = new AcaPyAdmin(alice.adminUrl);
    const bobAdmin = new AcaPyAdmin(bob.adminUrl);
    const { inviteeConnectionId } = await connectAgents(aliceAdmin, bobAdmin);
    await bobAdmin.sendMessage(inviteeConnectionId, "hello alice");
    const messages = await bobAdmin.request<{ results: unknown[] }>("GET", "/connections?state=active");
    expect(messages.results.length).toBe(1);
  }, 180_000);
});
