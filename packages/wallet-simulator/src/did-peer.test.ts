import { execFileSync } from "node:child_process";
import { TestAgent } from "@acapy-bridge/didcomm-test-agent";
import { venvPython } from "@acapy-bridge/test-harness";
import { describe, expect, it } from "vitest";
import { createPeerDid2, parsePeerDid2 } from "./did-peer.js";

describe("did:peer:2", () => {
  it("round-trips the authentication key and the service", async () => {
    const agent = await TestAgent.create("w");
    const did = createPeerDid2(agent.verkey, { serviceEndpoint: "didcomm:transport/queue" });
    const parsed = parsePeerDid2(did);
    expect(parsed.verkey).toBe(agent.verkey);
    expect(parsed.services[0]?.serviceEndpoint).toBe("didcomm:transport/queue");
  });

  it("is the DID ACA-Py's did_peer_2 library generates for the same keys and service", async () => {
    const agent = await TestAgent.create("w");
    const did = createPeerDid2(agent.verkey, {
      serviceEndpoint: "http://127.0.0.1:1",
      routingKeys: ["did:key:z6Mkx"],
    });
    const script = `
import sys, json
from did_peer_2 import resolve
doc = resolve(sys.argv[1])
print(json.dumps({"vm": doc["verificationMethod"][0]["publicKeyMultibase"], "svc": doc["service"][0]}))`;
    const out = JSON.parse(execFileSync(venvPython(), ["-c", script, did]).toString());
    expect(out.svc.serviceEndpoint).toBe("http://127.0.0.1:1");
    expect(out.svc.routingKeys).toEqual(["did:key:z6Mkx"]);
    expect(out.svc.recipientKeys).toEqual(["#key-1"]);
    expect(out.vm).toBe(did.split(".")[1]?.slice(1));
  });
});
