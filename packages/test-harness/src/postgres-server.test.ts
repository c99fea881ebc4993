import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { AcaPyAdmin } from "./acapy-admin.js";
import { AcaPyProcess, acapyBinary } from "./acapy-process.js";
import { freePort } from "./free-port.js";
import { PostgresServer, postgresBinDir } from "./postgres-server.js";

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

describe("finding the tools a test needs", () => {
  const saved = { ACAPY_BIN: process.env.ACAPY_BIN, POSTGRES_BIN_DIR: process.env.POSTGRES_BIN_DIR };
  afterEach(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it("fails with the place it looked when a PostgreSQL it was pointed at is not there, instead of skipping", () => {
    process.env.POSTGRES_BIN_DIR = "/nonexistent/postgresql/bin";
    expect(() => postgresBinDir()).toThrow("POSTGRES_BIN_DIR=/nonexistent/postgresql/bin has no postgres binary");
  });

  it("finds ACA-Py in the repo's venv (resolved from the harness's own location) when ACAPY_BIN is not set", () => {
    delete process.env.ACAPY_BIN;
    expect(acapyBinary()).toBe(join(dirname(fileURLToPath(import.meta.url)), "../../../.venv/bin/aca-py"));
  });
});
