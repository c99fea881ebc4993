import { beforeAll, describe, expect, it } from "vitest";
import type { ForwardMessage } from "./forward.js";
import { FORWARD_TYPE } from "./forward.js";
import { basicMessage } from "./messages.js";
import { TestAgent } from "./test-agent.js";

let alice: TestAgent;
let bob: TestAgent;
let mediatorNearBob: TestAgent;
let mediatorNearAlice: TestAgent;

beforeAll(async () => {
  [alice, bob, mediatorNearBob, mediatorNearAlice] = await Promise.all([
    TestAgent.create("alice"),
    TestAgent.create("bob"),
    TestAgent.create("mediator-1"),
    TestAgent.create("mediator-2"),
  ]);
});

describe("forward wrapping", () => {
  it("wraps once per routing key, outermost for the last key, each hop anoncrypted", () => {
    const message = basicMessage("via two mediators");
    const packed = alice.pack(message, [bob.verkey], {
      routingKeys: [mediatorNearBob.didKey, mediatorNearAlice.verkey],
    });

    const outer = mediatorNearAlice.unpack<ForwardMessage>(packed);
    expect(outer.senderVerkey).toBeUndefined();
    expect(outer.message).toMatchObject({ "@type": FORWARD_TYPE, to: mediatorNearBob.verkey });
    expect(Object.keys(outer.message)).toEqual(["@type", "@id", "to", "msg"]);

    const inner = mediatorNearBob.unpack<ForwardMessage>(JSON.stringify(outer.message.msg));
    expect(inner.senderVerkey).toBeUndefined();
    expect(inner.message).toMatchObject({ "@type": FORWARD_TYPE, to: bob.verkey });

    const delivered = bob.unpack(JSON.stringify(inner.message.msg));
    expect(delivered).toEqual({ message, senderVerkey: alice.verkey, recipientVerkey: bob.verkey });
  });

  it("leaves the envelope unwrapped without routing keys", () => {
    const packed = alice.pack(basicMessage("direct"), [bob.verkey], { routingKeys: [] });
    expect(bob.unpack(packed).senderVerkey).toBe(alice.verkey);
  });
});
