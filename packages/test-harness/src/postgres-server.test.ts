import { afterAll, describe, expect, it } from "vitest";
import { AcaPyAdmin } from "./acapy-admin.js";
import { AcaPyProcess } from "./acapy-process.js";
import { freePort } from "./free-port.js";
import { PostgresServer } from "./postgres-server.js";

describe("PostgreSQL-backed ACA-Py wallets", () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  it("lets two ACA-Py processes open one Askar wallet and see the same connections", async () => {
    const pg = await PostgresServer.start();
    cleanup.push(() => pg.stop());
    const start = async (label: string) => {
      const port = await freePort();
      const agent = await AcaPyProcess.start({
        label,
        walletArgs: pg.walletArgs("shared"),
        args: ["-it", "http", "127.0.0.1", String(port), "-ot", "http", "-e", `http://127.0.0.1:${port}`],
      });
      cleanup.push(() => agent.stop());
      return new AcaPyAdmin(agent.adminUrl);
    };
    const first = await start("alice1");
    const second = await start("alice2");
    const invitation = await first.createInvitation("alice");
    const listed = await second.request<{ results: { invi_msg_id: string }[] }>("GET", "/out-of-band/records");
    expect(listed.results.map((r) => r.invi_msg_id)).toContain(invitation["@id"]);
  }, 180_000);
});
