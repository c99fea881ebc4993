"""Multitenancy: a direct response names its sub-wallet, and comes back to be sent with that wallet's profile.

Real redis-server; ACA-Py's own inbound machinery and conductor routing (tests/acapy_inbound_harness.py),
here on real Askar profiles (in memory): the base wallet as root profile, ACA-Py's MultitenantManager
creating a managed sub-wallet (a WalletRecord in the base wallet), ACA-Py's BaseConnectionManager
finding a connection's targets in the profile it is given (the connection, with its invitation, is
stored in the sub-wallet only), and InboundSession switching a session to the sub-wallet a message is
for (a RouteRecord in the base wallet). Only the wire format stays plain JSON.
"""

import json
import uuid

import pytest
from acapy_agent.admin.server import AdminResponder
from acapy_agent.config.injection_context import InjectionContext
from acapy_agent.config.provider import ClassProvider
from acapy_agent.config.wallet import wallet_config
from acapy_agent.connections.base_manager import BaseConnectionManager
from acapy_agent.connections.models.conn_record import ConnRecord
from acapy_agent.core.conductor import Conductor
from acapy_agent.core.profile import Profile, ProfileManager, ProfileManagerProvider
from acapy_agent.did.did_key import DIDKey
from acapy_agent.messaging.responder import BaseResponder
from acapy_agent.multitenant.base import BaseMultitenantManager
from acapy_agent.multitenant.manager_provider import MultitenantManagerProvider
from acapy_agent.protocols.coordinate_mediation.v1_0.route_manager import RouteManager
from acapy_agent.protocols.coordinate_mediation.v1_0.route_manager_provider import RouteManagerProvider
from acapy_agent.protocols.out_of_band.v1_0.messages.invitation import InvitationMessage
from acapy_agent.protocols.out_of_band.v1_0.messages.service import Service
from acapy_agent.protocols.routing.v1_0.manager import RoutingManager
from acapy_agent.storage.error import StorageNotFoundError
from acapy_agent.transport.inbound.receipt import MessageReceipt
from acapy_agent.transport.outbound.message import OutboundMessage
from acapy_agent.transport.wire_format import BaseWireFormat
from acapy_agent.utils.task_queue import TaskQueue
from acapy_agent.wallet.base import BaseWallet
from acapy_agent.wallet.did_method import SOV, DIDMethods
from acapy_agent.wallet.key_type import ED25519, KeyTypes
from acapy_agent.wallet.models.wallet_record import WalletRecord

from acapy_bridge.codec import decode_envelope
from acapy_bridge.streams import ensure_group
from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge_shim.inbound_delivery import sub_wallet_id
from tests.acapy_inbound_harness import PEER_KEY, RELAY, Agent, JsonWireFormat, backlog_is, put_returned
from tests.waiting import eventually

ENDPOINT = "http://peer.example/didcomm"
STORE_KEY = "5BngFuBpS4wjFfVFCtPqoix3ZXG2XR8XJ7qosUzMak7R"
SUB_WALLET_KEY = "GJ1SzoWzavQYfNL9XkaJdrQejfztN4XqdsiV4ct3LXKL"  # the sub-wallet's key: messages to it route there
SENDER_KEY = "2wJPyULfLLnYTEFYzByfUR3dcgoVRvDs5RqujqJmGZ7u"


class RoutedJsonWireFormat(JsonWireFormat):
    """Plain JSON naming its recipient (`to`, as ACA-Py reads a JWE's recipients) and sender (`from`)."""

    async def parse_message(self, session, message_body):
        payload = json.loads(message_body)
        mode = (payload.get("~transport") or {}).get("return_route")
        receipt = MessageReceipt(
            direct_response_mode=mode,
            thread_id=payload.get("@id"),
            sender_verkey=payload.get("from"),
            recipient_verkey=payload.get("to"),
        )
        return payload, receipt

    def get_recipient_keys(self, message_body):
        to = json.loads(message_body).get("to")
        return [to] if to else []


