// The control: the same Credo-ts wallet scenarios against a plain ACA-Py mediator (its own HTTP
// and WebSocket transports, no bridge, no Redis). Figures, not guarantees: printed for the docs.
import { AcaPyAdmin, type AcaPyProcess, acapyBinary } from "@acapy-bridge/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sendWhileFrozen, waitForQuiet } from "./app-freeze.js";
import { CredoWallet, credoInstalled } from "./credo-wallet.js";
import { credoWalletConnectedTo, invitationUrl, plainAgent, plainMediator } from "./mediator-deployment.js";

describe.skipIf(!acapyBinary() || !credoInstalled())("control: Credo wallets and a plain ACA-Py mediator", () => {
  let mediator: AcaPyProcess;
  let bob: AcaPyProcess;
  let bobAdmin: AcaPyAdmin;

  beforeAll(async () => {
    [mediator, bob] = await Promise.all([plainMediator("plain-mediator"), plainAgent("bob")]);
    bobAdmin = new AcaPyAdmin(bob.adminUrl);
  });

  afterAll(async () => {
    await Promise.all([mediator?.stop(), bob?.stop()]);
  });

  describe("Implicit", () => {
    let wallet: CredoWallet;
    let connectionId: string;

    beforeAll(async () => {
      ({ wallet, connectionId } = await credoWalletConnectedTo(new AcaPyAdmin(mediator.adminUrl), bobAdmin, {
        label: "credo-control",
        pickupStrategy: "Implicit",
      }));
    });

    afterAll(async () => {
      await wallet?.stop();
    });

    /** Counts what arrived of `contents`: received, lost, duplicated. */
    function tally(contents: readonly string[]) {
      const got = new Set(wallet.received.map((m) => m.content));
      return {
        sent: contents.length,
        received: contents.filter((c) => got.has(c)).length,
        lost: contents.filter((c) => !got.has(c)).length,
        ...wallet.duplicatesOf(contents),
      };
    }

    it("measures what arrives of 3 messages sent while it is connected", async () => {
      const contents = ["control-live-0", "control-live-1", "control-live-2"];
      for (const content of contents) await bobAdmin.sendMessage(connectionId, content);
      // Plain ACA-Py's own WebSocket session: in one loaded full run none of the 3 came within 30 s.
      await wallet.waitForContents(contents, 15_000).catch(() => undefined);
      await waitForQuiet(wallet, "control-live", 3_000);
      const figures = tally(contents);
      console.log(`[credo-interop] control, plain ACA-Py mediator, Implicit, live: ${JSON.stringify(figures)}`);
      expect(figures.received + figures.lost).toBe(3);
    });

    it("measures what arrives of 5 messages sent while it was offline", async () => {
      await wallet.goOffline();
      const contents = Array.from({ length: 5 }, (_, i) => `control-offline-${i}`);
      for (const content of contents) await bobAdmin.sendMessage(connectionId, content);
      await wallet.goOnline();
      // A probe sent once the wallet is back tells a lost message from a lost session.
      await bobAdmin.sendMessage(connectionId, "control-offline-probe");
      const probeArrived = await wallet.waitForContents(["control-offline-probe"], 15_000).then(
        () => true,
        () => false,
      );
      await waitForQuiet(wallet, "control-offline", 3_000);
      const figures = { ...tally(contents), probeAfterReconnectArrived: probeArrived };
      console.log(`[credo-interop] control, plain ACA-Py mediator, Implicit, offline: ${JSON.stringify(figures)}`);
      expect(figures.received + figures.lost).toBe(5);
    });

    it("measures what arrives of 5 messages sent while its app was frozen for 15 s", async () => {
      const contents = await sendWhileFrozen(wallet, bobAdmin, connectionId, "control-frozen");
      await bobAdmin.sendMessage(connectionId, "control-frozen-probe");
      const probeArrived = await wallet.waitForContents(["control-frozen-probe"], 15_000).then(
        () => true,
        () => false,
      );
      await waitForQuiet(wallet, "control-frozen", 3_000);
      const figures = { ...tally(contents), probeAfterResumeArrived: probeArrived };
      console.log(`[credo-interop] control, plain ACA-Py mediator, Implicit, 15 s SIGSTOP: ${JSON.stringify(figures)}`);
      expect(figures.received + figures.lost).toBe(5);
    });
  });

  it("PickUpV2LiveMode: pickupMessages() never completes (ACA-Py has no Message Pickup protocol)", async () => {
    const { url } = await invitationUrl(new AcaPyAdmin(mediator.adminUrl), "mediator");
    let wallet: CredoWallet | undefined;
    try {
      // Credo's own start-up awaits a first pickup in live mode; it may already fail there.
      const started = await CredoWallet.start({
        label: "credo-control-live",
        mediatorInvitationUrl: url,
        pickupStrategy: "PickUpV2LiveMode",
      }).then(
        (w) => w,
        (error: Error) => error,
      );
      if (started instanceof Error) {
        expect(started.message).toMatch(/timeout|timed out|pickup/i);
        return;
      }
      wallet = started;
      await expect(wallet.pickupMessages(5_000)).rejects.toThrow(/timeout|timed out/i);
    } finally {
      await wallet?.stop();
    }
  });
});
