"""The event publisher holds at most events.queue_max events; beyond that events wait, in order.

Nothing is dropped: an event that finds the queue full waits in its bus task (counted
and logged), and is written in its turn. A write that hangs is abandoned and retried.
Real redis-server and ACA-Py's own event bus.
"""

import asyncio
import json
import logging
import uuid

import pytest
from acapy_agent.core.event_bus import Event, EventBus

import acapy_bridge_shim.events as events_module
from acapy_bridge.codec import decode_envelope
from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge_shim.config import parse_config
from acapy_bridge_shim.events import EventPublisher
from acapy_bridge_shim.runtime import BridgeRuntime
from tests.waiting import eventually


class FakeProfile:
    settings = {}


@pytest.fixture
async def runtime(redis_server):
    config = parse_config(
        {
            "redis_url": redis_server.url,
            "prefix": f"py-evq-{uuid.uuid4().hex[:6]}",
            "events": {"to_stream": True, "queue_max": 3},
        }
    )
    rt = BridgeRuntime(config)
    await rt.connect()
    yield rt
    await rt.close()


async def stream_contents(rt) -> list[str]:
    out = []
    for key in rt.keyspace.all_partitions("events"):
        for _, fields in await rt.client.xrange(key):
            out.append(json.loads(decode_envelope(pb.AgentEvent, fields[b"e"]).payload_json)["content"])
    return out


async def test_a_full_queue_makes_events_wait_in_order_and_drops_none(runtime, caplog):
    publisher = EventPublisher(runtime, runtime.config)
    bus = EventBus()
    publisher.subscribe(bus)
    gate = asyncio.Event()
    real_append = publisher._append_event

    async def stuck_until_gate(event):  # Redis hanging for a while
        await gate.wait()
        await real_append(event)

    publisher._append_event = stuck_until_gate
    caplog.set_level(logging.WARNING, logger="acapy_bridge_shim.events")
    for i in range(10):
        await bus.notify(FakeProfile(), Event("acapy::basicmessage::received", {"connection_id": "c1", "content": i}))

    async def all_but_the_one_being_written_wait():
        return publisher.waiting == 10 - 1

    await eventually(all_but_the_one_being_written_wait, what="nine events waiting behind the stuck write")
    # One being written, at most queue_max queued, the rest waiting for room in their bus tasks.
    assert publisher._queue.qsize() <= 3
    assert publisher.accepted == 10
    assert publisher.overflowed >= 10 - 1 - 3
    assert publisher.waiting == 10 - 1
    assert any("event queue full" in r.getMessage() for r in caplog.records)
    # The barrier the inbound transport waits on says "not written" meanwhile.
    assert await publisher.written_so_far(0.2) is False
    gate.set()
    assert await publisher.written_so_far(5.0) is True
    assert await stream_contents(runtime) == list(range(10))  # all of them, in order
    await publisher.close()


async def test_a_write_that_hangs_is_abandoned_and_retried(runtime, monkeypatch):
    monkeypatch.setattr(events_module, "WRITE_TIMEOUT_S", 0.2)
    publisher = EventPublisher(runtime, runtime.config)
    bus = EventBus()
    publisher.subscribe(bus)
    real_append = publisher._append_event
    calls = []

    async def first_hangs(event):
        calls.append(event.mid)
        if len(calls) == 1:
            await asyncio.sleep(3600)
        await real_append(event)

    publisher._append_event = first_hangs
    await bus.notify(FakeProfile(), Event("acapy::basicmessage::received", {"connection_id": "c1", "content": "x"}))
    assert await publisher.written_so_far(3.0) is True
    assert len(calls) == 2 and calls[0] == calls[1]  # the same event (same mid) again
    assert await stream_contents(runtime) == ["x"]
    await publisher.close()
