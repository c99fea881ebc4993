"""The shim's outbound transport against a real redis-server (ACA-Py's own classes, no agent)."""

import inspect
import uuid

import pytest
from acapy_agent.config.injection_context import InjectionContext
from acapy_agent.connections.models.connection_target import ConnectionTarget
from acapy_agent.transport.outbound.base import (
    BaseOutboundTransport,
    OutboundDeliveryError,
    OutboundTransportError,
    QueuedOutboundMessage,
)
from acapy_agent.transport.outbound.message import OutboundMessage
from acapy_agent.utils.classloader import ClassLoader

import acapy_bridge_shim.outbound as outbound_module
from acapy_bridge.codec import decode_envelope
from acapy_bridge.keyspace import Keyspace, partition_counts_of
from acapy_bridge.partitioning import partition_of
from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge_shim import runtime_for
from acapy_bridge_shim.outbound import BridgeOutboundTransport
from acapy_bridge_shim.runtime import BridgeRuntime


class FakeProfile:
    """Just what the transport uses of an ACA-Py profile."""

    def __init__(self, context: InjectionContext):
        self.context = context
        self.settings = context.settings

    def inject_or(self, cls, default=None):
        return self.context.inject_or(cls, default)


def make_profile(url: str, prefix: str, *, open_mediation: bool = False, mailbox=None, **outbound) -> FakeProfile:
    plugin = {"redis_url": url, "prefix": prefix, "outbound": outbound}
    if mailbox is not None:
        plugin["mailbox"] = mailbox
    settings = {
        "plugin_config": {"acapy_bridge_shim": plugin},
        "emit_new_didcomm_mime_type": True,
        "wallet.id": "wallet-1",
    }
    if open_mediation:
        settings["mediation.open"] = True  # what ACA-Py's --open-mediation sets
    return FakeProfile(InjectionContext(settings=settings))


def queued(endpoint: str | None, payload=b'{"protected":"jwe"}', keys=("VerkeyBob1", "VerkeyBob2")):
    target = ConnectionTarget(endpoint=endpoint, recipient_keys=list(keys), routing_keys=["RoutingKey1"])
    message = OutboundMessage(payload='{"@type":"plaintext never stored"}', connection_id="conn-1", target=target)
    q = QueuedOutboundMessage(None, message, target, None)
    q.payload = payload
    return q


async def read_jobs(runtime: BridgeRuntime) -> list[tuple[int, pb.OutboundJob]]:
    out = []
    for partition, key in enumerate(runtime.keyspace.all_partitions("outbound_queue")):
        for _, fields in await runtime.client.xrange(key):
            out.append((partition, decode_envelope(pb.OutboundJob, fields[b"e"])))
    return out


@pytest.fixture
async def transport(redis_server):
    profile = make_profile(redis_server.url, f"py-out-{uuid.uuid4().hex[:6]}")
    t = BridgeOutboundTransport(root_profile=profile)
    await t.start()
    yield t, profile
    await t.stop()
    await runtime_for(profile.context).close()


def test_acapy_loads_exactly_this_transport_as_an_external_one():
    loaded = ClassLoader.load_subclass_of(BaseOutboundTransport, "outbound", "acapy_bridge_shim")
    assert loaded is BridgeOutboundTransport
    subclasses = [
        c
        for _, c in inspect.getmembers(outbound_module, inspect.isclass)
        if issubclass(c, BaseOutboundTransport) and c is not BaseOutboundTransport
    ]
    assert subclasses == [BridgeOutboundTransport]
    assert BridgeOutboundTransport.is_external is True
    assert not {"http", "https", "ws", "wss"} & set(BridgeOutboundTransport.schemes)


async def test_writes_the_job_to_its_partition_before_returning(transport):
    t, profile = transport
    await t.handle_message(profile, queued("http://bob.example:8030"), "http://bob.example:8030")
    runtime = runtime_for(profile.context)
    jobs = await read_jobs(runtime)
    assert len(jobs) == 1
    partition, job = jobs[0]
    assert partition == partition_of("VerkeyBob1", runtime.keyspace.partition_count("outbound_queue"))
    assert job.kind == pb.JOB_KIND_DIDCOMM
    assert job.recipient_key == "VerkeyBob1"
    assert list(job.recipient_keys) == ["VerkeyBob1", "VerkeyBob2"]
    assert list(job.routing_keys) == ["RoutingKey1"]
    assert job.endpoint == "http://bob.example:8030"
    assert job.content_type == "application/didcomm-envelope-enc"
    assert job.body == b'{"protected":"jwe"}'  # the packed bytes, never the plaintext
    assert job.connection_id == "conn-1"
    assert job.wallet_id == "wallet-1"
    assert job.expires_at_ms - job.created_at_ms == 72 * 3600 * 1000
    assert len(job.mid) == 26
    seen = runtime.keyspace.key("outbound_seen", partition=partition, mid=job.mid)
    assert await runtime.client.exists(seen) == 1


