"""A returned reply (a direct response whose request or socket was gone) is sent again by ACA-Py.

Real redis-server; ACA-Py's own inbound machinery and conductor routing, without an admin server
(tests/acapy_inbound_harness.py): the conductor's outbound router, its OutboundTransportManager
running the shim's outbound transport, its undelivered queue.
"""

import logging

import pytest
from acapy_agent.admin.server import AdminResponder
from acapy_agent.connections.models.connection_target import ConnectionTarget
from acapy_agent.messaging.responder import BaseResponder
from acapy_agent.transport.inbound.delivery_queue import DeliveryQueue

from acapy_bridge.v1 import envelopes_pb2 as pb
from tests.acapy_inbound_harness import PEER_KEY, Agent, backlog_is, put_returned
from tests.waiting import eventually

ENDPOINT = "http://peer.example/didcomm"


@pytest.fixture
async def agent(redis_server):
    a = Agent(redis_server.url)
    await a.start()
    yield a
    await a.stop()


async def test_a_returned_reply_is_sent_again_without_an_admin_server(agent):
    assert agent.context.inject_or(BaseResponder) is None  # as in ACA-Py without --admin
    agent.connections.targets["conn-1"] = ConnectionTarget(endpoint=ENDPOINT, recipient_keys=[PEER_KEY])
    await put_returned(agent, "r1", connection_id="conn-1", reply_to_verkey=PEER_KEY)

    jobs = await eventually(agent.outbound_jobs)
    assert [(j.endpoint, j.body, j.recipient_key, j.connection_id) for j in jobs] == [
        (ENDPOINT, b'{"jwe":1}', PEER_KEY, "conn-1")
    ]
    await eventually(lambda: backlog_is(agent, 0))  # acknowledged
    assert await agent.dead_letters() == []


async def test_an_undeliverable_returned_reply_is_a_dead_letter_with_its_reason(agent):
    # With an admin server ACA-Py binds this responder; the status it returns used to be ignored.
    agent.context.injector.bind_instance(
        BaseResponder, AdminResponder(agent.profile, agent.conductor.outbound_message_router)
    )
    await put_returned(agent, "r2", reply_to_verkey=PEER_KEY)  # no connection, no session, no undelivered queue

    letters = await eventually(agent.dead_letters)
    assert [(d.agent_message.mid, d.reason) for d in letters] == [("r2", pb.DEAD_LETTER_REASON_INVALID_ENDPOINT)]
    assert "UNDELIVERABLE" in letters[0].detail and "orig-r2" in letters[0].detail
    assert letters[0].attempts == 1
    await eventually(lambda: backlog_is(agent, 0))
    assert await agent.outbound_jobs() == []


async def test_a_returned_reply_waiting_for_pickup_is_acknowledged_with_a_warning(agent, caplog):
    agent.manager.undelivered_queue = DeliveryQueue()  # --enable-undelivered-queue
    caplog.set_level(logging.INFO, logger="acapy_bridge_shim")
    await put_returned(agent, "r3", reply_to_verkey=PEER_KEY)

    await eventually(lambda: backlog_is(agent, 0))
    assert agent.manager.undelivered_queue.has_message_for_key(PEER_KEY)
    assert await agent.dead_letters() == []
    warned = [r for r in caplog.records if r.levelno == logging.WARNING and "WAITING_FOR_PICKUP" in r.getMessage()]
    assert len(warned) == 1 and "orig-r3" in warned[0].getMessage()


async def test_a_returned_reply_for_a_connection_acapy_does_not_know_is_a_dead_letter_at_once(agent):
    # E.g. deleted since. A reply naming no sub-wallet is sent with the root profile (the base wallet).
    agent.context.settings["multitenant.enabled"] = True
    await put_returned(agent, "r4", connection_id="conn-gone", reply_to_verkey=PEER_KEY)

    letters = await eventually(agent.dead_letters)
    assert [(d.agent_message.mid, d.reason, d.attempts) for d in letters] == [
        ("r4", pb.DEAD_LETTER_REASON_INVALID_ENDPOINT, 1)
    ]
    assert "conn-gone" in letters[0].detail and "base wallet" in letters[0].detail
    await eventually(lambda: backlog_is(agent, 0))
