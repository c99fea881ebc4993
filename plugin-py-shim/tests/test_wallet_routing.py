"""Wallet routes, live pushes and mailboxes against a real redis-server."""

import asyncio
import time
import uuid

import pytest

from acapy_bridge.codec import decode_envelope
from acapy_bridge.redis_connection import RedisConnectionConfig, create_redis_client
from acapy_bridge.scripts import Scripts
from acapy_bridge.streams import ensure_group
from acapy_bridge.topology import PartitionPlan, ensure_topology
from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge_shim.config import MailboxSettings, parse_config
from acapy_bridge_shim.wallet_routing import WalletRouter
from tests.waiting import eventually

RELAY_A = "relay-a"
RELAY_B = "relay-b"
WALLET = "WalletVerkey1111111111111111111111111111111"


@pytest.fixture
async def env(redis_server):
    client = create_redis_client(RedisConnectionConfig(url=redis_server.url))
    keyspace = await ensure_topology(client, f"py-w-{uuid.uuid4().hex[:6]}", PartitionPlan(inbound_partitions=2))
    yield client, keyspace
    await client.aclose()


def router(client, keyspace, **settings) -> WalletRouter:
    return WalletRouter(
        client=client,
        scripts=Scripts(client),
        keyspace=keyspace,
        settings=MailboxSettings(**settings),
        instance_id="shim-test",
    )


async def live_relay(client, keyspace, relay_id: str) -> None:
    await client.zadd(keyspace.key("members", role="relay"), {relay_id: int(time.time() * 1000)})
    await ensure_group(client, keyspace.key("relay_inbox", relay=relay_id), "relay")


async def router_with_mailbox(client, keyspace, *, drain_batch: int, waiting: int = 20) -> WalletRouter:
    """A router whose wallet has `waiting` messages in its mailbox (no session yet)."""
    w = router(client, keyspace, drain_batch=drain_batch)
    for n in range(waiting):
        await w.deliver(message(w, n))
    return w


async def pushes(client, keyspace, relay_id: str) -> list[pb.SocketPush]:
    rows = await client.xrange(keyspace.key("relay_inbox", relay=relay_id))
    return [decode_envelope(pb.RelayCommand, fields[b"e"]).push for _, fields in rows]


async def mailbox(client, w: WalletRouter, key: str = WALLET) -> list[pb.WalletMessage]:
    return [decode_envelope(pb.WalletMessage, raw) for raw in await client.lrange(w.mailbox_key(key), 0, -1)]


def message(w: WalletRouter, n: int) -> pb.WalletMessage:
    return w.wallet_message(WALLET, f"body-{n}".encode(), "application/didcomm-envelope-enc", f"mid-{n:04d}")


async def test_a_newer_session_replaces_the_route_and_an_older_one_does_not(env):
    client, keyspace = env
    w = router(client, keyspace)
    assert await w.register_route(WALLET, RELAY_A, "ws-1", 2000)
    assert not await w.register_route(WALLET, RELAY_B, "ws-old", 1000)
    route = await w.route_of(WALLET)
    assert (route.relay_id, route.socket_id, route.epoch) == (RELAY_A, "ws-1", 2000)
    assert await w.register_route(WALLET, RELAY_B, "ws-2", 3000)
    assert (await w.route_of(WALLET)).relay_id == RELAY_B
    ttl = await client.pttl(w.route_key(WALLET))
    assert 0 < ttl <= keyspace.spec("wallet_route").default_ttl_ms


async def test_the_route_is_cleared_only_by_the_socket_it_names(env):
    client, keyspace = env
    w = router(client, keyspace)
    await w.register_route(WALLET, RELAY_A, "ws-1", 1)
    assert not await w.clear_route(WALLET, RELAY_A, "ws-other")
    assert not await w.clear_route(WALLET, RELAY_B, "ws-1")
    assert await w.clear_route(WALLET, RELAY_A, "ws-1")
    assert await w.route_of(WALLET) is None


async def test_a_message_for_a_wallet_with_a_live_route_is_pushed_to_its_relay(env):
    client, keyspace = env
    await live_relay(client, keyspace, RELAY_A)
    w = router(client, keyspace)
    await w.register_route(WALLET, RELAY_A, "ws-1", 5)
    assert await w.deliver(message(w, 1)) == "live"
    [push] = await pushes(client, keyspace, RELAY_A)
    assert (push.socket_id, push.route_epoch, push.hop, push.message.mid) == ("ws-1", 5, 0, "mid-0001")
    assert await mailbox(client, w) == []


