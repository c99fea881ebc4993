"""Message Pickup 2.0 and 1.0 on the wallet mailboxes, against a real redis-server.

ACA-Py's real pieces: its message classes and schemas (the pickup messages are ACA-Py
AgentMessages), the handlers run with ACA-Py's RequestContext on a real in-memory Askar profile,
its ProtocolRegistry and discover-features handler, its DIDComm v1 packing (the live `delivery`
is unpacked again with ACA-Py's PackWireFormat). Two shim "instances" are two BridgeRuntimes on
one Redis: state lives in Redis, so either answers any message.
"""

import asyncio
import base64
import json
import re
import time

import pytest
from acapy_agent.core.dispatcher import Dispatcher
from acapy_agent.core.protocol_registry import ProtocolRegistry
from acapy_agent.messaging.request_context import RequestContext
from acapy_agent.messaging.responder import MockResponder
from acapy_agent.protocols.discovery.v1_0.handlers.query_handler import QueryHandler
from acapy_agent.protocols.discovery.v1_0.messages.query import Query
from acapy_agent.protocols.problem_report.v1_0.message import ProblemReport
from acapy_agent.transport.inbound.receipt import MessageReceipt
from acapy_agent.transport.pack_format import PackWireFormat
from acapy_agent.transport.wire_format import BaseWireFormat
from acapy_agent.utils.testing import create_test_profile
from acapy_agent.wallet.base import BaseWallet
from acapy_agent.wallet.key_type import ED25519

from acapy_bridge.codec import decode_envelope
from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge_shim.outbound import content_type_of
from acapy_bridge_shim.pickup import register_pickup_protocols
from acapy_bridge_shim.pickup.handlers import (
    BatchPickupHandler,
    DeliveryRequestHandler,
    LiveDeliveryChangeHandler,
    MessagesReceivedHandler,
    StatusRequestHandler,
    V1StatusRequestHandler,
)
from acapy_bridge_shim.pickup.live import live_delivery_packer
from acapy_bridge_shim.pickup.messages import (
    BatchPickup,
    Delivery,
    DeliveryRequest,
    LiveDeliveryChange,
    MessagesReceived,
    Status,
    StatusRequest,
    V1StatusRequest,
)
from tests.mediator_instances import MediatorInstance as Instance
from tests.mediator_instances import two_instances

RELAY = "relay-p"


@pytest.fixture
async def profile():
    profile = await create_test_profile(settings={"mediation.open": True})
    profile.context.injector.bind_instance(BaseWireFormat, PackWireFormat())
    yield profile
    await profile.close()


@pytest.fixture
async def instances(redis_server, profile):
    async with two_instances(redis_server.url, profile, relay=RELAY, prefix_label="pk") as pair:
        yield pair


async def keys(profile, n: int) -> list[str]:
    async with profile.session() as session:
        wallet = session.inject(BaseWallet)
        return [(await wallet.create_signing_key(ED25519)).verkey for _ in range(n)]


def packed_for(recipient: str, n: int) -> bytes:
    """A stand-in JWE (only its protected header is read): encrypted for `recipient`."""
    header = {"enc": "xchacha20poly1305_ietf", "typ": "JWM/1.0", "alg": "Authcrypt", "recipients": []}
    header["recipients"].append({"encrypted_key": "k", "header": {"kid": recipient}})
    protected = base64.urlsafe_b64encode(json.dumps(header).encode()).decode().rstrip("=")
    return json.dumps({"protected": protected, "iv": "i", "ciphertext": f"c{n}", "tag": "t"}).encode()


async def offer(instance: Instance, wallet: str, n: int, *, inner: str | None = None, pack=None) -> pb.WalletMessage:
    router = instance.runtime.wallets
    message = router.wallet_message(wallet, packed_for(inner or wallet, n), "application/didcomm-envelope-enc", f"m{n}")
    await router.deliver(message, pack)
    return message


async def mailbox_mids(instance: Instance, wallet: str) -> list[str]:
    raw = await instance.runtime.client.lrange(instance.runtime.wallets.mailbox_key(wallet), 0, -1)
    return [decode_envelope(pb.WalletMessage, r).mid for r in raw]


async def relay_pushes(instance: Instance) -> list[pb.WalletMessage]:
    rows = await instance.runtime.client.xrange(instance.runtime.keyspace.key("relay_inbox", relay=RELAY))
    return [decode_envelope(pb.RelayCommand, fields[b"e"]).push.message for _, fields in rows]


