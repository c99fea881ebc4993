"""Push notifications on a mediator: the device-info protocols and the notification decision.

Against a real redis-server, with ACA-Py's real message classes, dispatcher, ProtocolRegistry and
discover-features handler on an in-memory Askar profile. Two shim "instances" are two
BridgeRuntimes on one Redis: a device set through one is what the other (and `mailbox_offer`)
finds. The push jobs are read back from the outbound partitions the deliverers consume.
"""

import time
import uuid

import pytest
from acapy_agent.core.dispatcher import Dispatcher
from acapy_agent.core.protocol_registry import ProtocolRegistry
from acapy_agent.messaging.request_context import RequestContext
from acapy_agent.messaging.responder import MockResponder
from acapy_agent.protocols.discovery.v1_0.handlers.query_handler import QueryHandler
from acapy_agent.protocols.discovery.v1_0.messages.query import Query
from acapy_agent.transport.inbound.receipt import MessageReceipt
from acapy_agent.utils.testing import create_test_profile

from acapy_bridge.codec import decode_envelope
from acapy_bridge.partitioning import partition_of
from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge_shim.push import register_push_protocols
from acapy_bridge_shim.push.handlers import (
    ApnsGetDeviceInfoHandler,
    ApnsSetDeviceInfoHandler,
    FcmGetDeviceInfoHandler,
    FcmSetDeviceInfoHandler,
)
from acapy_bridge_shim.push.messages import (
    ApnsDeviceInfo,
    ApnsGetDeviceInfo,
    ApnsSetDeviceInfo,
    FcmDeviceInfo,
    FcmGetDeviceInfo,
    FcmSetDeviceInfo,
)
from tests.mediator_instances import MediatorInstance, two_instances

RELAY = "relay-push"


class Instance(MediatorInstance):
    async def offer(self, wallet: str, n: int) -> str:
        router = self.runtime.wallets
        message = router.wallet_message(wallet, f"packed-{n}".encode(), "application/didcomm-envelope-enc", f"m{n}")
        return await router.deliver(message)

    async def push_jobs(self, wallet: str) -> list[pb.OutboundJob]:
        keyspace = self.runtime.keyspace
        partition = partition_of(f"push:{wallet}", keyspace.partition_count("outbound_queue"))
        rows = await self.runtime.client.xrange(keyspace.key("outbound_queue", partition=partition))
        jobs = [decode_envelope(pb.OutboundJob, fields[b"e"]) for _, fields in rows]
        return [j for j in jobs if j.kind == pb.JOB_KIND_PUSH and j.recipient_key == f"push:{wallet}"]


@pytest.fixture
async def profile():
    profile = await create_test_profile(settings={"mediation.open": True})
    yield profile
    await profile.close()


@pytest.fixture
async def instances(redis_server, profile):
    async with two_instances(redis_server.url, profile, relay=RELAY, prefix_label="push", instance=Instance) as pair:
        yield pair


def wallet_key() -> str:
    return f"wallet-{uuid.uuid4().hex[:10]}"


# ---- the protocols are ACA-Py's to dispatch and disclose ----


async def test_registered_device_info_types_resolve_to_the_plugin_classes_and_discover_features_lists_them(profile):
    registry = ProtocolRegistry()
    profile.context.injector.bind_instance(ProtocolRegistry, registry)
    register_push_protocols(profile.context)
    for message_type, cls in [
        ("https://didcomm.org/push-notifications-fcm/1.0/set-device-info", FcmSetDeviceInfo),
        ("https://didcomm.org/push-notifications-fcm/1.0/get-device-info", FcmGetDeviceInfo),
        ("https://didcomm.org/push-notifications-apns/1.0/set-device-info", ApnsSetDeviceInfo),
        ("https://didcomm.org/push-notifications-apns/1.0/get-device-info", ApnsGetDeviceInfo),
    ]:
        made = await Dispatcher(profile).make_message(
            profile, {"@type": message_type, "@id": "x", "device_token": "t", "device_platform": "android"}
        )
        assert type(made) is cls

    context = RequestContext(profile)
    context.message = Query(query="https://didcomm.org/push-notifications-*")
    context.message_receipt = MessageReceipt()
    context.connection_ready = True
    responder = MockResponder()
    await QueryHandler().handle(context, responder)
    disclosed = {p["pid"] for p in responder.messages[0][0].protocols}
    assert {
        "https://didcomm.org/push-notifications-fcm/1.0",
        "https://didcomm.org/push-notifications-apns/1.0",
    } <= disclosed


