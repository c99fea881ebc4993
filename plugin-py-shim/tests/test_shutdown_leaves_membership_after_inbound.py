"""At ACA-Py's shutdown this instance leaves the membership only after its inbound consumer stopped.

Peers take the pending entries of a consumer that left (XCLAIM after ~1 s): leaving while messages
are still in hand would have them processed a second time.
"""

import asyncio
import uuid

import pytest

from acapy_bridge.codec import encode_envelope
from acapy_bridge.partitioning import partition_of
from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge_shim.config import parse_config
from acapy_bridge_shim.inbound_consumer import InboundConsumer
from acapy_bridge_shim.inbound_outcome import Outcome
from acapy_bridge_shim.lifecycle import register_lifecycle
from acapy_bridge_shim.runtime import BridgeRuntime
from tests.waiting import hold_still


class FakeBus:
    def __init__(self):
        self.handlers = {}

    def subscribe(self, pattern, handler):
        self.handlers[pattern.pattern] = handler


class FakeContext:
    """What register_lifecycle asks of ACA-Py's injection context."""

    def __init__(self, bus):
        self._bus = bus

    def inject(self, cls):
        return self._bus

    def inject_or(self, cls, default=None):
        return default


@pytest.fixture
async def runtime(redis_server):
    rt = BridgeRuntime(parse_config({"redis_url": redis_server.url, "prefix": f"py-sd-{uuid.uuid4().hex[:6]}"}))
    await rt.connect()
    yield rt
    await rt.close()


async def member_score(rt: BridgeRuntime):
    return await rt.client.zscore(rt.keyspace.key("members", role="shim"), rt.instance_id)


async def backlog(rt: BridgeRuntime) -> int:
    return sum([await rt.client.xlen(k) for k in rt.keyspace.all_partitions("inbound_queue")])


def consumer_of(rt: BridgeRuntime, deliver) -> InboundConsumer:
    async def live():
        return await rt.membership.live_members("shim")

    async def no_requeue(message):
        raise AssertionError("unexpected requeue")

    consumer = InboundConsumer(
        client=rt.client,
        scripts=rt.scripts,
        keyspace=rt.keyspace,
        consumer=rt.instance_id,  # as the inbound transport names it
        settings=rt.config.inbound,
        deliver=deliver,
        requeue=no_requeue,
        live_consumers=live,
        claim_interval_s=60,
    )
    rt.inbound = consumer  # as the inbound transport hands it over
    return consumer


async def put(rt: BridgeRuntime, mid: str) -> None:
    message = pb.AgentMessage(
        mid=mid,
        kind=pb.INBOUND_KIND_AGENT_MESSAGE,
        recipient_key="VerkeySd",
        body=b"{}",
        transport=pb.TRANSPORT_HTTP,
    )
    count = rt.keyspace.partition_count("inbound_queue")
    await rt.client.xadd(
        rt.keyspace.key("inbound_queue", partition=partition_of(message.recipient_key, count)),
        {rt.keyspace.spec("inbound_queue").entry_field: encode_envelope(message)},
    )


async def consumer_holding_a_message(rt: BridgeRuntime, mid: str) -> tuple[InboundConsumer, asyncio.Event]:
    """A started consumer with one message in hand, held until the returned event is set."""
    started = asyncio.Event()
    release = asyncio.Event()

    async def deliver(message, reply_now):
        started.set()
        await release.wait()
        return Outcome()

    consumer = consumer_of(rt, deliver)
    await consumer.start()
    await put(rt, mid)
    await asyncio.wait_for(started.wait(), 5)
    return consumer, release


async def test_shutdown_removes_the_member_only_after_the_messages_in_hand_are_done(runtime):
    consumer, release = await consumer_holding_a_message(runtime, "s1")
    bus = FakeBus()
    register_lifecycle(FakeContext(bus), runtime)
    shutdown = asyncio.create_task(bus.handlers[r"^acapy::core::shutdown$"](None, None))
    # ACA-Py stops its inbound transport at the same time (a second stop of the same consumer).
    transport_stop = asyncio.create_task(consumer.stop())
    await hold_still(0.3, "the shutdown must not finish while the message is in hand")
    assert not shutdown.done()
    assert await member_score(runtime) is not None  # still a member while the message is in hand
    release.set()
    await asyncio.wait_for(asyncio.gather(shutdown, transport_stop), 5)
    assert await _score_after_close(runtime) is None
    assert consumer.stats["processed"] == 1


async def _score_after_close(rt: BridgeRuntime):
    # The runtime's client is closed now: ask with a fresh one.
    from acapy_bridge.redis_connection import create_redis_client

    client = create_redis_client(rt.config.redis)
    try:
        key = rt.keyspace.key("members", role="shim")
        inbound = sum([await client.xlen(k) for k in rt.keyspace.all_partitions("inbound_queue")])
        assert inbound == 0  # acknowledged before the member left
        return await client.zscore(key, rt.instance_id)
    finally:
        await client.aclose()


async def test_closing_the_runtime_stops_its_inbound_consumer_first(runtime):
    _consumer, release = await consumer_holding_a_message(runtime, "s2")
    closing = asyncio.create_task(runtime.close())
    await hold_still(0.3, "the runtime must stay a member while the message is in hand")
    assert await member_score(runtime) is not None
    release.set()
    await asyncio.wait_for(closing, 5)
    assert await _score_after_close(runtime) is None