async def test_text_payloads_are_json_and_ws_endpoints_are_accepted(transport):
    t, profile = transport
    await t.handle_message(profile, queued("wss://bob.example/ws", payload='{"a":1}'), "wss://bob.example/ws")
    (_, job), *_ = await read_jobs(runtime_for(profile.context))
    assert job.content_type == "application/json"
    assert job.body == b'{"a":1}'


@pytest.mark.parametrize("endpoint", [None, "", "didcomm:transport/queue", "ftp://x.example/"])
async def test_on_an_agent_that_is_no_mediator_a_target_without_http_or_ws_endpoint_raises_outbound_delivery_error(
    transport, endpoint
):
    t, profile = transport
    with pytest.raises(OutboundDeliveryError):
        await t.handle_message(profile, queued(endpoint), endpoint)
    assert runtime_for(profile.context).keyspace is None or await read_jobs(runtime_for(profile.context)) == []


@pytest.fixture
async def mediator_transport(redis_server):
    profile = make_profile(redis_server.url, f"py-med-{uuid.uuid4().hex[:6]}", open_mediation=True)
    t = BridgeOutboundTransport(root_profile=profile)
    yield t, profile
    await runtime_for(profile.context).close()


async def mailbox_of(runtime: BridgeRuntime, wallet_key: str) -> list[pb.WalletMessage]:
    raw = await runtime.client.lrange(runtime.keyspace.key("wallet_mailbox", recipient=wallet_key), 0, -1)
    return [decode_envelope(pb.WalletMessage, item) for item in raw]


@pytest.mark.parametrize("endpoint", [None, "", "didcomm:transport/queue"])
async def test_on_a_mediator_a_target_without_endpoint_goes_to_the_wallets_mailbox_not_to_the_deliverers(
    mediator_transport, endpoint
):
    t, profile = mediator_transport
    await t.handle_message(profile, queued(endpoint, keys=("WalletKey1",)), endpoint)
    runtime = runtime_for(profile.context)
    [message] = await mailbox_of(runtime, "WalletKey1")
    assert (message.recipient_key, message.body) == ("WalletKey1", b'{"protected":"jwe"}')
    assert message.content_type == "application/didcomm-envelope-enc"
    assert message.expires_at_ms > message.created_at_ms
    assert await read_jobs(runtime) == []


async def test_on_a_mediator_a_target_with_an_endpoint_still_goes_to_the_deliverers(mediator_transport):
    t, profile = mediator_transport
    await t.handle_message(profile, queued("https://bob.example", keys=("VerkeyBob1",)), "https://bob.example")
    runtime = runtime_for(profile.context)
    [(_, job)] = await read_jobs(runtime)
    assert job.endpoint == "https://bob.example"
    assert await mailbox_of(runtime, "VerkeyBob1") == []


async def test_on_a_mediator_a_target_without_endpoint_or_recipient_key_raises_outbound_delivery_error(
    mediator_transport,
):
    t, profile = mediator_transport
    with pytest.raises(OutboundDeliveryError):
        await t.handle_message(profile, queued(None, keys=()), None)


async def test_wallet_routing_can_be_switched_off_on_a_mediator(redis_server):
    profile = make_profile(redis_server.url, "py-off", open_mediation=True, mailbox={"enabled": False})
    t = BridgeOutboundTransport(root_profile=profile)
    with pytest.raises(OutboundDeliveryError):
        await t.handle_message(profile, queued(None), None)


async def test_a_full_partition_raises_and_queues_nothing(redis_server):
    profile = make_profile(redis_server.url, f"py-busy-{uuid.uuid4().hex[:6]}", high_water_mark=1)
    t = BridgeOutboundTransport(root_profile=profile)
    await t.handle_message(profile, queued("http://bob.example"), "http://bob.example")
    with pytest.raises(OutboundTransportError) as raised:
        await t.handle_message(profile, queued("http://bob.example"), "http://bob.example")
    assert not isinstance(raised.value, OutboundDeliveryError)  # ACA-Py must report it, not park it
    assert "full" in str(raised.value)
    assert len(await read_jobs(runtime_for(profile.context))) == 1
    await runtime_for(profile.context).close()


async def test_redis_unreachable_raises_instead_of_reporting_queued(redis_server):
    from tests.redis_server import free_port

    profile = make_profile(f"redis://127.0.0.1:{free_port()}", "py-down")
    t = BridgeOutboundTransport(root_profile=profile)
    with pytest.raises(OutboundTransportError) as raised:
        await t.handle_message(profile, queued("http://bob.example"), "http://bob.example")
    assert not isinstance(raised.value, OutboundDeliveryError)


def test_jobs_partition_like_the_typescript_side(vectors):
    # Same partition function as the deliverer reads with (shared vectors).
    keyspace = Keyspace("br", partition_counts_of(pb.Topology(outbound_partitions=16)))
    assert keyspace.partition_count("outbound_queue") == 16
