"""The pickup handlers learn the WebSocket session a message came on, through ACA-Py's own dispatch.

ACA-Py's InboundTransportManager, InboundSession and the dispatcher's TaskQueue around the shim's
inbound transport (tests/acapy_inbound_harness.py). The handler gets only ACA-Py's InboundMessage
(its receipt); with one handler slot busy it starts later from the queue's drain, on another task.
"""

import asyncio

import pytest

from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge_shim.pickup.sessions import session_of
from tests.acapy_inbound_harness import Agent
from tests.waiting import eventually


@pytest.fixture
async def agent(redis_server):
    a = Agent(redis_server.url, max_active=1)
    await a.start()
    yield a
    await a.stop()


async def test_a_handler_started_later_by_acapy_sees_the_socket_and_epoch_of_its_message(agent):
    seen = {}
    release = asyncio.Event()
    original = agent.handle

    async def handle(message):
        payload = message.payload
        if payload.get("do") == "block":
            await release.wait()
        seen[payload["@id"]] = session_of(message.receipt)
        await original(message)

    agent.handle = handle
    await agent.put("blocker", {"do": "block"})
    await eventually(lambda: _true(agent.handled == [] and agent.dispatcher_queue.current_active == 1))
    await agent.put(
        "over-ws",
        {"~transport": {"return_route": "all"}},
        transport=pb.TRANSPORT_WEBSOCKET,
        socket_id="sock-7",
        session_epoch=1_234_567,
    )
    await agent.put("over-http", {})
    await eventually(lambda: _true(agent.dispatcher_queue.current_pending >= 1))
    release.set()
    await eventually(lambda: _true({"over-ws", "over-http"} <= set(seen)))
    assert seen["over-ws"] == pb.WalletRoute(relay_id="relay-h", socket_id="sock-7", epoch=1_234_567)
    assert seen["over-http"] is None  # no session: live delivery is refused for such a message


async def _true(value) -> bool:
    return bool(value)
