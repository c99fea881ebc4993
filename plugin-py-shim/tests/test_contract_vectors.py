"""The Python side of the contract agrees byte for byte with the shared vectors."""

import pytest
from google.protobuf import json_format

from acapy_bridge.codec import EnvelopeDecodeError, decode_envelope, encode_envelope
from acapy_bridge.keyspace import KEY_SPECS, KeyError_, Keyspace, partition_counts_of
from acapy_bridge.partitioning import crc16, hash_slot, partition_of, partition_tag
from acapy_bridge.v1 import envelopes_pb2
from tests.fuzz_seed import fuzz_seed, seeded_random


def _types():
    return {
        message.full_name: getattr(envelopes_pb2, message.name)
        for message in envelopes_pb2.DESCRIPTOR.message_types_by_name.values()
    }


class _Topology:
    def __init__(self, t):
        self.inbound_partitions = t["inboundPartitions"]
        self.outbound_partitions = t["outboundPartitions"]
        self.event_partitions = t["eventPartitions"]
        self.admin_partitions = t["adminPartitions"]


def test_crc16_and_slots_match_redis(vectors):
    for v in vectors["crc16"]:
        assert crc16(v["input"].encode()) == v["crc16"]
    for v in vectors["slots"]:
        assert hash_slot(v["key"]) == v["slot"], v["key"]


def test_routing_keys_land_in_the_same_partition_as_in_typescript(vectors):
    for v in vectors["partitions"]:
        assert partition_of(v["routing_key"], v["count"]) == v["partition"], v


def test_partition_tags_match(vectors):
    for v in vectors["partition_tags"]:
        assert partition_tag(v["family"], v["partition"], v["count"]) == v["tag"]


def test_every_key_renders_like_typescript(vectors):
    keyspace = Keyspace(vectors["prefix"], partition_counts_of(_Topology(vectors["topology"])))
    covered = set()
    for v in vectors["keys"]:
        assert keyspace.key(v["name"], **v["vars"]) == v["key"]
        assert hash_slot(v["key"]) == v["slot"]
        covered.add(v["name"])
    assert covered == set(KEY_SPECS)


def test_unsafe_key_parts_are_refused(vectors):
    keyspace = Keyspace("br", {"i": 4})
    for bad in ["a{b", "a b", "", "x" * 300]:
        with pytest.raises(KeyError_):
            keyspace.key("wallet_route", recipient=bad)
    with pytest.raises(KeyError_):
        keyspace.key("inbound_queue", partition=4)


def test_every_envelope_encodes_and_decodes_like_typescript(vectors):
    types = _types()
    assert {v["type"] for v in vectors["envelopes"]} == set(types)
    for v in vectors["envelopes"]:
        message_type = types[v["type"]]
        message = json_format.ParseDict(v["json"], message_type())
        assert encode_envelope(message).hex() == v["hex"], v["type"]
        decoded = decode_envelope(message_type, bytes.fromhex(v["hex"]))
        assert decoded == message


def test_malformed_envelopes_raise_a_typed_error(vectors):
    types = _types()
    for v in vectors["malformed"]:
        with pytest.raises(EnvelopeDecodeError) as info:
            decode_envelope(types[v["type"]], bytes.fromhex(v["hex"]))
        assert info.value.type_name == v["type"], v["why"]


def test_random_bytes_never_raise_anything_else():
    seed = fuzz_seed()
    rng = seeded_random(seed)
    for i in range(2000):
        data = rng.randbytes(1 + i % 64)
        try:
            decode_envelope(envelopes_pb2.OutboundJob, data)
        except EnvelopeDecodeError:
            pass
        except Exception as error:
            raise AssertionError(f"{data.hex()} raised {error!r} (replay with FUZZ_SEED={seed})") from error