async def test_a_message_for_a_wallet_without_a_route_or_with_a_dead_relay_waits_in_its_mailbox(env):
    client, keyspace = env
    w = router(client, keyspace)
    assert await w.deliver(message(w, 1)) == "mailbox"
    # A route to a relay with no heartbeat: not alive.
    await w.register_route(WALLET, "relay-dead", "ws-9", 7)
    assert await w.deliver(message(w, 2)) == "mailbox"
    assert [m.mid for m in await mailbox(client, w)] == ["mid-0001", "mid-0002"]
    assert await pushes(client, keyspace, "relay-dead") == []


async def test_a_new_session_drains_the_mailbox_in_order_then_live_messages_follow(env):
    client, keyspace = env
    await live_relay(client, keyspace, RELAY_B)
    w = await router_with_mailbox(client, keyspace, drain_batch=7)
    await w.register_route(WALLET, RELAY_B, "ws-2", 10)
    assert await mailbox(client, w) == []
    assert await w.deliver(message(w, 20)) == "live"
    assert [p.message.mid for p in await pushes(client, keyspace, RELAY_B)] == [f"mid-{n:04d}" for n in range(21)]


def stall_first_pushes(w: WalletRouter, relay_id: str | None = None) -> tuple[asyncio.Event, asyncio.Event]:
    """Pushes (to `relay_id`, or to any relay) wait until `release` is set, as if Redis were slow.

    Returns (started, release): `started` is set once the first push waits.
    """
    started, release = asyncio.Event(), asyncio.Event()
    push = w.push

    async def stalling_push(route, msg, hop=0):
        if (relay_id is None or route.relay_id == relay_id) and not release.is_set():
            started.set()
            await release.wait()
        return await push(route, msg, hop)

    w.push = stalling_push
    return started, release


async def drain_to_relay_a_under_way(client, keyspace):
    """Relays A and B alive, 20 messages in the mailbox, a session on A whose drain is stalled
    before its first push. Returns (router, the drain's task, the event that lets it go on)."""
    await live_relay(client, keyspace, RELAY_A)
    await live_relay(client, keyspace, RELAY_B)
    w = await router_with_mailbox(client, keyspace, drain_batch=5)
    started, release = stall_first_pushes(w, RELAY_A)
    first = asyncio.create_task(w.register_route(WALLET, RELAY_A, "ws-1", 1))
    await started.wait()
    return w, first, release


async def test_a_session_that_registers_during_a_drain_gets_the_mailbox_when_the_drains_relay_dies(env):
    client, keyspace = env
    w, first, release = await drain_to_relay_a_under_way(client, keyspace)
    # Relay A dies (the janitor removes its inbox) and the wallet reconnects through relay B.
    await client.delete(w.inbox_key(RELAY_A))
    assert await w.register_route(WALLET, RELAY_B, "ws-2", 2)
    release.set()
    assert await first
    assert await mailbox(client, w) == []
    assert await pushes(client, keyspace, RELAY_A) == []
    assert [p.message.mid for p in await pushes(client, keyspace, RELAY_B)] == [f"mid-{n:04d}" for n in range(20)]


async def test_a_drain_keeps_its_live_relay_when_a_newer_session_registers_so_the_order_holds(env):
    client, keyspace = env
    w, first, release = await drain_to_relay_a_under_way(client, keyspace)
    assert await w.register_route(WALLET, RELAY_B, "ws-2", 2)  # its own drain defers to the running one
    release.set()
    assert await first
    # All through relay A, in order: A forwards to the wallet's newer session (one hop), behind
    # what it already holds, instead of B receiving later messages before earlier ones.
    assert [p.message.mid for p in await pushes(client, keyspace, RELAY_A)] == [f"mid-{n:04d}" for n in range(20)]
    assert await pushes(client, keyspace, RELAY_B) == []


async def test_a_drain_stops_when_its_session_closes_and_leaves_the_rest_in_the_mailbox(env):
    client, keyspace = env
    await live_relay(client, keyspace, RELAY_A)
    w = await router_with_mailbox(client, keyspace, drain_batch=5)
    first_push_started, release = stall_first_pushes(w)
    drain = asyncio.create_task(w.register_route(WALLET, RELAY_A, "ws-1", 1))
    await first_push_started.wait()
    assert await w.clear_route(WALLET, RELAY_A, "ws-1")  # the wallet's socket closed
    release.set()
    assert await drain
    assert [p.message.mid for p in await pushes(client, keyspace, RELAY_A)] == [f"mid-{n:04d}" for n in range(5)]
    assert [m.mid for m in await mailbox(client, w)] == [f"mid-{n:04d}" for n in range(5, 20)]


