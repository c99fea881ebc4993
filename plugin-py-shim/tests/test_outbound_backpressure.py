"""A full outbound partition (or a Redis blip) slows the handler for a while before failing it.

And when it does fail, the inbound message whose handler sent the reply is not
acknowledged. Real redis-server; ACA-Py's own classes (tests/acapy_inbound_harness.py).
"""

import asyncio
import time
import uuid

import pytest
import redis.exceptions
from acapy_agent.config.injection_context import InjectionContext
from acapy_agent.connections.models.connection_target import ConnectionTarget
from acapy_agent.transport.outbound.base import OutboundDeliveryError, OutboundTransportError, QueuedOutboundMessage
from acapy_agent.transport.outbound.message import OutboundMessage

import acapy_bridge_shim.outbound as outbound_module
from acapy_bridge_shim import runtime_for
from acapy_bridge_shim.config import ShimConfigError, parse_config
from acapy_bridge_shim.outbound import BridgeOutboundTransport
from tests.acapy_inbound_harness import Agent, FakeProfile
from tests.waiting import eventually, hold_still, stays

ENDPOINT = "http://bob.example"


def profile_for(url: str, **outbound) -> FakeProfile:
    plugin = {"redis_url": url, "prefix": f"py-bp-{uuid.uuid4().hex[:6]}", "outbound": outbound}
    return FakeProfile(InjectionContext(settings={"plugin_config": {"acapy_bridge_shim": plugin}}))


def queued(endpoint: str = ENDPOINT) -> QueuedOutboundMessage:
    target = ConnectionTarget(endpoint=endpoint, recipient_keys=["VerkeyBob1"], routing_keys=[])
    q = QueuedOutboundMessage(None, OutboundMessage(payload="{}", target=target), target, None)
    q.payload = b'{"protected":"jwe"}'
    return q


async def jobs(profile) -> int:
    rt = runtime_for(profile.context)
    return sum([await rt.client.xlen(k) for k in rt.keyspace.all_partitions("outbound_queue")])


async def free_all_partitions(profile) -> None:
    """What a deliverer catching up does: the partition has room again."""
    rt = runtime_for(profile.context)
    for key in rt.keyspace.all_partitions("outbound_queue"):
        await rt.client.xtrim(key, maxlen=0)


async def test_a_full_partition_that_frees_up_within_the_budget_slows_the_handler_instead_of_failing_it(
    redis_server,
):
    profile = profile_for(redis_server.url, high_water_mark=1, busy_retry_s=5)
    t = BridgeOutboundTransport(root_profile=profile)
    try:
        await t.handle_message(profile, queued(), ENDPOINT)  # fills the partition
        sending = asyncio.create_task(t.handle_message(profile, queued(), ENDPOINT))
        await hold_still(0.3, "the send must keep waiting for room, neither done nor failed")
        assert not sending.done()  # waiting for room, not failed
        await free_all_partitions(profile)
        await asyncio.wait_for(sending, 3)
        assert await jobs(profile) == 1
    finally:
        await runtime_for(profile.context).close()


async def test_a_partition_full_beyond_the_budget_raises_a_transport_error_and_queues_nothing(redis_server):
    profile = profile_for(redis_server.url, high_water_mark=1, busy_retry_s=0.3)
    t = BridgeOutboundTransport(root_profile=profile)
    try:
        await t.handle_message(profile, queued(), ENDPOINT)
        began = time.monotonic()
        with pytest.raises(OutboundTransportError) as raised:
            await t.handle_message(profile, queued(), ENDPOINT)
        assert time.monotonic() - began >= 0.3
        assert not isinstance(raised.value, OutboundDeliveryError)
        assert "full" in str(raised.value)
        assert await jobs(profile) == 1
    finally:
        await runtime_for(profile.context).close()


async def test_a_transient_redis_error_is_retried_and_the_job_written_once(redis_server, monkeypatch):
    profile = profile_for(redis_server.url, busy_retry_s=2)
    t = BridgeOutboundTransport(root_profile=profile)
    real = outbound_module.enqueue_job
    errors = [redis.exceptions.ConnectionError("reset by peer"), redis.exceptions.TimeoutError("slow")]

    async def flaky(*args, **kwargs):
        if errors:
            raise errors.pop(0)
        return await real(*args, **kwargs)

    monkeypatch.setattr(outbound_module, "enqueue_job", flaky)
    try:
        await t.handle_message(profile, queued(), ENDPOINT)
        assert errors == []
        assert await jobs(profile) == 1
    finally:
        await runtime_for(profile.context).close()


async def test_a_reply_refused_by_a_full_partition_leaves_the_inbound_entry_pending(redis_server):
    agent = Agent(redis_server.url, plugin={"outbound": {"high_water_mark": 1, "busy_retry_s": 0.2}})
    outbound = BridgeOutboundTransport(root_profile=agent.profile)

    async def reply(payload):
        # ACA-Py calls an external transport inline and only catches OutboundDeliveryError.
        await outbound.handle_message(agent.profile, queued(), ENDPOINT)

    agent.handlers["reply"] = reply
    await agent.start()
    try:
        await agent.put("r1", {"do": "reply"})
        await eventually(lambda: _is(agent.backlog, 0))  # room: replied and acknowledged
        await agent.put("r2", {"do": "reply"})  # partition now full: the reply is refused
        await eventually(lambda: _is(agent.pending, 1))
        await stays(lambda: _is(agent.backlog, 1))
        assert agent.handled == ["r1", "r2"]
        assert await agent.dead_letters() == []
    finally:
        await agent.stop()


def test_busy_retry_and_event_queue_settings_are_validated_with_defaults():
    base = {"redis_url": "redis://127.0.0.1:6379"}
    config = parse_config(base)
    assert config.outbound.busy_retry_s == 2.0
    assert config.events.queue_max == 10_000
    assert parse_config({**base, "outbound": {"busy_retry_s": 0}}).outbound.busy_retry_s == 0.0
    assert parse_config({**base, "events": {"queue_max": 5}}).events.queue_max == 5
    for bad in ({"outbound": {"busy_retry_s": -1}}, {"outbound": {"busy_retry_s": "2"}}, {"events": {"queue_max": 0}}):
        with pytest.raises(ShimConfigError):
            parse_config({**base, **bad})


async def _is(get, n):
    return await get() == n