class MultitenantAgent(Agent):
    """The harness's Agent on a real Askar base wallet with ACA-Py multitenancy on (`--multitenant`)."""

    def __init__(self, redis_url: str):  # noqa: PLW0231 - builds its own parts; start() makes the profiles
        self.prefix = f"py-mt-{uuid.uuid4().hex[:6]}"
        config = {"redis_url": redis_url, "prefix": self.prefix, "partitions": {"inbound": 2}}
        self.context = InjectionContext(
            settings={
                "plugin_config": {"acapy_bridge_shim": config},
                "wallet.type": "askar",
                "wallet.name": f"base-{self.prefix}",
                "wallet.key": STORE_KEY,
                "wallet.key_derivation_method": "RAW",
                "wallet.test": True,  # Askar in memory, for the base wallet and (inherited) each sub-wallet
                "multitenant.enabled": True,
                "multitenant.jwt_secret": "not-used-here",
            }
        )
        injector = self.context.injector
        injector.bind_provider(ProfileManager, ProfileManagerProvider())
        injector.bind_instance(DIDMethods, DIDMethods())
        injector.bind_instance(KeyTypes, KeyTypes())
        # As ACA-Py's DefaultContextBuilder binds it: a connection manager of the profile that asks.
        injector.bind_provider(
            BaseConnectionManager, ClassProvider(BaseConnectionManager, ClassProvider.Inject(Profile))
        )
        self.wire_format = RoutedJsonWireFormat()
        injector.bind_instance(BaseWireFormat, self.wire_format)
        self.dispatcher_queue = TaskQueue(max_active=50)
        self.handlers = {}
        self.handled = []
        self.routed_profiles: list[Profile] = []
        self.answer = None  # async (profile, message): what the protocol handler does

    async def start(self) -> None:
        self.profile, _ = await wallet_config(self.context, provision=True)
        self.context = self.profile.context  # the root context ACA-Py hands plugins and transports
        # As the conductor binds it with --multitenant.
        self.context.injector.bind_provider(BaseMultitenantManager, MultitenantManagerProvider(self.profile))
        self.context.injector.bind_provider(RouteManager, RouteManagerProvider(self.profile))
        self.multitenant = self.context.inject(BaseMultitenantManager)
        self.wire_acapy()
        # ACA-Py runs multitenancy with an admin server, which binds this responder (a sub-wallet session copies it).
        self.context.injector.bind_instance(
            BaseResponder, AdminResponder(self.profile, self.conductor.outbound_message_router)
        )
        await super().start()

    async def stop(self) -> None:
        await super().stop()
        for profile in list(self.multitenant.open_profiles):
            await profile.close()
        await self.profile.close()

    # Conductor.inbound_message_router -> Dispatcher.queue_message, with the session's profile.
    def route(self, profile, message, can_respond=False):
        self.routed_profiles.append(profile)
        self.dispatcher_queue.put(
            self.handle_in(profile, message),
            lambda completed: Conductor.dispatch_complete(self.conductor, message, completed),
        )

    async def handle_in(self, profile, message):
        if self.answer is not None:
            await self.answer(profile, message)

    async def create_sub_wallet(self, name: str) -> str:
        record = await self.multitenant.create_wallet(
            {"wallet.name": f"{name}-{self.prefix}", "wallet.type": "askar", "wallet.key": STORE_KEY},
            "managed",
        )
        return record.wallet_id

    async def relay_inbox(self) -> list[pb.DirectReply]:
        rt = self.runtime
        rows = await rt.client.xrange(rt.keyspace.key("relay_inbox", relay=RELAY))
        field = rt.keyspace.spec("relay_inbox").entry_field.encode()
        return [decode_envelope(pb.RelayCommand, f[field]).reply for _, f in rows]


async def wallet_profile(agent: MultitenantAgent, wallet_id: str) -> Profile:
    async with agent.profile.session() as session:
        record = await WalletRecord.retrieve_by_id(session, wallet_id)
    return await agent.multitenant.get_wallet_profile(agent.profile.context, record)


async def store_connection_awaiting_the_peer(profile: Profile) -> str:
    """A connection to the peer (its invitation received, our request sent), stored in `profile` only.

    ACA-Py's BaseConnectionManager takes its targets from the stored invitation: the peer's
    endpoint and key.
    """
    async with profile.session() as session:
        mine = await session.inject(BaseWallet).create_local_did(SOV, ED25519)
        invitation = InvitationMessage(
            label="peer",
            handshake_protocols=["https://didcomm.org/didexchange/1.1"],
            services=[
                Service(
                    _id="#inline",
                    _type="did-communication",
                    recipient_keys=[DIDKey.from_public_key_b58(PEER_KEY, ED25519).did],
                    service_endpoint=ENDPOINT,
                )
            ],
        )
        connection = ConnRecord(
            my_did=mine.did,
            their_role=ConnRecord.Role.RESPONDER,
            state=ConnRecord.State.REQUEST,
            invitation_key=PEER_KEY,
            invitation_msg_id=invitation._id,
        )
        await connection.save(session)
        await connection.attach_invitation(session, invitation)
        return connection.connection_id


