"""Design 1: an instance's inbox written into ACA-Py sessions, and a dead instance's inbox handed on.

Real redis-server; the ACA-Py sessions are stand-ins with the attributes the shim uses
(`closed`, `response_buffer`, `set_response`, `response_event`), written by a fake transport.
"""

import asyncio
import time
import uuid

import pytest

from acapy_bridge.codec import decode_envelope
from acapy_bridge.membership import Membership
from acapy_bridge.redis_connection import RedisConnectionConfig, create_redis_client
from acapy_bridge.scripts import Scripts
from acapy_bridge.streams import ensure_group
from acapy_bridge.topology import PartitionPlan, ensure_topology
from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge_shim.config import MailboxSettings
from acapy_bridge_shim.own_transports.janitor import InboxJanitor
from acapy_bridge_shim.own_transports.session_pushes import SessionPushes
from acapy_bridge_shim.own_transports.wallet_sessions import WalletSessions
from acapy_bridge_shim.wallet_routing import WalletRouter
from tests.waiting import eventually

WALLET = "WalletVerkey2222222222222222222222222222222"
HOLDER = "shim-here-sockets"


class FakeSession:
    """An ACA-Py InboundSession as the shim sees it; `written` is what its transport sent."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        self.closed = False
        self.response_buffer = None
        self.response_event = asyncio.Event()
        self.written: list[bytes] = []
        self._transport = asyncio.get_running_loop().create_task(self._write_loop())

    def set_response(self, outbound) -> None:
        self.response_buffer = outbound
        self.response_event.set()

    async def _write_loop(self) -> None:
        while not self.closed:
            if self.response_buffer is not None:
                await asyncio.sleep(0.001)  # the frame on its way
                self.written.append(self.response_buffer.enc_payload)
                self.response_buffer = None
                self.response_event.set()
            self.response_event.clear()
            await self.response_event.wait()

    def close(self) -> None:
        self.closed = True
        self.response_event.set()


@pytest.fixture
async def env(redis_server):
    client = create_redis_client(RedisConnectionConfig(url=redis_server.url))
    keyspace = await ensure_topology(client, f"py-d1-{uuid.uuid4().hex[:6]}", PartitionPlan(inbound_partitions=2))
    wallets = WalletRouter(
        client=client, scripts=Scripts(client), keyspace=keyspace, settings=MailboxSettings(), instance_id="shim-t"
    )
    sessions: dict = {}
    pushes = SessionPushes(
        client=client,
        scripts=Scripts(client),
        keyspace=keyspace,
        wallets=wallets,
        sessions=WalletSessions(sessions=sessions, wallets=wallets, holder_id=HOLDER),
    )
    await client.zadd(keyspace.key("members", role="relay"), {HOLDER: int(time.time() * 1000)})
    await pushes.start()
    yield client, keyspace, wallets, sessions, pushes
    await pushes.stop()
    for session in sessions.values():
        session.close()
    await client.aclose()


def message(wallets: WalletRouter, n: int) -> pb.WalletMessage:
    return wallets.wallet_message(WALLET, f"body-{n}".encode(), "application/didcomm-envelope-enc", f"mid-{n:04d}")


async def mailbox_mids(client, wallets: WalletRouter) -> list[str]:
    raw = await client.lrange(wallets.mailbox_key(WALLET), 0, -1)
    return [decode_envelope(pb.WalletMessage, item).mid for item in raw]


async def nothing_pending(client, keyspace) -> bool:
    return (await client.xpending(keyspace.key("relay_inbox", relay=HOLDER), "relay"))["pending"] == 0


def written(session: FakeSession, count: int):
    async def check() -> bool:
        return len(session.written) >= count

    return check


async def test_pushes_for_a_session_here_are_written_in_order_and_acknowledged_after_the_write(env):
    client, keyspace, wallets, sessions, _ = env
    session = sessions["ws-1"] = FakeSession("ws-1")
    await wallets.register_route(WALLET, HOLDER, "ws-1", 100)
    for n in range(30):
        assert await wallets.deliver(message(wallets, n)) == "live"
    await eventually(written(session, 30), 10, "30 frames written")
    assert session.written == [f"body-{n}".encode() for n in range(30)]
    await eventually(lambda: nothing_pending(client, keyspace), 5, "every entry acknowledged")


async def test_a_push_for_a_closed_session_goes_back_to_the_mailbox_and_the_route_is_cleared(env):
    client, keyspace, wallets, sessions, _ = env
    gone = sessions["ws-gone"] = FakeSession("ws-gone")
    gone.close()
    await wallets.register_route(WALLET, HOLDER, "ws-gone", 200)
    await wallets.deliver(message(wallets, 1))
    await eventually(lambda: mailbox_mids(client, wallets), 5, "the push back in the mailbox")
    assert await mailbox_mids(client, wallets) == ["mid-0001"]
    assert await wallets.route_of(WALLET) is None
    await eventually(lambda: nothing_pending(client, keyspace), 5, "the entry acknowledged")


async def test_a_push_for_an_old_session_goes_to_the_wallets_newer_session_here(env):
    _, _, wallets, sessions, _ = env
    newer = sessions["ws-new"] = FakeSession("ws-new")
    await wallets.register_route(WALLET, HOLDER, "ws-new", 300)
    # Written for a session that is gone, before the wallet reconnected here.
    await wallets.push(pb.WalletRoute(relay_id=HOLDER, socket_id="ws-old", epoch=1), message(wallets, 7))
    await eventually(written(newer, 1), 5, "the frame on the newer session")
    assert newer.written == [b"body-7"]


async def test_the_janitor_hands_a_dead_instances_inbox_to_the_wallets_new_session(env):
    client, keyspace, wallets, sessions, pushes = env
    dead = "shim-dead-sockets"
    dead_inbox = keyspace.key("relay_inbox", relay=dead)
    await ensure_group(client, dead_inbox, "relay")
    await client.zadd(keyspace.key("members", role="relay"), {dead: 0})  # stopped: score 0
    for n in range(5):
        await wallets.push(pb.WalletRoute(relay_id=dead, socket_id="ws-died", epoch=1), message(wallets, n))
    session = sessions["ws-here"] = FakeSession("ws-here")
    await wallets.register_route(WALLET, HOLDER, "ws-here", 400)
    janitor = InboxJanitor(
        client=client,
        scripts=Scripts(client),
        keyspace=keyspace,
        membership=Membership(client, keyspace, HOLDER, "relay"),
        wallets=wallets,
        pushes=pushes,
        holder_id=HOLDER,
        interval_s=60,
    )
    assert await janitor.run_once() == [dead]
    await eventually(written(session, 5), 10, "the dead inbox's 5 frames written here")
    assert session.written == [f"body-{n}".encode() for n in range(5)]
    assert await client.exists(dead_inbox) == 0
    assert await client.zscore(keyspace.key("members", role="relay"), dead) is None