async def test_set_device_info_in_the_rfc_shape_with_a_null_token_parses():
    message = FcmSetDeviceInfo.deserialize(
        {
            "@type": "https://didcomm.org/push-notifications-fcm/1.0/set-device-info",
            "@id": "x",
            "device_token": None,
            "device_platform": None,
        }
    )
    assert message.device_token is None


# ---- device info ----


async def test_a_device_set_through_one_instance_is_answered_by_another_and_only_for_its_own_service(instances):
    a, b = instances
    wallet = wallet_key()
    assert (
        await a.handle(
            FcmSetDeviceInfoHandler, FcmSetDeviceInfo(device_token="fcm-1", device_platform="android"), sender=wallet
        )
        == []
    )

    get = FcmGetDeviceInfo()
    [reply] = await b.handle(FcmGetDeviceInfoHandler, get, sender=wallet)
    assert isinstance(reply, FcmDeviceInfo)
    assert (reply.device_token, reply.device_platform) == ("fcm-1", "android")
    assert reply._thread_id == get._id
    serialized = reply.serialize()
    assert serialized["@type"].endswith("/push-notifications-fcm/1.0/device-info")
    assert serialized["device_token"] == "fcm-1"

    [apns] = await b.handle(ApnsGetDeviceInfoHandler, ApnsGetDeviceInfo(), sender=wallet)
    assert isinstance(apns, ApnsDeviceInfo) and apns.device_token is None

    await b.handle(ApnsSetDeviceInfoHandler, ApnsSetDeviceInfo(device_token="apns-1"), sender=wallet)
    [fcm] = await a.handle(FcmGetDeviceInfoHandler, FcmGetDeviceInfo(), sender=wallet)
    assert fcm.device_token is None, "a wallet has one device: the APNs token replaced the FCM one"
    [apns] = await a.handle(ApnsGetDeviceInfoHandler, ApnsGetDeviceInfo(), sender=wallet)
    assert apns.device_token == "apns-1"


async def test_an_empty_or_null_token_removes_the_device(instances):
    a, b = instances
    for cleared in ("", None):
        wallet = wallet_key()
        await a.handle(FcmSetDeviceInfoHandler, FcmSetDeviceInfo(device_token="fcm-2"), sender=wallet)
        await b.handle(FcmSetDeviceInfoHandler, FcmSetDeviceInfo(device_token=cleared), sender=wallet)
        assert await a.runtime.push_devices.get(wallet) is None
        [reply] = await a.handle(FcmGetDeviceInfoHandler, FcmGetDeviceInfo(), sender=wallet)
        assert reply.device_token is None


# ---- when to notify ----


async def test_three_messages_to_an_offline_wallet_make_one_notification_naming_its_device_without_content(
    instances,
):
    a, b = instances
    wallet = wallet_key()
    device_info = FcmSetDeviceInfo(device_token="fcm-3", device_platform="ios")
    await a.handle(FcmSetDeviceInfoHandler, device_info, sender=wallet)

    assert [await (a if n % 2 else b).offer(wallet, n) for n in range(3)] == ["mailbox"] * 3

    [job] = await a.push_jobs(wallet)
    assert job.endpoint == "push:fcm"
    notification = decode_envelope(pb.PushNotification, job.body)
    assert notification.wallet_key == wallet
    assert notification.mailbox_depth == 1
    device = decode_envelope(pb.WalletPushDevice, notification.device)
    assert (device.platform, device.token, device.device_platform) == (pb.PUSH_PLATFORM_FCM, "fcm-3", "ios")
    assert b"packed-" not in job.SerializeToString(), "no message content in a notification"
    assert await a.runtime.client.llen(a.runtime.wallets.mailbox_key(wallet)) == 3