@pytest.fixture
async def agent(redis_server):
    a = MultitenantAgent(redis_server.url)
    await a.start()
    yield a
    await a.stop()


async def test_a_returned_reply_naming_a_sub_wallet_is_sent_with_that_wallets_profile_and_acknowledged(agent):
    wallet_id = await agent.create_sub_wallet("alice")
    connection_id = await store_connection_awaiting_the_peer(await wallet_profile(agent, wallet_id))
    async with agent.profile.session() as session:  # the base wallet does not know it
        with pytest.raises(StorageNotFoundError):
            await ConnRecord.retrieve_by_id(session, connection_id)

    await put_returned(agent, "mt1", connection_id=connection_id, reply_to_verkey=PEER_KEY, wallet_id=wallet_id)

    jobs = await eventually(agent.outbound_jobs)
    # Targets from the sub-wallet's connection; the job written by the shim's outbound transport with the
    # profile it was given: the sub-wallet's.
    assert [(j.endpoint, j.body, j.recipient_key, j.connection_id, j.wallet_id) for j in jobs] == [
        (ENDPOINT, b'{"jwe":1}', PEER_KEY, connection_id, wallet_id)
    ]
    await eventually(lambda: backlog_is(agent, 0))  # acknowledged
    assert await agent.pending() == 0
    assert await agent.dead_letters() == []


async def test_a_returned_reply_naming_an_unknown_sub_wallet_is_an_invalid_endpoint_dead_letter_naming_it(agent):
    await put_returned(agent, "mt2", connection_id="conn-x", reply_to_verkey=PEER_KEY, wallet_id="wallet-gone-42")

    letters = await eventually(agent.dead_letters)
    assert [(d.agent_message.mid, d.reason, d.attempts) for d in letters] == [
        ("mt2", pb.DEAD_LETTER_REASON_INVALID_ENDPOINT, 1)
    ]
    assert "wallet-gone-42" in letters[0].detail and "orig-mt2" in letters[0].detail
    await eventually(lambda: backlog_is(agent, 0))
    assert await agent.outbound_jobs() == []


async def test_a_direct_response_produced_in_a_sub_wallet_session_carries_that_wallet_id(agent):
    wallet_id = await agent.create_sub_wallet("bob")
    await RoutingManager(agent.profile).create_route_record(recipient_key=SUB_WALLET_KEY, internal_wallet_id=wallet_id)
    rt = agent.runtime
    # A live relay creates its inbox (with its consumer group) at start; replies are only written to one that exists.
    await ensure_group(
        rt.client, rt.keyspace.key("relay_inbox", relay=RELAY), rt.keyspace.spec("relay_inbox").consumer_group
    )

    async def answer(profile, message):  # the handler answers through ACA-Py's router, in its session's profile
        outbound = OutboundMessage(
            payload=None, enc_payload=b'{"jwe":"pong"}', reply_to_verkey=SENDER_KEY, connection_id="conn-b"
        )
        await agent.conductor.outbound_message_router(profile, outbound, inbound=message)

    agent.answer = answer
    await agent.put(
        "mt3",
        {"to": SUB_WALLET_KEY, "from": SENDER_KEY, "~transport": {"return_route": "all"}},
        request_id="req-mt3",
        recipient_key=SUB_WALLET_KEY,
    )

    replies = await eventually(agent.relay_inbox)
    assert [(r.mid, r.body, r.connection_id, r.wallet_id) for r in replies] == [
        ("mt3", b'{"jwe":"pong"}', "conn-b", wallet_id)
    ]
    assert [p.settings.get("wallet.id") for p in agent.routed_profiles] == [wallet_id]  # ACA-Py switched it
    await eventually(lambda: backlog_is(agent, 0))


async def test_the_wallet_id_of_a_session_profile_is_the_sub_wallets_and_empty_for_the_base_wallet(agent):
    assert sub_wallet_id(agent.profile, agent.profile) == ""
    wallet_id = await agent.create_sub_wallet("carol")
    assert sub_wallet_id(await wallet_profile(agent, wallet_id), agent.profile) == wallet_id
