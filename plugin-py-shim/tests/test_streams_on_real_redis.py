"""The shim's Redis plumbing against a real redis-server."""

import uuid

import pytest

from acapy_bridge.codec import decode_envelope, encode_envelope
from acapy_bridge.lingering_acks import LingeringAcks
from acapy_bridge.redis_connection import (
    RedisConfigError,
    RedisConnectionConfig,
    create_redis_client,
    validate_redis_config,
)
from acapy_bridge.scripts import Scripts
from acapy_bridge.streams import (
    Busy,
    Duplicate,
    Queued,
    ack_entries,
    auto_claim,
    bury_entry,
    enqueue_envelope,
    ensure_group,
    read_group,
)
from acapy_bridge.topology import PartitionPlan, TopologyMismatchError, ensure_topology
from acapy_bridge.v1 import envelopes_pb2
from tests.redis_server import RedisServer
from tests.waiting import eventually


@pytest.fixture
async def client(redis_server):
    c = create_redis_client(RedisConnectionConfig(url=redis_server.url))
    yield c
    await c.aclose()


def job(mid: str) -> bytes:
    return encode_envelope(envelopes_pb2.OutboundJob(mid=mid, body=b"\x00\xff", endpoint="http://x"))


async def test_enqueue_dedups_and_refuses_at_high_water_mark(client):
    keyspace = await ensure_topology(client, f"py-{uuid.uuid4().hex[:6]}", PartitionPlan())
    scripts = Scripts(client)
    stream = keyspace.key("outbound_queue", partition=2)
    seen = keyspace.key("outbound_seen", partition=2, mid="m1")
    field = keyspace.spec("outbound_queue").entry_field
    first = await enqueue_envelope(
        scripts,
        stream=stream,
        entry_field=field,
        payload=job("m1"),
        high_water_mark=2,
        seen_key=seen,
        seen_ttl_ms=60_000,
    )
    assert isinstance(first, Queued)
    again = await enqueue_envelope(
        scripts,
        stream=stream,
        entry_field=field,
        payload=job("m1"),
        high_water_mark=2,
        seen_key=seen,
        seen_ttl_ms=60_000,
    )
    assert again == Duplicate()
    await enqueue_envelope(scripts, stream=stream, entry_field=field, payload=job("m2"), high_water_mark=2)
    busy = await enqueue_envelope(scripts, stream=stream, entry_field=field, payload=job("m3"), high_water_mark=2)
    assert busy == Busy(2)


async def stream_with_entries(client, queue: str, partition: int, mids: tuple[str, ...]):
    """A fresh keyspace's `queue` partition holding one job per mid, with its consumer group."""
    keyspace = await ensure_topology(client, f"py-{uuid.uuid4().hex[:6]}", PartitionPlan())
    scripts = Scripts(client)
    spec = keyspace.spec(queue)
    stream = keyspace.key(queue, partition=partition)
    await ensure_group(client, stream, spec.consumer_group)
    for mid in mids:
        await enqueue_envelope(
            scripts, stream=stream, entry_field=spec.entry_field, payload=job(mid), high_water_mark=0
        )
    return keyspace, scripts, spec, stream


async def test_read_ack_claim_and_bury(client):
    keyspace, scripts, spec, stream = await stream_with_entries(client, "outbound_queue", 0, ("a", "b"))
    entries = await read_group(
        client, stream=stream, group=spec.consumer_group, consumer="dead", entry_field=spec.entry_field, count=10
    )
    assert [decode_envelope(envelopes_pb2.OutboundJob, e.payload).mid for e in entries] == ["a", "b"]
    _, claimed, _ = await auto_claim(
        client,
        stream=stream,
        group=spec.consumer_group,
        consumer="alive",
        min_idle_ms=0,
        entry_field=spec.entry_field,
    )
    assert [e.id for e in claimed] == [e.id for e in entries]
    assert await ack_entries(scripts, stream, spec.consumer_group, [claimed[0].id]) == 1
    dead_letter = envelopes_pb2.DeadLetter(mid="b", reason=envelopes_pb2.DEAD_LETTER_REASON_POISON, attempts=3)
    await bury_entry(
        scripts,
        stream=stream,
        dead_letter_stream=keyspace.key("outbound_dead_letters", partition=0),
        group=spec.consumer_group,
        entry_id=claimed[1].id,
        entry_field=spec.entry_field,
        dead_letter=encode_envelope(dead_letter),
    )
    assert await client.xlen(stream) == 0
    assert await client.xlen(keyspace.key("outbound_dead_letters", partition=0)) == 1


async def test_topology_mismatch_is_refused(client):
    prefix = f"py-{uuid.uuid4().hex[:6]}"
    await ensure_topology(client, prefix, PartitionPlan(inbound_partitions=8))
    with pytest.raises(TopologyMismatchError):
        await ensure_topology(client, prefix, PartitionPlan(inbound_partitions=4))


def test_bad_redis_settings_are_refused_before_connecting():
    for bad in ["http://x", "", "redis://", "redis://h:1,redis://h:2"]:
        with pytest.raises(RedisConfigError):
            validate_redis_config(RedisConnectionConfig(url=bad))


async def test_lingering_acks_acknowledge_a_trickle_together_after_the_linger(client):
    _, scripts, spec, stream = await stream_with_entries(client, "inbound_queue", 1, ("l1", "l2", "l3"))
    entries = await read_group(
        client, stream=stream, group=spec.consumer_group, consumer="c1", entry_field=spec.entry_field, count=10
    )
    acks = LingeringAcks(scripts, spec.consumer_group, linger_s=0.2)
    for entry in entries:
        acks.add(stream, entry.id)
    assert acks.waiting == 3
    assert acks.holds(stream, entries[0].id)
    assert await client.xlen(stream) == 3  # still lingering

    async def acknowledged():
        return await client.xlen(stream) == 0

    await eventually(acknowledged, what="the acknowledgements sent after the linger")
    assert acks.waiting == 0
    assert not acks.holds(stream, entries[0].id)
    assert await client.xlen(stream) == 0
    await acks.close()


async def test_lingering_acks_are_kept_while_redis_is_down_and_sent_once_it_is_back(caplog):
    server = RedisServer("--appendonly", "yes", "--appendfsync", "always").start()
    client = create_redis_client(RedisConnectionConfig(url=server.url, socket_timeout_s=1.0))
    try:
        _, scripts, spec, stream = await stream_with_entries(client, "inbound_queue", 0, ("d1", "d2"))
        entries = await read_group(
            client, stream=stream, group=spec.consumer_group, consumer="c1", entry_field=spec.entry_field, count=10
        )
        acks = LingeringAcks(scripts, spec.consumer_group, linger_s=0.05)
        server.kill()  # every write so far is in the append-only file
        for entry in entries:
            acks.add(stream, entry.id)

        async def call_failed():
            return "acknowledging 2 entries" in caplog.text

        # redis-py retries a refused connection for a few seconds before the call fails.
        await eventually(call_failed, limit_s=15, what="the failed acknowledgement logged")
        assert acks.waiting == 2  # kept for the next try, not dropped
        assert all(acks.holds(stream, entry.id) for entry in entries)
        server.start()

        async def all_acknowledged():
            return acks.waiting == 0 and await client.xlen(stream) == 0

        await eventually(all_acknowledged, limit_s=15, what="every acknowledgement sent")
        await acks.close()
    finally:
        await client.aclose()
        server.stop()
