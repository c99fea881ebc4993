// A real Credo-ts 0.5 wallet (Implicit pickup) against mediator Design 1: three ACA-Py instances
// with their own HTTP and WebSocket transports and the shim (own_transports) behind TCP load
// balancers, one PostgreSQL wallet, real Redis, no relay; a plain ACA-Py agent writes to it.
import { DEFAULT_PARTITIONS, Keyspace, partitionCountsOf } from "@acapy-bridge/protocol";
import {
  AcaPyAdmin,
  type AcaPyProcess,
  Design1Deployment,
  PostgresServer,
  uniquePrefix,
  waitFor,
} from "@acapy-bridge/test-harness";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { CredoWallet } from "./credo-wallet.js";
import { credoWalletConnectedTo, plainAgent } from "./mediator-deployment.js";

describe("Credo wallet, Implicit pickup, through three Design 1 mediator instances", () => {
  const redisUrl = inject("redisUrl");
  let redis: Redis;
  let postgres: PostgresServer;
  let deployment: Design1Deployment;
  let bob: AcaPyProcess;
  let bobAdmin: AcaPyAdmin;
  let wallet: CredoWallet;
  let bobConnection: string;

  beforeAll(async () => {
    redis = new Redis(redisUrl);
    [postgres, bob] = await Promise.all([PostgresServer.start(), plainAgent("bob")]);
    bobAdmin = new AcaPyAdmin(bob.adminUrl);
    deployment = await Design1Deployment.start(
      { shim: true, redisUrl, prefix: uniquePrefix("credo-design1"), postgres, walletName: "design1-credo" },
      3,
    );
    await deployment.socketHoldersUp(redis);
    ({ wallet, connectionId: bobConnection } = await credoWalletConnectedTo(
      deployment.instances[1]?.admin as AcaPyAdmin,
      bobAdmin,
      {
        label: "credo-design1",
        pickupStrategy: "Implicit",
      },
    ));
  });

  afterAll(async () => {
    await wallet?.stop();
    await bob?.stop();
    await deployment?.stop();
    await postgres?.stop();
    redis?.disconnect();
  });

  it("receives the messages a plain ACA-Py agent sends it, whichever instance the forwards land on", async () => {
    // Bob's forwards go round robin over the three instances; the wallet's socket is on one.
    const contents = Array.from({ length: 6 }, (_, i) => `live-${i}`);
    for (const content of contents) await bobAdmin.sendMessage(bobConnection, content);
    await wallet.waitForContents(contents, 60_000);
    expect(
      wallet
        .receivedWith("live-")
        .map((m) => m.content)
        .sort(),
    ).toEqual(contents);
  });

  it("receives, after it reconnects to any instance, every message sent while it was offline", async () => {
    await wallet.goOffline();
    const contents = Array.from({ length: 5 }, (_, i) => `offline-${i}`);
    for (const content of contents) await bobAdmin.sendMessage(bobConnection, content);
    const keyspace = new Keyspace(deployment.options.prefix, partitionCountsOf(DEFAULT_PARTITIONS));
    const mailboxes = keyspace.key("walletMailbox", { recipient: "*" });
    await waitFor(
      "5 messages in the mailbox",
      async () => {
        const keys = await redis.keys(mailboxes);
        const depths = await Promise.all(keys.map((k) => redis.llen(k)));
        return depths.reduce((a, b) => a + b, 0) === 5;
      },
      30_000,
      100,
    );
    await wallet.goOnline();
    await wallet.waitForContents(contents, 60_000);
    expect(wallet.duplicatesOf(contents)).toEqual({ messages: 0, extraCopies: 0 });
  });
});