def session(socket: str = "s-1", epoch: int = 1_000) -> pb.WalletRoute:
    return pb.WalletRoute(relay_id=RELAY, socket_id=socket, epoch=epoch)


async def register(instance: Instance, wallet: str, s: pb.WalletRoute, *, pickup_request: bool = False) -> None:
    await instance.runtime.wallets.register_route(
        wallet, s.relay_id, s.socket_id, s.epoch, pickup_request=pickup_request
    )


# ---- the protocol is ACA-Py's to dispatch and disclose ----


async def test_registered_pickup_types_resolve_to_the_plugin_classes_and_discover_features_lists_them(profile):
    registry = ProtocolRegistry()
    profile.context.injector.bind_instance(ProtocolRegistry, registry)
    register_pickup_protocols(profile.context)
    for message_type, cls in [
        ("https://didcomm.org/messagepickup/2.0/status-request", StatusRequest),
        ("https://didcomm.org/messagepickup/2.0/delivery-request", DeliveryRequest),
        ("https://didcomm.org/messagepickup/2.0/messages-received", MessagesReceived),
        ("https://didcomm.org/messagepickup/2.0/live-delivery-change", LiveDeliveryChange),
        ("did:sov:BzCbsNYhMrjHiqZDTUASHg;spec/messagepickup/2.0/status-request", StatusRequest),
        ("https://didcomm.org/messagepickup/1.0/batch-pickup", BatchPickup),
    ]:
        made = await Dispatcher(profile).make_message(
            profile,
            {
                "@type": message_type,
                "@id": "x",
                "limit": 1,
                "batch_size": 1,
                "message_id_list": [],
                "live_delivery": True,
            },
        )
        assert type(made) is cls

    context = RequestContext(profile)
    context.message = Query(query="https://didcomm.org/messagepickup/*")
    context.message_receipt = MessageReceipt()
    context.connection_ready = True
    responder = MockResponder()
    await QueryHandler().handle(context, responder)
    disclosed = {p["pid"] for p in responder.messages[0][0].protocols}
    assert {"https://didcomm.org/messagepickup/2.0", "https://didcomm.org/messagepickup/1.0"} <= disclosed


async def test_a_wallet_message_in_the_rfc_shape_parses_into_the_plugin_class():
    received = MessagesReceived.deserialize(
        {"@type": "https://didcomm.org/messagepickup/2.0/messages-received", "@id": "x", "message_id_list": ["a", "b"]}
    )
    assert received.message_id_list == ["a", "b"]
    delivery = Delivery.deserialize(Delivery(attachments=[]).serialize())
    assert delivery.attachments == []


# ---- status, delivery, acknowledgement ----


async def test_delivery_removes_nothing_and_a_message_leaves_only_when_messages_received_names_it(instances, profile):
    a, b = instances
    (wallet,) = await keys(profile, 1)
    for n in range(3):
        await offer(a, wallet, n)

    [status] = await a.handle(StatusRequestHandler, StatusRequest(), sender=wallet)
    assert isinstance(status, Status) and status.message_count == 3
    assert status.oldest_received_time and status.newest_received_time and status.longest_waited_seconds is not None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", status.oldest_received_time)  # JS Date parses it

    [delivery] = await b.handle(DeliveryRequestHandler, DeliveryRequest(limit=2), sender=wallet)
    assert isinstance(delivery, Delivery)
    assert [att.ident for att in delivery.attachments] == ["m0", "m1"]
    assert base64.b64decode(delivery.attachments[0].data.base64) == packed_for(wallet, 0)
    assert await mailbox_mids(a, wallet) == ["m0", "m1", "m2"]  # delivering removed nothing

    [after] = await a.handle(
        MessagesReceivedHandler, MessagesReceived(message_id_list=["m1", "unknown"]), sender=wallet
    )
    assert await mailbox_mids(a, wallet) == ["m0", "m2"]  # exactly m1; the unknown id is ignored
    assert isinstance(after, Status) and after.message_count == 2

    await b.handle(MessagesReceivedHandler, MessagesReceived(message_id_list=["m0", "m2"]), sender=wallet)
    assert await mailbox_mids(a, wallet) == []
    [empty] = await a.handle(DeliveryRequestHandler, DeliveryRequest(limit=10), sender=wallet)
    assert isinstance(empty, Status) and empty.message_count == 0  # RFC 0685: a status instead of an empty delivery


