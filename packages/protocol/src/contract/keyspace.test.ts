import { describe, expect, it } from "vitest";
import { loadTestVectors } from "../../test-fixtures/test-vectors.js";
import { KeyspaceSchema } from "../gen/acapy_bridge/v1/keyspace_pb.js";
import { KeyError, type KeyName, Keyspace, keySpecs, partitionCountsOf, RedisType } from "./keyspace.js";
import { hashSlot } from "./partitioning.js";

const vectors = loadTestVectors();
const keyspace = new Keyspace(vectors.prefix, partitionCountsOf(vectors.topology));
const byProtoName = new Map(Object.values(keySpecs).map((s) => [s.protoName, s.name]));

describe("keyspace", () => {
  it("renders every key of the contract exactly as the shared vectors", () => {
    const covered = new Set<string>();
    for (const v of vectors.keys) {
      const name = byProtoName.get(v.name) as KeyName;
      expect(keyspace.key(name, v.vars), v.name).toBe(v.key);
      expect(hashSlot(v.key)).toBe(v.slot);
      covered.add(v.name);
    }
    expect([...covered].sort()).toEqual(KeyspaceSchema.fields.map((f) => f.name).sort());
  });

  it("declares a consumer group and entry field for every work stream", () => {
    for (const spec of Object.values(keySpecs)) {
      if (spec.type === RedisType.STREAM) expect(spec.entryField, spec.name).not.toBe("");
    }
    expect(keySpecs.inboundQueue.consumerGroup).toBe("acapy");
    expect(keySpecs.outboundQueue.consumerGroup).toBe("deliverer");
    expect(keySpecs.relayInbox.consumerGroup).toBe("relay");
  });

  it("keeps all keys of one partition in one slot", () => {
    for (let partition = 0; partition < 16; partition++) {
      const slots = new Set(
        (
          [
            "outboundQueue",
            "outboundSeen",
            "outboundLease",
            "outboundParked",
            "outboundRetrySchedule",
            "outboundDeadLetters",
          ] as const
        ).map((name) => hashSlot(keyspace.key(name, { partition, mid: "m", recipient: "r" }))),
      );
      expect(slots.size).toBe(1);
    }
  });

  it("refuses key parts that would move the slot or hide in redis-cli", () => {
    expect(() => keyspace.key("walletRoute", { recipient: "a}b{c" })).toThrow(KeyError);
    expect(() => keyspace.key("walletRoute", { recipient: "a b" })).toThrow(KeyError);
    expect(() => keyspace.key("walletRoute", {})).toThrow(KeyError);
    expect(() => keyspace.key("walletRoute", { recipient: "x".repeat(300) })).toThrow(KeyError);
    expect(() => keyspace.key("inboundQueue", { partition: 16 })).toThrow(KeyError);
    expect(() => new Keyspace("br", {}).key("inboundQueue", { partition: 0 })).toThrow(KeyError);
  });
});
