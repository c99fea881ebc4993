"""Events to webhook jobs and event-stream entries, against a real redis-server."""

import asyncio
import json
import uuid

import pytest
from acapy_agent.config.injection_context import InjectionContext
from acapy_agent.core.event_bus import Event, EventBus

from acapy_bridge.codec import decode_envelope
from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge_shim.config import parse_config
from acapy_bridge_shim.events import EventPublisher, register_events, selected_topics, webhook_targets
from acapy_bridge_shim.events_topics import ACAPY_WEBHOOK_EVENT_PATTERNS, webhook_topic_for
from acapy_bridge_shim.runtime import BridgeRuntime


class FakeProfile:
    def __init__(self, settings: dict):
        self.settings = settings


def test_webhook_topics_follow_acapy_admin_server():
    assert webhook_topic_for("acapy::record::connections::active") == "connections"
    assert webhook_topic_for("acapy::record::out_of_band") == "out_of_band"
    assert webhook_topic_for("acapy::record::issue_credential_v2_0::done") == "issue_credential_v2_0"
    assert webhook_topic_for("acapy::webhook::connection_reuse") == "connection_reuse"
    assert webhook_topic_for("acapy::basicmessage::received") == "basicmessages"
    assert webhook_topic_for("acapy::ping::response_received") == "ping"
    assert webhook_topic_for("acapy::problem_report") == "problem_report"
    assert webhook_topic_for("acapy::keylist::updated") == "keylist"
    assert webhook_topic_for("acapy::forward::received") is None
    assert webhook_topic_for("acapy::forward::received", monitor_forward=True) == "forward"
    assert webhook_topic_for("acapy::outbound-message::queued_for_delivery") is None
    assert webhook_topic_for("acapy::core::startup") is None


def test_default_selection_is_what_acapy_sends_webhooks_for():
    config = parse_config({"redis_url": "redis://127.0.0.1:6379"})
    assert selected_topics(config) == ACAPY_WEBHOOK_EVENT_PATTERNS
    custom = parse_config({"redis_url": "redis://127.0.0.1:6379", "events": {"topics": ["^acapy::record::"]}})
    assert selected_topics(custom) == ("^acapy::record::",)


def test_webhook_url_api_key_split_like_acapy():
    assert webhook_targets(["http://c.example/hooks#secret", "http://d.example"]) == [
        ("http://c.example/hooks", "secret"),
        ("http://d.example", None),
    ]


@pytest.fixture
async def runtime(redis_server):
    config = parse_config(
        {
            "redis_url": redis_server.url,
            "prefix": f"py-ev-{uuid.uuid4().hex[:6]}",
            "events": {"webhooks_via_deliverer": True, "to_stream": True},
        }
    )
    rt = BridgeRuntime(config)
    await rt.connect()
    yield rt
    await rt.close()


async def all_jobs(rt) -> list[pb.OutboundJob]:
    jobs = []
    for key in rt.keyspace.all_partitions("outbound_queue"):
        jobs += [decode_envelope(pb.OutboundJob, f[b"e"]) for _, f in await rt.client.xrange(key)]
    return sorted(jobs, key=lambda j: j.mid)


async def all_events(rt) -> list[pb.AgentEvent]:
    events = []
    for key in rt.keyspace.all_partitions("events"):
        events += [decode_envelope(pb.AgentEvent, f[b"e"]) for _, f in await rt.client.xrange(key)]
    return sorted(events, key=lambda e: e.mid)