async def test_while_the_mailbox_is_not_empty_new_messages_queue_behind_it(env):
    client, keyspace = env
    await live_relay(client, keyspace, RELAY_A)
    w = router(client, keyspace)
    await w.deliver(message(w, 1))  # no route yet
    # Route set without a drain (as if the drain stopped half way).
    await w._scripts.route_set(
        route=w.route_key(WALLET),
        wallet_route=pb.WalletRoute(relay_id=RELAY_A, socket_id="ws-1", epoch=3).SerializeToString(),
        epoch=3,
        ttl_ms=60000,
    )
    assert await w.deliver(message(w, 2)) == "mailbox"

    # ... and that delivery kicks a drain, in order.
    async def both_pushed():
        return len(await pushes(client, keyspace, RELAY_A)) == 2

    await eventually(both_pushed, what="the drain's two pushes")
    assert [p.message.mid for p in await pushes(client, keyspace, RELAY_A)] == ["mid-0001", "mid-0002"]


async def test_a_full_mailbox_dead_letters_the_new_message_with_reason_mailbox_full(env):
    client, keyspace = env
    w = router(client, keyspace, max_messages=3)
    results = [await w.deliver(message(w, n)) for n in range(5)]
    assert results == ["mailbox"] * 3 + ["dead_letter"] * 2
    rows = await client.xrange(w.dead_letter_key(WALLET))
    letters = [decode_envelope(pb.DeadLetter, fields[b"e"]) for _, fields in rows]
    assert [(d.reason, d.wallet_message.mid) for d in letters] == [
        (pb.DEAD_LETTER_REASON_MAILBOX_FULL, "mid-0003"),
        (pb.DEAD_LETTER_REASON_MAILBOX_FULL, "mid-0004"),
    ]
    assert letters[0].source_key == w.mailbox_key(WALLET)
    assert w.stats["dead_full"] == 2
    # ... and counted for the relays' metric.
    assert await client.hgetall(keyspace.key("wallet_dead_letter_counts")) == {b"MAILBOX_FULL": b"2"}


async def test_a_mailbox_message_past_its_ttl_is_dead_lettered_expired_not_delivered(env):
    client, keyspace = env
    await live_relay(client, keyspace, RELAY_A)
    w = router(client, keyspace, ttl_s=1)
    old = message(w, 1)
    old.expires_at_ms = int(time.time() * 1000) - 1
    await w.deliver(old)
    await w.deliver(message(w, 2))
    await w.register_route(WALLET, RELAY_A, "ws-1", 1)
    assert [p.message.mid for p in await pushes(client, keyspace, RELAY_A)] == ["mid-0002"]
    rows = await client.xrange(w.dead_letter_key(WALLET))
    [letter] = [decode_envelope(pb.DeadLetter, fields[b"e"]) for _, fields in rows]
    assert (letter.reason, letter.wallet_message.mid) == (pb.DEAD_LETTER_REASON_EXPIRED, "mid-0001")
    assert w.stats["dead_expired"] == 1
    assert await client.hgetall(keyspace.key("wallet_dead_letter_counts")) == {b"EXPIRED": b"1"}


async def test_a_push_to_a_deleted_relay_inbox_falls_back_to_the_mailbox(env):
    client, keyspace = env
    await live_relay(client, keyspace, RELAY_A)
    w = router(client, keyspace)
    await w.register_route(WALLET, RELAY_A, "ws-1", 1)
    await client.delete(w.inbox_key(RELAY_A))  # the janitor removed it; the heartbeat is still cached
    assert await w.deliver(message(w, 1)) == "mailbox"
    assert not await client.exists(w.inbox_key(RELAY_A))


async def wallet_counts(client, keyspace) -> dict[str, int]:
    raw = await client.hgetall(keyspace.key("wallet_mailbox_and_route_counts"))
    return {field.decode(): int(value) for field, value in raw.items()}


