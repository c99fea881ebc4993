"""An inbound entry is acknowledged only when ACA-Py's handler for it succeeded.

ACA-Py reports "processing complete" for a handler that succeeded, raised or was
cancelled (shutdown); the entry of one that raised or was cancelled stays pending
and is delivered again. Real redis-server, ACA-Py's own inbound machinery
(tests/acapy_inbound_harness.py).
"""

import asyncio
import logging
from types import SimpleNamespace

import pytest

from acapy_bridge.v1 import envelopes_pb2 as pb
from tests.acapy_inbound_harness import Agent
from tests.waiting import eventually, stays


@pytest.fixture
async def agent(redis_server):
    a = Agent(redis_server.url)
    await a.start()
    yield a
    await a.stop()


async def _is(get, n):
    return await get() == n


async def test_a_handler_that_succeeds_is_acknowledged(agent):
    await agent.put("ok1", {"do": "nothing"})
    await eventually(lambda: _is(agent.backlog, 0))
    assert agent.handled == ["ok1"]
    assert await agent.dead_letters() == []


async def test_a_handler_that_raises_leaves_its_entry_pending(agent):
    async def fail(payload):
        raise RuntimeError("handler bug or store hiccup")

    agent.handlers["raise"] = fail
    await agent.put("bad1", {"do": "raise"})
    await eventually(lambda: _len(agent.handled, 1))
    await eventually(lambda: _is(agent.pending, 1))
    await stays(lambda: _is(agent.backlog, 1))
    assert await agent.pending() == 1
    assert await agent.dead_letters() == []
    assert agent.transport.consumer.stats["processed"] == 0


async def test_a_handler_cancelled_at_shutdown_leaves_its_entry_pending(agent):
    started = asyncio.Event()

    async def slow(payload):
        started.set()
        await asyncio.sleep(60)

    agent.handlers["slow"] = slow
    await agent.put("slow1", {"do": "slow"})
    await asyncio.wait_for(started.wait(), 5)
    # What ACA-Py's shutdown does: Dispatcher.complete(timeout=0.1) cancels running handlers,
    # and the task queue still reports each as complete (exc_info = CancelledError).
    await agent.dispatcher_queue.complete(timeout=0.1)
    await eventually(lambda: _is(agent.pending, 1))
    await stays(lambda: _is(agent.backlog, 1))
    assert await agent.dead_letters() == []
    assert agent.transport.consumer.stats["processed"] == 0


async def test_a_handler_the_dispatcher_starts_later_from_its_drain_task_is_still_seen_failing(redis_server):
    # max_active 1: the second handler is started by the task queue's drain task, not by receive().
    agent = Agent(redis_server.url, max_active=1)
    await agent.start()
    try:
        gate = asyncio.Event()

        async def wait_for_gate(payload):
            await gate.wait()

        async def fail(payload):
            raise RuntimeError("fails after waiting its turn")

        agent.handlers["gate"] = wait_for_gate
        agent.handlers["raise"] = fail
        await agent.put("first", {"do": "gate"})
        await eventually(lambda: _len(agent.handled, 1))
        await agent.put("second", {"do": "raise"}, recipient_key="VerkeyOther")
        await eventually(lambda: _queued(agent.dispatcher_queue))
        gate.set()
        await eventually(lambda: _len(agent.handled, 2))
        await eventually(lambda: _is(agent.backlog, 1))  # "first" acknowledged
        await stays(lambda: _is(agent.pending, 1))  # "second" not
        assert agent.handled == ["first", "second"]
    finally:
        await agent.stop()


async def test_a_failing_handler_is_delivered_again_then_dead_lettered_as_poison(redis_server):
    agent = Agent(redis_server.url, plugin={"inbound": {"max_deliveries": 2, "claim_idle_ms": 100}})
    await agent.start()
    try:

        async def fail(payload):
            raise RuntimeError("always")

        agent.handlers["raise"] = fail
        await agent.put("poison1", {"do": "raise"})
        letters = await eventually(agent.dead_letters, limit_s=10)
        assert [(d.mid, d.reason) for d in letters] == [("poison1", pb.DEAD_LETTER_REASON_POISON)]
        assert agent.handled == ["poison1", "poison1"]
        assert await agent.backlog() == 0
    finally:
        await agent.stop()


async def test_a_message_its_handler_refuses_is_dead_lettered_at_once_not_delivered_again(agent):
    from acapy_agent.messaging.base_handler import HandlerException

    async def refuse(payload):
        raise HandlerException("no active connection")

    agent.handlers["refuse"] = refuse
    await agent.put("refused1", {"do": "refuse"})
    letters = await eventually(agent.dead_letters, limit_s=10)
    assert [(d.mid, d.reason) for d in letters] == [("refused1", pb.DEAD_LETTER_REASON_POISON)]
    assert "no active connection" in letters[0].detail
    await eventually(lambda: _is(agent.backlog, 0))
    assert agent.handled == ["refused1"]


def test_the_hook_wraps_dispatch_complete_once_and_still_calls_acapy():
    from acapy_bridge_shim.inbound_handler_outcomes import install_handler_outcome_hook

    calls = []

    class Manager:
        def dispatch_complete(self, message, completed):
            calls.append((message, completed))

    class Message:  # InboundMessage's stand-in
        pass

    manager = Manager()
    failures = install_handler_outcome_hook(manager)
    assert install_handler_outcome_hook(manager) is failures  # never wrapped twice
    ok, bad = Message(), Message()
    manager.dispatch_complete(ok, SimpleNamespace(exc_info=None))
    error = ValueError("boom")
    manager.dispatch_complete(bad, SimpleNamespace(exc_info=(ValueError, error, None)))
    assert len(calls) == 2
    assert ok not in failures
    assert failures[bad] == ("ValueError: boom", False)
    assert install_handler_outcome_hook(SimpleNamespace()) is None


async def test_without_the_hook_it_warns_once_and_acknowledges_as_before(redis_server, caplog):
    agent = Agent(redis_server.url)
    # A create_session that does not name the manager, and sessions without a close handler.
    create = agent.manager.create_session

    async def opaque_create_session(*args, **kwargs):
        session = await create(*args, **kwargs)
        session.close_handler = None
        return session

    agent.transport._create_session = opaque_create_session
    await agent.start()
    try:
        caplog.set_level(logging.WARNING, logger="acapy_bridge_shim.inbound")
        await agent.put("a", {"do": "nothing"})
        await agent.put("b", {"do": "nothing"}, recipient_key="VerkeyB")
        await eventually(lambda: _is(agent.backlog, 0))
        warnings = [r for r in caplog.records if "cannot see ACA-Py handler outcomes" in r.getMessage()]
        assert len(warnings) == 1
    finally:
        await agent.stop()


async def _len(items, n):
    return len(items) >= n


async def _queued(queue) -> bool:
    return queue.current_pending >= 1