async def test_events_become_ordered_webhook_jobs_and_stream_entries(runtime):
    publisher = EventPublisher(runtime, runtime.config)
    sub = FakeProfile({"wallet.id": "w-1", "admin.webhook_urls": ["http://ctl.example/hooks#key-1"]})
    base = FakeProfile({"admin.webhook_urls": ["http://ctl.example/base"]})
    # Handlers are started concurrently by the bus: the queue keeps their order.
    await asyncio.gather(
        *[
            publisher.on_event(
                sub, Event(f"acapy::record::connections::{state}", {"connection_id": "c1", "state": state})
            )
            for state in ("request", "response", "active")
        ],
        publisher.on_event(sub, Event("acapy::basicmessage::received", {"connection_id": "c1", "content": "hi"})),
        publisher.on_event(base, Event("acapy::webhook::connection_reuse", {"thread_id": "t"})),
        publisher.on_event(base, Event("acapy::core::something", {"x": 1})),
    )
    await publisher.drain()
    jobs = await all_jobs(runtime)
    assert [(j.endpoint, json.loads(j.body).get("state")) for j in jobs] == [
        ("http://ctl.example/hooks/topic/connections/", "request"),
        ("http://ctl.example/hooks/topic/connections/", "response"),
        ("http://ctl.example/hooks/topic/connections/", "active"),
        ("http://ctl.example/hooks/topic/basicmessages/", None),
        ("http://ctl.example/base/topic/connection_reuse/", None),
    ]
    first = jobs[0]
    assert first.kind == pb.JOB_KIND_WEBHOOK
    assert first.recipient_key == "webhook:c1"
    assert dict(first.headers) == {"x-api-key": "key-1", "x-wallet-id": "w-1"}
    assert first.content_type == "application/json"
    assert first.body == json.dumps({"connection_id": "c1", "state": "request"}).encode()
    assert jobs[4].recipient_key == "webhook:base" and dict(jobs[4].headers) == {}
    # The stream gets every selected event (the unmapped one too), with its webhook topic.
    events = await all_events(runtime)
    assert [e.webhook_topic for e in events] == ["connections"] * 3 + ["basicmessages", "connection_reuse", ""]
    assert events[0].ordering_key == "webhook:c1" and events[0].wallet_id == "w-1"
    await publisher.close()


async def test_register_events_subscribes_and_switches_acapy_webhooks_off(runtime):
    context = InjectionContext(settings={})
    bus = EventBus()
    context.injector.bind_instance(EventBus, bus)
    publisher = register_events(context, runtime, runtime.config)
    assert isinstance(publisher, EventPublisher)
    assert context.inject_or(EventPublisher) is publisher
    profile = FakeProfile({"admin.webhook_urls": ["http://ctl.example"]})
    await publisher.on_event(profile, Event("acapy::ping::received", {"connection_id": "c9"}))
    await publisher.drain()
    assert [j.endpoint for j in await all_jobs(runtime)] == ["http://ctl.example/topic/ping/"]
    await publisher.close()


def test_nothing_is_subscribed_when_events_are_off(redis_server):
    config = parse_config({"redis_url": redis_server.url})
    assert register_events(InjectionContext(settings={}), BridgeRuntime(config), config) is None


async def test_events_raised_before_the_barrier_are_in_redis_when_it_returns(runtime):
    # The inbound transport acknowledges a message only after this barrier: a kill -9
    # right after the acknowledgement must not lose the message's webhooks.
    context = InjectionContext(settings={})
    bus = EventBus()
    context.injector.bind_instance(EventBus, bus)
    publisher = register_events(context, runtime, runtime.config)
    profile = FakeProfile({"admin.webhook_urls": ["http://ctl.example"]})
    for i in range(20):
        # The bus only starts handler tasks; nothing is written when notify returns.
        await bus.notify(profile, Event("acapy::basicmessage::received", {"connection_id": "c1", "content": f"m{i}"}))
    assert await publisher.written_so_far(5.0) is True
    contents = [json.loads(j.body)["content"] for j in await all_jobs(runtime)]
    assert sorted(contents) == sorted(f"m{i}" for i in range(20))
    # Nothing raised since: the barrier returns at once.
    assert await asyncio.wait_for(publisher.written_so_far(5.0), 0.5) is True
    await publisher.close()
