"""The inbound transport keeps trying to start its consumer (logging each failure) until it reads.

Real redis-server, ACA-Py's own inbound machinery (tests/acapy_inbound_harness.py).
"""

import logging

import redis.exceptions

import acapy_bridge_shim.inbound as inbound_module
import acapy_bridge_shim.inbound_consumer as consumer_module
from tests.acapy_inbound_harness import Agent
from tests.waiting import eventually


async def _is(get, n):
    return await get() == n


async def test_consumer_groups_failing_right_after_connect_are_retried_until_it_reads(
    redis_server, monkeypatch, caplog
):
    # Redis restarting just after the connection: still loading its data, then the link drops.
    failures = [redis.exceptions.BusyLoadingError("loading the dataset"), redis.exceptions.ConnectionError("reset")]
    real_ensure_group = consumer_module.ensure_group

    async def flaky_ensure_group(client, stream, group):
        if failures:
            raise failures.pop(0)
        return await real_ensure_group(client, stream, group)

    monkeypatch.setattr(consumer_module, "ensure_group", flaky_ensure_group)
    monkeypatch.setattr(inbound_module, "START_RETRY_FIRST_S", 0.05, raising=False)
    caplog.set_level(logging.WARNING, logger="acapy_bridge_shim.inbound")
    agent = Agent(redis_server.url)
    await agent.transport.start()
    try:
        await eventually(lambda: _consumer_reading(agent), limit_s=10)
        assert failures == []
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert any("BusyLoadingError" in w for w in warnings)
        assert any("ConnectionError" in w for w in warnings)
        # And it really reads.
        await agent.put("after-restart", {"do": "nothing"})
        await eventually(lambda: _is(agent.backlog, 0))
        assert agent.handled == ["after-restart"]
    finally:
        await agent.stop()


async def test_stop_while_still_retrying_ends_the_start_task(redis_server, monkeypatch):
    async def never(client, stream, group):
        raise redis.exceptions.ConnectionError("down")

    monkeypatch.setattr(consumer_module, "ensure_group", never)
    monkeypatch.setattr(inbound_module, "START_RETRY_FIRST_S", 0.05, raising=False)
    agent = Agent(redis_server.url)
    await agent.transport.start()
    await eventually(lambda: _has_consumer(agent))
    starter = agent.transport._starter
    assert not starter.done()
    await agent.stop()
    assert starter.done() and starter.cancelled()


async def _consumer_reading(agent) -> bool:
    consumer = agent.transport.consumer
    return consumer is not None and bool(consumer._tasks)


async def _has_consumer(agent) -> bool:
    return agent.transport.consumer is not None