async def test_recipient_key_filters_status_and_delivery_by_the_key_the_message_is_encrypted_for(instances, profile):
    a, _ = instances
    wallet, routing_1, routing_2 = await keys(profile, 3)
    await offer(a, wallet, 0, inner=routing_1)
    await offer(a, wallet, 1, inner=routing_2)
    await offer(a, wallet, 2, inner=routing_1)

    [status] = await a.handle(StatusRequestHandler, StatusRequest(recipient_key=routing_1), sender=wallet)
    assert status.message_count == 2 and status.total_bytes == len(packed_for(routing_1, 0)) * 2
    # A did:key (ed25519 multicodec 0xed01, base58btc) is normalised to its verkey before filtering.
    from acapy_agent.wallet.util import b58_to_bytes, bytes_to_b58

    multicodec = bytes_to_b58(b"\xed\x01" + b58_to_bytes(routing_2))
    did_key = f"did:key:z{multicodec}"
    [delivery] = await a.handle(DeliveryRequestHandler, DeliveryRequest(limit=10, recipient_key=did_key), sender=wallet)
    assert [att.ident for att in delivery.attachments] == ["m1"]


async def test_an_expired_message_is_dead_lettered_instead_of_delivered(instances, profile):
    a, _ = instances
    (wallet,) = await keys(profile, 1)
    router = a.runtime.wallets
    old = router.wallet_message(wallet, packed_for(wallet, 0), "application/didcomm-envelope-enc", "old")
    old.expires_at_ms = int(time.time() * 1000) - 1
    await router.deliver(old)
    await offer(a, wallet, 1)
    [delivery] = await a.handle(DeliveryRequestHandler, DeliveryRequest(limit=10), sender=wallet)
    assert [att.ident for att in delivery.attachments] == ["m1"]
    assert await mailbox_mids(a, wallet) == ["m1"]
    letters = await a.runtime.client.xrange(router.dead_letter_key(wallet))
    assert [decode_envelope(pb.DeadLetter, f[b"e"]).mid for _, f in letters] == ["old"]


# ---- no implicit drain for a Pickup 2.0 wallet; implicit pickup unchanged for others ----


async def test_a_wallet_that_used_pickup_2_is_never_drained_implicitly(instances, profile):
    a, b = instances
    (wallet,) = await keys(profile, 1)
    await a.handle(StatusRequestHandler, StatusRequest(), sender=wallet)
    await offer(b, wallet, 0)
    await register(b, wallet, session())  # a frame with return route `all`: route set, no drain
    await offer(a, wallet, 1)  # a session and a message: still no push (live delivery is off)
    assert await relay_pushes(a) == []
    assert await mailbox_mids(a, wallet) == ["m0", "m1"]


async def test_the_first_pickup_request_of_a_new_wallet_does_not_start_a_drain(instances, profile):
    a, _ = instances
    (wallet,) = await keys(profile, 1)
    await offer(a, wallet, 0)
    await register(a, wallet, session(), pickup_request=True)
    assert await relay_pushes(a) == []
    assert await mailbox_mids(a, wallet) == ["m0"]


async def test_a_wallet_without_pickup_is_still_drained_to_its_session(instances, profile):
    a, _ = instances
    (wallet,) = await keys(profile, 1)
    await offer(a, wallet, 0)
    await register(a, wallet, session())
    assert [m.mid for m in await relay_pushes(a)] == ["m0"]
    assert await mailbox_mids(a, wallet) == []


# ---- live delivery ----


