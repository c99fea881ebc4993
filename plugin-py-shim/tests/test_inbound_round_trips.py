"""ACA-Py's process makes at most two Redis round trips per inbound message: the read, and one write.

The message of the e2e path: an HTTP request waiting for its answer, a handler that raises an
event (a webhook job and an event-stream entry) and sends a reply (an outbound job). The
answer for the relay, the jobs, the event and the acknowledgement leave in one call. Counted
on the shim's own Redis client; real redis-server, ACA-Py's own inbound and outbound machinery
(tests/acapy_inbound_harness.py) and event bus.
"""

import collections
import json
import uuid

import pytest
import redis.asyncio as redis
from acapy_agent.connections.models.connection_target import ConnectionTarget
from acapy_agent.core.event_bus import Event, EventBus
from acapy_agent.transport.outbound.base import QueuedOutboundMessage
from acapy_agent.transport.outbound.message import OutboundMessage

from acapy_bridge.codec import decode_envelope, encode_envelope
from acapy_bridge.partitioning import partition_of
from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge_shim.events import EventPublisher
from acapy_bridge_shim.outbound import BridgeOutboundTransport
from tests.acapy_inbound_harness import RELAY, Agent
from tests.waiting import eventually

MESSAGES = 20
# Background calls in the run's few seconds: heartbeats, claim sweeps, reads that timed out.
BACKGROUND_ALLOWANCE = 8
BOB = "http://bob.example/didcomm"
HOOKS = "http://controller.example/hooks"


def reply_to_bob() -> QueuedOutboundMessage:
    target = ConnectionTarget(endpoint=BOB, recipient_keys=["VerkeyBob1"], routing_keys=[])
    queued = QueuedOutboundMessage(None, OutboundMessage(payload="{}", target=target), target, None)
    queued.payload = b'{"protected":"jwe"}'
    return queued


class CountingClient:
    """Counts the calls (round trips) a redis-py client makes, by command (none here is pipelined)."""

    def __init__(self, client) -> None:
        self.calls: collections.Counter[str] = collections.Counter()
        real = client.execute_command

        async def counted(*args, **options):
            self.calls[str(args[0]).split()[0].upper()] += 1
            return await real(*args, **options)

        client.execute_command = counted


@pytest.fixture
async def agent(redis_server):
    agent = Agent(
        redis_server.url,
        plugin={"events": {"webhooks_via_deliverer": True, "to_stream": True}, "partitions": {"inbound": 1}},
    )
    agent.context.update_settings({"admin.webhook_urls": [HOOKS]})
    publisher = EventPublisher(agent.runtime, agent.runtime.config)
    bus = EventBus()
    publisher.subscribe(bus)
    agent.context.injector.bind_instance(EventPublisher, publisher)
    outbound = BridgeOutboundTransport(root_profile=agent.profile)

    async def basic_message(payload):
        # What ACA-Py's basic message handler does with --auto-respond-messages: an event, then a reply.
        await bus.notify(agent.profile, Event("acapy::basicmessage::received", {"connection_id": "c1"}))
        await outbound.handle_message(agent.profile, reply_to_bob(), BOB)

    agent.handlers["basic"] = basic_message
    await agent.start()
    yield agent
    await agent.stop()
    await publisher.close()


async def test_a_handled_message_costs_acapy_two_redis_round_trips(agent, redis_server):
    runtime = agent.runtime
    keyspace = runtime.keyspace
    test_client = redis.Redis.from_url(redis_server.url)
    inbox = keyspace.key("relay_inbox", relay=RELAY)
    await test_client.xgroup_create(inbox, keyspace.spec("relay_inbox").consumer_group, id="0", mkstream=True)
    # The relay listens for the bodiless answers on its signals channel.
    signals = test_client.pubsub()
    await signals.subscribe(keyspace.key("relay_signals", relay=RELAY))
    counting = CountingClient(runtime.client)
    stream = keyspace.key("inbound_queue", partition=0)
    received: list[pb.RelayCommand] = []

    async def all_answers() -> bool:
        while message := await signals.get_message(ignore_subscribe_messages=True, timeout=0.05):
            received.append(decode_envelope(pb.RelayCommand, message["data"]))
        return len(received) >= MESSAGES

    try:
        for n in range(1, MESSAGES + 1):
            mid = f"m{n}-{uuid.uuid4().hex[:4]}"
            message = pb.AgentMessage(
                mid=mid,
                kind=pb.INBOUND_KIND_AGENT_MESSAGE,
                recipient_key="VerkeyAlice1",
                content_type="application/json",
                body=json.dumps({"@id": mid, "do": "basic"}).encode(),
                transport=pb.TRANSPORT_HTTP,
                relay_id=RELAY,
                request_id=f"req-{n}",
            )
            assert partition_of(message.recipient_key, 1) == 0
            await test_client.xadd(stream, {keyspace.spec("inbound_queue").entry_field: encode_envelope(message)})

            async def acknowledged():
                return await test_client.xlen(stream) == 0

            await eventually(acknowledged, what=f"message {n} acknowledged")
        calls = dict(counting.calls)  # before the checks below, which read through the same client
        # Everything each message makes is in Redis: the answer for its request, its jobs, its event.
        await eventually(all_answers, what="the answers for every request")
        assert [c.reply.request_id for c in received] == [f"req-{n}" for n in range(1, MESSAGES + 1)]
        assert await test_client.xlen(inbox) == 0  # published, not stored
        jobs = await agent.outbound_jobs()
        assert sorted(j.kind for j in jobs) == [pb.JOB_KIND_DIDCOMM] * MESSAGES + [pb.JOB_KIND_WEBHOOK] * MESSAGES
        events = sum([await test_client.xlen(k) for k in keyspace.all_partitions("events")])
        assert events == MESSAGES
    finally:
        await signals.aclose()
        await test_client.aclose()
    assert sum(calls.values()) <= 2 * MESSAGES + BACKGROUND_ALLOWANCE, calls
    # One read and one write call per message; the write holds answer, jobs, event and acknowledgement.
    assert calls["EVALSHA"] <= MESSAGES + 2, calls
