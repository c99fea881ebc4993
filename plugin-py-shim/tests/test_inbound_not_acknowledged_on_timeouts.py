"""Processing or event writing that outlasts processing_timeout_s leaves the entry pending.

Redelivered later, it is a duplicate, never a loss. Real redis-server, ACA-Py's own
inbound machinery and event bus (tests/acapy_inbound_harness.py).
"""

import asyncio

from acapy_agent.core.event_bus import Event, EventBus

from acapy_bridge_shim.config import parse_config
from acapy_bridge_shim.events import EventPublisher
from acapy_bridge_shim.runtime import BridgeRuntime
from tests.acapy_inbound_harness import Agent
from tests.redis_server import free_port
from tests.waiting import eventually, hold_still, stays


async def _is(get, n):
    return await get() == n


async def test_a_handler_still_running_at_the_timeout_leaves_its_entry_pending(redis_server):
    agent = Agent(redis_server.url, plugin={"inbound": {"processing_timeout_s": 0.3}})
    await agent.start()
    try:
        release = asyncio.Event()

        async def slow(payload):
            await release.wait()

        agent.handlers["slow"] = slow
        await agent.put("slow1", {"do": "slow"})
        await eventually(lambda: _is(agent.pending, 1))
        await hold_still(0.5, "well past the 0.3 s processing timeout, the entry must stay unacknowledged")
        await stays(lambda: _is(agent.backlog, 1))
        assert await agent.dead_letters() == []
        assert agent.transport.consumer.stats["processed"] == 0
        release.set()
    finally:
        await agent.stop()


async def test_events_not_in_redis_by_the_timeout_leave_the_entry_pending(redis_server):
    agent = Agent(redis_server.url, plugin={"inbound": {"processing_timeout_s": 0.3}})
    # The publisher's Redis is unreachable: the event the handler raises cannot be written.
    dead = parse_config({"redis_url": f"redis://127.0.0.1:{free_port()}", "events": {"to_stream": True}})
    publisher = EventPublisher(BridgeRuntime(dead), dead)
    bus = EventBus()
    publisher.subscribe(bus)
    agent.context.injector.bind_instance(EventPublisher, publisher)

    async def notify(payload):
        await bus.notify(agent.profile, Event("acapy::basicmessage::received", {"connection_id": "c1"}))

    agent.handlers["notify"] = notify
    await agent.start()
    try:
        await agent.put("ev1", {"do": "notify"})
        await eventually(lambda: _len(agent.handled, 1))
        await eventually(lambda: _is(agent.pending, 1))
        await hold_still(0.5, "well past the 0.3 s processing timeout, the entry must stay unacknowledged")
        await stays(lambda: _is(agent.backlog, 1))
        assert publisher.accepted == 1 and publisher.published == 0
        assert await agent.dead_letters() == []
    finally:
        await agent.stop()
        await publisher.close(0.1)


async def _len(items, n):
    return len(items) >= n