async def test_live_delivery_pushes_an_acknowledgeable_delivery_from_another_instance_and_keeps_the_message(
    instances, profile
):
    a, b = instances
    mediator_key, wallet = await keys(profile, 2)
    s = session()
    await register(a, wallet, s, pickup_request=True)
    [status] = await a.handle(
        LiveDeliveryChangeHandler, LiveDeliveryChange(live_delivery=True), sender=wallet, session=s
    )
    assert status.live_delivery is True

    target = type("Target", (), {"recipient_keys": [wallet], "routing_keys": [], "sender_key": mediator_key})()
    pack = live_delivery_packer(profile, target, content_type_of)
    await offer(b, wallet, 7, pack=pack)  # instance B learns live mode from Redis

    [pushed] = await relay_pushes(a)
    assert pushed.held_in_mailbox and pushed.mid == "m7"
    async with profile.session() as ses:
        payload, receipt = await PackWireFormat().parse_message(ses, bytes(pushed.body))
    assert payload["@type"].endswith("/messagepickup/2.0/delivery") and receipt.sender_verkey == mediator_key
    [attachment] = payload["~attach"]
    assert attachment["@id"] == "m7" and base64.b64decode(attachment["data"]["base64"]) == packed_for(wallet, 7)
    assert await mailbox_mids(a, wallet) == ["m7"]  # recoverable until acknowledged

    # While unacknowledged it is not counted or delivered again on the same session (no second copy)...
    [count] = await b.handle(StatusRequestHandler, StatusRequest(), sender=wallet, session=s)
    assert count.message_count == 0
    # ...but a new session (the socket broke) gets it again.
    [again] = await b.handle(
        DeliveryRequestHandler, DeliveryRequest(limit=5), sender=wallet, session=session("s-2", 2_000)
    )
    assert [att.ident for att in again.attachments] == ["m7"]

    await b.handle(MessagesReceivedHandler, MessagesReceived(message_id_list=["m7"]), sender=wallet, session=s)
    assert await mailbox_mids(a, wallet) == []
    assert await a.runtime.client.hlen(a.runtime.pickup.sent_key(wallet)) == 0


async def test_live_delivery_off_or_on_another_session_leaves_messages_waiting_for_a_delivery_request(
    instances, profile
):
    a, b = instances
    mediator_key, wallet = await keys(profile, 2)
    target = type("Target", (), {"recipient_keys": [wallet], "routing_keys": [], "sender_key": mediator_key})()
    pack = live_delivery_packer(profile, target, content_type_of)
    first, second = session("s-1", 1_000), session("s-2", 2_000)
    await register(a, wallet, first, pickup_request=True)
    await a.handle(LiveDeliveryChangeHandler, LiveDeliveryChange(live_delivery=True), sender=wallet, session=first)
    await register(a, wallet, second)  # the wallet reconnected: live mode does not carry over
    await offer(b, wallet, 0, pack=pack)
    await a.handle(LiveDeliveryChangeHandler, LiveDeliveryChange(live_delivery=True), sender=wallet, session=second)
    await a.handle(LiveDeliveryChangeHandler, LiveDeliveryChange(live_delivery=False), sender=wallet, session=second)
    await offer(b, wallet, 1, pack=pack)
    assert await relay_pushes(a) == []
    assert await mailbox_mids(a, wallet) == ["m0", "m1"]
    assert (await a.runtime.pickup.state(wallet)).live_delivery is False


async def test_live_delivery_without_a_websocket_session_is_refused_with_a_problem_report(instances, profile):
    a, _ = instances
    (wallet,) = await keys(profile, 1)
    [report] = await a.handle(LiveDeliveryChangeHandler, LiveDeliveryChange(live_delivery=True), sender=wallet)
    assert isinstance(report, ProblemReport)
    assert report.description["code"] == "e.m.live-mode-not-supported"
    assert (await a.runtime.pickup.state(wallet)).live_delivery is False


# ---- Message Pickup 1.0 ----


async def test_pickup_1_batch_hands_out_and_removes_the_oldest_messages(instances, profile):
    a, _ = instances
    (wallet,) = await keys(profile, 1)
    for n in range(3):
        await offer(a, wallet, n)
    [status] = await a.handle(V1StatusRequestHandler, V1StatusRequest(), sender=wallet)
    assert status.message_count == 3
    [batch] = await a.handle(BatchPickupHandler, BatchPickup(batch_size=2), sender=wallet)
    assert [m["@id"] for m in batch.messages] == ["m0", "m1"]
    assert batch.messages[0]["message"] == json.loads(packed_for(wallet, 0))
    assert await mailbox_mids(a, wallet) == ["m2"]


# ---- live delivery: each message once to a connected wallet, whichever instances race ----
# Two instances on one Redis, one wallet in live mode on session `s`. The interleavings are set
# with events: an instance's step is held at a gate until the test opens it.


class Gate:
    """Holds a coroutine at one point: `reached` is set when it gets there, `opened` lets it go on."""

    def __init__(self):
        self.reached = asyncio.Event()
        self.opened = asyncio.Event()

    async def hold(self):
        self.reached.set()
        await self.opened.wait()