async def test_after_the_window_the_next_message_notifies_again(instances):
    a, _ = instances
    wallet = wallet_key()
    await a.handle(ApnsSetDeviceInfoHandler, ApnsSetDeviceInfo(device_token="apns-4"), sender=wallet)
    await a.offer(wallet, 1)
    window = a.runtime.keyspace.key("wallet_push_window", recipient=wallet)
    ttl = await a.runtime.client.pttl(window)
    assert 0 < ttl <= 30_000, "the default window is 30 s"
    await a.offer(wallet, 2)
    assert len(await a.push_jobs(wallet)) == 1
    await a.runtime.client.delete(window)  # the window has passed
    await a.offer(wallet, 3)
    jobs = await a.push_jobs(wallet)
    assert [j.endpoint for j in jobs] == ["push:apns", "push:apns"]


async def test_no_notification_while_the_wallet_has_a_session(instances):
    a, _ = instances
    wallet = wallet_key()
    await a.handle(FcmSetDeviceInfoHandler, FcmSetDeviceInfo(device_token="fcm-5"), sender=wallet)
    await a.runtime.wallets.register_route(wallet, RELAY, "s-1", 1_000)
    results = [await a.offer(wallet, n) for n in range(3)]
    assert "live" in results
    assert await a.push_jobs(wallet) == []


async def test_no_notification_for_a_wallet_without_a_device_or_that_removed_it(instances):
    a, b = instances
    never = wallet_key()
    await a.offer(never, 1)
    removed = wallet_key()
    await a.handle(FcmSetDeviceInfoHandler, FcmSetDeviceInfo(device_token="fcm-6"), sender=removed)
    await b.handle(FcmSetDeviceInfoHandler, FcmSetDeviceInfo(device_token=""), sender=removed)
    await a.offer(removed, 1)
    assert await a.push_jobs(never) == [] and await a.push_jobs(removed) == []


async def test_a_zero_window_turns_notifications_off(redis_server, profile):
    prefix = f"py-push-{uuid.uuid4().hex[:6]}"
    off = await Instance(redis_server.url, prefix, profile, mailbox={"push_window_s": 0}).start()
    try:
        wallet = wallet_key()
        await off.runtime.push_devices.set(wallet, pb.PUSH_PLATFORM_FCM, "fcm-7")
        await off.offer(wallet, 1)
        assert await off.push_jobs(wallet) == []
    finally:
        await off.runtime.close()


async def test_a_wallet_that_collects_with_pickup_2_is_notified_too_when_offline(instances):
    a, _ = instances
    wallet = wallet_key()
    await a.handle(FcmSetDeviceInfoHandler, FcmSetDeviceInfo(device_token="fcm-8"), sender=wallet)
    pickup = pb.WalletPickup(version=2, updated_at_ms=int(time.time() * 1000))
    await a.runtime.client.set(a.runtime.keyspace.key("wallet_pickup", recipient=wallet), pickup.SerializeToString())
    assert [await a.offer(wallet, n) for n in range(2)] == ["mailbox", "mailbox"]
    [job] = await a.push_jobs(wallet)
    assert decode_envelope(pb.PushNotification, job.body).mailbox_depth == 1


async def test_a_wallet_whose_session_relay_died_counts_as_offline(instances):
    a, _ = instances
    wallet = wallet_key()
    await a.handle(FcmSetDeviceInfoHandler, FcmSetDeviceInfo(device_token="fcm-9"), sender=wallet)
    await a.runtime.wallets.register_route(wallet, "relay-without-heartbeat", "s-1", 1_000)
    assert await a.offer(wallet, 1) == "mailbox"
    [job] = await a.push_jobs(wallet)
    assert decode_envelope(pb.PushNotification, job.body).wallet_key == wallet
