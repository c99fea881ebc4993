// A real Credo-ts 0.5 wallet with Implicit pickup (a return-route WebSocket session) against two
// ACA-Py mediators behind two relays; a plain ACA-Py agent writes to it through the mediator.
import { AcaPyAdmin, type AcaPyProcess, acapyBinary, postgresBinDir, waitFor } from "@acapy-bridge/test-harness";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { sendWhileFrozen, waitUntilSettled } from "./app-freeze.js";
import { type CredoWallet, credoInstalled } from "./credo-wallet.js";
import { CredoMediatorDeployment, credoWalletConnectedTo, plainAgent } from "./mediator-deployment.js";

describe.skipIf(!acapyBinary() || !postgresBinDir() || !credoInstalled())(
  "Credo wallet, Implicit pickup, through two mediators behind two relays",
  () => {
    let deployment: CredoMediatorDeployment;
    let bob: AcaPyProcess;
    let bobAdmin: AcaPyAdmin;
    let wallet: CredoWallet;
    let bobConnection: string;
    let redis: Redis;

    const waitingInMailboxes = () => deployment.waitingInMailboxes(redis);

    beforeAll(async () => {
      [deployment, bob] = await Promise.all([
        CredoMediatorDeployment.start(inject("redisUrl"), { relays: 2, mediators: 2 }),
        plainAgent("bob"),
      ]);
      bobAdmin = new AcaPyAdmin(bob.adminUrl);
      redis = new Redis(inject("redisUrl"));
      ({ wallet, connectionId: bobConnection } = await credoWalletConnectedTo(deployment.mediatorAdmin(0), bobAdmin, {
        label: "credo-implicit",
        pickupStrategy: "Implicit",
      }));
    });

    afterAll(async () => {
      await wallet?.stop();
      await bob?.stop();
      await deployment?.stop();
      redis?.disconnect();
    });

    it("receives the messages a plain ACA-Py agent sends it while it is connected", async () => {
      const contents = ["live-0", "live-1", "live-2"];
      for (const content of contents) await bobAdmin.sendMessage(bobConnection, content);
      await wallet.waitForContents(contents, 30_000);
      expect(
        wallet
          .receivedWith("live-")
          .map((m) => m.content)
          .sort(),
      ).toEqual(contents);
    });

    it("receives, after it reconnects, every message sent while it was offline", async () => {
      await wallet.goOffline();
      const contents = Array.from({ length: 5 }, (_, i) => `offline-${i}`);
      for (const content of contents) await bobAdmin.sendMessage(bobConnection, content);
      // They wait in the wallet's mailbox in Redis, not in a socket.
      await waitFor("5 messages in the mailbox", async () => (await waitingInMailboxes()) === 5, 30_000, 100);
      await wallet.goOnline();
      await wallet.waitForContents(contents, 60_000);
      expect(wallet.duplicatesOf(contents)).toEqual({ messages: 0, extraCopies: 0 });
      await waitFor("the mailbox drained", async () => (await waitingInMailboxes()) === 0, 10_000, 100);
    });

    it("receives every message after its app was frozen for 15 s while 5 were sent (duplicates measured)", async () => {
      const contents = await sendWhileFrozen(wallet, bobAdmin, bobConnection, "frozen-implicit");
      await waitUntilSettled(wallet, contents, "frozen-implicit", 60_000);
      const duplicates = wallet.duplicatesOf(contents);
      // Without a receipt the relay cannot know what a frozen wallet read: Pickup 2.0 is the remedy.
      console.log(`[credo-interop] Implicit, 15 s SIGSTOP, 5 messages: duplicates ${JSON.stringify(duplicates)}`);
      expect(wallet.receivedWith("frozen-implicit-").length).toBe(contents.length + duplicates.extraCopies);
      await waitFor("the mailbox drained", async () => (await waitingInMailboxes()) === 0, 10_000, 100);
    });
  },
);