async def live_wallet(instance: Instance, profile) -> tuple[str, pb.WalletRoute, object]:
    """A wallet in live mode on session `s-1`, and the packer of its live deliveries."""
    mediator_key, wallet = await keys(profile, 2)
    s = session()
    await register(instance, wallet, s, pickup_request=True)
    await instance.handle(LiveDeliveryChangeHandler, LiveDeliveryChange(live_delivery=True), sender=wallet, session=s)
    target = type("Target", (), {"recipient_keys": [wallet], "routing_keys": [], "sender_key": mediator_key})()
    return wallet, s, live_delivery_packer(profile, target, content_type_of)


def copies_sent(replies, pushes, mid: str) -> int:
    delivered = [att.ident for r in replies if isinstance(r, Delivery) for att in r.attachments]
    return delivered.count(mid) + [p.mid for p in pushes].count(mid)


def hold_liveness_checks(instance, monkeypatch) -> Gate:
    """The instance's relay liveness checks wait at the returned gate (the step before a live push)."""
    gate = Gate()
    liveness = instance.runtime.wallets.liveness
    real_alive = liveness.alive

    async def alive_after_the_gate(relay_id):
        await gate.hold()
        return await real_alive(relay_id)

    monkeypatch.setattr(liveness, "alive", alive_after_the_gate)
    return gate


async def test_a_delivery_answered_while_another_instance_is_about_to_push_the_new_message_live_sends_it_once(
    instances, profile, monkeypatch
):
    a, b = instances
    wallet, s, pack = await live_wallet(a, profile)
    # A has appended the new message and is about to push it live (its relay liveness check)...
    gate = hold_liveness_checks(a, monkeypatch)
    arriving = asyncio.create_task(offer(a, wallet, 0, pack=pack))
    await gate.reached.wait()
    # ...when the wallet's delivery-request (it saw a status count) reaches B, which hands it the message.
    replies = await b.handle(DeliveryRequestHandler, DeliveryRequest(limit=10), sender=wallet, session=s)
    gate.opened.set()
    await arriving

    assert copies_sent(replies, await relay_pushes(a), "m0") == 1
    assert a.runtime.wallets.stats["pickup_live_already_sent"] == 1  # the live push gave way
    assert await mailbox_mids(a, wallet) == ["m0"]  # still there until messages-received names it


async def test_a_delivery_request_answered_while_another_instance_pushes_the_new_message_live_sends_it_once(
    instances, profile, monkeypatch
):
    a, b = instances
    wallet, s, pack = await live_wallet(a, profile)
    # B answers the wallet's delivery-request: it has looked up what went to `s` already and is
    # about to read the mailbox...
    gate = Gate()
    client = b.runtime.client
    real_lrange = client.lrange

    async def lrange_after_the_gate(*args, **kwargs):
        await gate.hold()
        return await real_lrange(*args, **kwargs)

    monkeypatch.setattr(client, "lrange", lrange_after_the_gate)
    answering = asyncio.create_task(
        b.handle(DeliveryRequestHandler, DeliveryRequest(limit=10), sender=wallet, session=s)
    )
    await gate.reached.wait()
    # ...when a new message comes in on A, which pushes it live.
    await offer(a, wallet, 0, pack=pack)
    gate.opened.set()
    replies = await answering

    assert copies_sent(replies, await relay_pushes(a), "m0") == 1


async def test_a_delivery_read_before_the_wallet_acknowledged_the_message_does_not_send_it_again(
    instances, profile, monkeypatch
):
    a, b = instances
    wallet, s, _ = await live_wallet(a, profile)
    await offer(a, wallet, 0)  # waits for a delivery-request
    gate = Gate()
    pickup = b.runtime.pickup
    real_waiting = pickup.waiting

    async def waiting_then_the_gate(*args, **kwargs):
        found = await real_waiting(*args, **kwargs)
        await gate.hold()
        return found

    monkeypatch.setattr(pickup, "waiting", waiting_then_the_gate)
    answering = asyncio.create_task(
        b.handle(DeliveryRequestHandler, DeliveryRequest(limit=10), sender=wallet, session=s)
    )
    await gate.reached.wait()
    # Meanwhile the wallet got m0 (an earlier delivery on A) and acknowledged it.
    [first] = await a.handle(DeliveryRequestHandler, DeliveryRequest(limit=10), sender=wallet, session=s)
    assert [att.ident for att in first.attachments] == ["m0"]
    await a.handle(MessagesReceivedHandler, MessagesReceived(message_id_list=["m0"]), sender=wallet, session=s)
    gate.opened.set()
    [late] = await answering

    assert isinstance(late, Status) and late.message_count == 0
    assert await a.runtime.client.hlen(a.runtime.pickup.sent_key(wallet)) == 0  # no claim left behind