async def test_mailbox_messages_are_counted_in_when_stored_and_out_when_a_drain_takes_them(env):
    client, keyspace = env
    await live_relay(client, keyspace, RELAY_A)
    w = router(client, keyspace, max_messages=4, drain_batch=3)
    results = [await w.deliver(message(w, n)) for n in range(5)]
    assert results == ["mailbox"] * 4 + ["dead_letter"]
    # Only what the mailbox stored: the message refused as MAILBOX_FULL is not in it.
    assert await wallet_counts(client, keyspace) == {"MAILBOX_IN": 4}
    await w.register_route(WALLET, RELAY_A, "ws-1", 1)
    assert await mailbox(client, w) == []
    assert (await wallet_counts(client, keyspace))["MAILBOX_OUT"] == 4
    # A live push never touches the mailbox, so it is not counted.
    assert await w.deliver(message(w, 9)) == "live"
    counts = await wallet_counts(client, keyspace)
    assert (counts["MAILBOX_IN"], counts["MAILBOX_OUT"]) == (4, 4)


async def test_an_expired_message_dead_lettered_by_the_drain_is_counted_out_of_the_mailbox(env):
    client, keyspace = env
    await live_relay(client, keyspace, RELAY_A)
    w = router(client, keyspace)
    old = message(w, 1)
    old.expires_at_ms = int(time.time() * 1000) - 1
    await w.deliver(old)
    await w.deliver(message(w, 2))
    await w.register_route(WALLET, RELAY_A, "ws-1", 1)
    counts = await wallet_counts(client, keyspace)
    assert (counts["MAILBOX_IN"], counts["MAILBOX_OUT"]) == (2, 2)


async def test_route_changes_are_counted_registered_replaced_and_cleared_but_not_a_session_setting_its_route_again(
    env,
):
    client, keyspace = env
    w = router(client, keyspace)
    # Real epochs: ms * 1000 + counter, 16 digits.
    first, second = 1_732_780_800_000_001, 1_732_780_800_000_002
    await w.register_route(WALLET, RELAY_A, "ws-1", first)
    assert await wallet_counts(client, keyspace) == {"ROUTE_REGISTERED": 1}
    # Every frame of the session sets the route again: no change.
    await w.register_route(WALLET, RELAY_A, "ws-1", first)
    assert await wallet_counts(client, keyspace) == {"ROUTE_REGISTERED": 1}
    await w.register_route(WALLET, RELAY_B, "ws-2", second)
    assert not await w.register_route(WALLET, RELAY_A, "ws-old", first)  # stale: nothing changed
    assert not await w.clear_route(WALLET, RELAY_A, "ws-1")  # names the replaced session: nothing changed
    assert await w.clear_route(WALLET, RELAY_B, "ws-2")
    assert await wallet_counts(client, keyspace) == {"ROUTE_REGISTERED": 1, "ROUTE_REPLACED": 1, "ROUTE_CLEARED": 1}
    assert (w.stats["routes_registered"], w.stats["routes_replaced"], w.stats["routes_stale"]) == (1, 1, 1)


async def test_a_count_that_cannot_be_written_is_logged_and_the_messages_are_handled_as_usual(env, caplog):
    client, keyspace = env
    await live_relay(client, keyspace, RELAY_A)
    # Not a hash: every HINCRBY fails with WRONGTYPE, a real Redis error.
    await client.set(keyspace.key("wallet_mailbox_and_route_counts"), "not a hash")
    w = router(client, keyspace)
    assert await w.deliver(message(w, 1)) == "mailbox"
    assert await w.register_route(WALLET, RELAY_A, "ws-1", 1)
    assert [p.message.mid for p in await pushes(client, keyspace, RELAY_A)] == ["mid-0001"]
    assert await mailbox(client, w) == []
    not_counted = [r.getMessage() for r in caplog.records if "not updated" in r.getMessage()]
    assert [m.split(" not updated")[0] for m in not_counted] == [
        "acapy-bridge wallets: count MAILBOX_IN",
        "acapy-bridge wallets: count ROUTE_REGISTERED",
        "acapy-bridge wallets: count MAILBOX_OUT",
    ]


def test_wallet_routing_is_on_for_an_open_mediator_unless_switched_off_and_off_otherwise():
    url = {"redis_url": "redis://127.0.0.1:6379"}
    assert parse_config(url, mediator=True).mailbox.enabled
    assert not parse_config(url).mailbox.enabled
    assert not parse_config({**url, "mailbox": {"enabled": False}}, mediator=True).mailbox.enabled
    assert parse_config({**url, "mailbox": {"enabled": True}}).mailbox.enabled


def test_mailbox_settings_are_read_from_the_plugin_config():
    config = parse_config(
        {"redis_url": "redis://127.0.0.1:6379", "mailbox": {"max_messages": 5, "ttl_s": 60, "drain_batch": 10}}
    )
    assert (config.mailbox.max_messages, config.mailbox.ttl_s, config.mailbox.drain_batch) == (5, 60, 10)
