"""A transient error while ACA-Py receives a message leaves its entry pending; a parse error buries it.

Real redis-server, ACA-Py's own inbound machinery (tests/acapy_inbound_harness.py).
"""

import pytest
import redis.exceptions
from acapy_agent.core.error import ProfileError
from acapy_agent.storage.error import StorageError
from acapy_agent.transport.error import WireFormatParseError

from acapy_bridge.v1 import envelopes_pb2 as pb
from tests.acapy_inbound_harness import Agent
from tests.waiting import eventually, stays


@pytest.fixture
async def agent(redis_server):
    # Claimed again soon after failing, so a redelivery shows within the test.
    a = Agent(redis_server.url, plugin={"inbound": {"claim_idle_ms": 300}})
    await a.start()
    yield a
    await a.stop()


async def _is(get, n):
    return await get() == n


async def test_a_timeout_while_receiving_leaves_the_entry_pending_then_it_is_delivered_again(agent):
    agent.wire_format.receive_errors.append(TimeoutError())
    await agent.put("t1", {"do": "nothing"})
    await eventually(lambda: _is(agent.pending, 1))
    assert await agent.dead_letters() == []
    # Delivered again (claimed once idle), handled and acknowledged.
    await eventually(lambda: _is(agent.backlog, 0))
    assert agent.handled == ["t1"]
    assert await agent.dead_letters() == []


@pytest.mark.parametrize(
    "error",
    [
        ProfileError("cannot open a session"),
        StorageError("store closed"),
        redis.exceptions.ConnectionError("Redis went away"),
        redis.exceptions.BusyLoadingError("loading"),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_store_and_redis_errors_while_receiving_are_retried_not_dead_lettered(redis_server, error):
    agent = Agent(redis_server.url)  # default claim_idle_ms: the entry stays pending
    await agent.start()
    try:
        agent.wire_format.receive_errors.append(error)
        await agent.put("s1", {"do": "nothing"})
        await eventually(lambda: _is(agent.pending, 1))
        await stays(lambda: _is(agent.backlog, 1))
        assert await agent.dead_letters() == []
        assert agent.handled == []
    finally:
        await agent.stop()


async def test_a_wire_format_parse_error_is_still_dead_lettered_as_malformed(agent):
    agent.wire_format.receive_errors.append(WireFormatParseError("not a DIDComm envelope"))
    await agent.put("m1", {"do": "nothing"})
    letters = await eventually(agent.dead_letters)
    assert [(d.mid, d.reason) for d in letters] == [("m1", pb.DEAD_LETTER_REASON_MALFORMED)]
    assert await agent.backlog() == 0