async def test_a_new_session_gets_again_what_the_old_one_was_sent_and_did_not_acknowledge(instances, profile):
    a, b = instances
    wallet, s, pack = await live_wallet(a, profile)
    await offer(b, wallet, 0, pack=pack)  # pushed live to s
    await offer(a, wallet, 1)  # waits
    [on_s] = await b.handle(DeliveryRequestHandler, DeliveryRequest(limit=10), sender=wallet, session=s)
    assert [att.ident for att in on_s.attachments] == ["m1"]
    [again_on_s] = await a.handle(DeliveryRequestHandler, DeliveryRequest(limit=10), sender=wallet, session=s)
    assert isinstance(again_on_s, Status) and again_on_s.message_count == 0  # both on their way to s

    # The socket died unacknowledged: the next session gets both.
    [on_next] = await b.handle(
        DeliveryRequestHandler, DeliveryRequest(limit=10), sender=wallet, session=session("s-2", 2_000)
    )
    assert [att.ident for att in on_next.attachments] == ["m0", "m1"]
    assert await mailbox_mids(a, wallet) == ["m0", "m1"]


async def test_without_live_mode_a_delivery_request_on_the_same_session_gets_unacknowledged_messages_again(
    instances, profile
):
    a, b = instances
    (wallet,) = await keys(profile, 1)
    s = session()
    await register(a, wallet, s, pickup_request=True)
    await a.handle(StatusRequestHandler, StatusRequest(), sender=wallet, session=s)
    await offer(a, wallet, 0)
    [first] = await a.handle(DeliveryRequestHandler, DeliveryRequest(limit=10), sender=wallet, session=s)
    [second] = await b.handle(DeliveryRequestHandler, DeliveryRequest(limit=10), sender=wallet, session=s)
    assert [att.ident for att in first.attachments] == [att.ident for att in second.attachments] == ["m0"]


# Credo in live mode keeps only its live socket open; with an HTTP endpoint first it sends its
# status-request, delivery-request and messages-received over HTTP (no WebSocket session).


async def test_an_http_delivery_request_leaves_out_what_was_pushed_live_to_the_wallets_live_socket(instances, profile):
    a, b = instances
    wallet, s, pack = await live_wallet(a, profile)
    await offer(a, wallet, 0, pack=pack)  # pushed live to s
    [status] = await b.handle(StatusRequestHandler, StatusRequest(), sender=wallet)
    assert status.message_count == 0
    replies = await b.handle(DeliveryRequestHandler, DeliveryRequest(limit=10), sender=wallet)
    assert copies_sent(replies, await relay_pushes(a), "m0") == 1

    # The live socket is gone (the wallet's route now names another session): nothing is left out.
    await register(a, wallet, session("s-2", 2_000))
    [again] = await b.handle(DeliveryRequestHandler, DeliveryRequest(limit=10), sender=wallet)
    assert [att.ident for att in again.attachments] == ["m0"]


async def test_an_http_delivery_answered_while_another_instance_is_about_to_push_the_new_message_live_sends_it_once(
    instances, profile, monkeypatch
):
    a, b = instances
    wallet, _, pack = await live_wallet(a, profile)
    gate = hold_liveness_checks(a, monkeypatch)
    arriving = asyncio.create_task(offer(a, wallet, 0, pack=pack))
    await gate.reached.wait()
    replies = await b.handle(DeliveryRequestHandler, DeliveryRequest(limit=10), sender=wallet)
    gate.opened.set()
    await arriving

    assert copies_sent(replies, await relay_pushes(a), "m0") == 1
    await a.handle(MessagesReceivedHandler, MessagesReceived(message_id_list=["m0"]), sender=wallet)
    assert await mailbox_mids(a, wallet) == []
    assert await a.runtime.client.hlen(a.runtime.pickup.sent_key(wallet)) == 0
