"""The inbound consumer against a real redis-server (ACA-Py replaced by a fake `deliver`)."""

import uuid

import pytest

from acapy_bridge.codec import decode_envelope, encode_envelope
from acapy_bridge.partitioning import partition_of
from acapy_bridge.redis_connection import RedisConnectionConfig, create_redis_client
from acapy_bridge.scripts import Scripts
from acapy_bridge.streams import ensure_group
from acapy_bridge.topology import PartitionPlan, ensure_topology
from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge_shim.config import InboundSettings
from acapy_bridge_shim.inbound_consumer import InboundConsumer
from acapy_bridge_shim.inbound_outcome import Outcome
from tests.waiting import eventually, hold_still

RELAY = "relay-test"


@pytest.fixture
async def env(redis_server):
    client = create_redis_client(RedisConnectionConfig(url=redis_server.url))
    keyspace = await ensure_topology(client, f"py-in-{uuid.uuid4().hex[:6]}", PartitionPlan(inbound_partitions=2))
    # A live relay creates its inbox (with its consumer group) at start; replies are only written to one that exists.
    await ensure_group(client, keyspace.key("relay_inbox", relay=RELAY), keyspace.spec("relay_inbox").consumer_group)
    yield client, keyspace, Scripts(client)
    await client.aclose()


def agent_message(mid: str, **fields) -> pb.AgentMessage:
    defaults = dict(
        mid=mid,
        kind=pb.INBOUND_KIND_AGENT_MESSAGE,
        recipient_key="Verkey" + mid,
        content_type="application/didcomm-envelope-enc",
        body=b'{"protected":"x"}',
        transport=pb.TRANSPORT_HTTP,
        relay_id=RELAY,
        request_id=mid,
    )
    defaults.update(fields)
    return pb.AgentMessage(**defaults)


async def put(client, keyspace, message: pb.AgentMessage | bytes) -> str:
    rk = message.recipient_key if isinstance(message, pb.AgentMessage) else "raw"
    stream = keyspace.key("inbound_queue", partition=partition_of(rk, 2))
    payload = encode_envelope(message) if isinstance(message, pb.AgentMessage) else message
    for key in keyspace.all_partitions("inbound_queue"):
        await ensure_group(client, key, "acapy")
    return (await client.xadd(stream, {"e": payload})).decode()


async def inbox(client, keyspace) -> list[pb.DirectReply]:
    rows = await client.xrange(keyspace.key("relay_inbox", relay=RELAY))
    return [decode_envelope(pb.RelayCommand, fields[b"e"]).reply for _, fields in rows]


async def dead_letters(client, keyspace) -> list[pb.DeadLetter]:
    out = []
    for key in keyspace.all_partitions("inbound_dead_letters"):
        for _, fields in await client.xrange(key):
            out.append(decode_envelope(pb.DeadLetter, fields[b"e"]))
    return out


async def backlog(client, keyspace) -> int:
    return sum([await client.xlen(k) for k in keyspace.all_partitions("inbound_queue")])


def consumer_for(env, deliver, *, requeue=None, live=(), **settings) -> InboundConsumer:
    client, keyspace, scripts = env

    async def no_requeue(message):
        raise AssertionError("unexpected requeue")

    async def live_consumers():
        return list(live)

    return InboundConsumer(
        client=client,
        scripts=scripts,
        keyspace=keyspace,
        consumer=f"shim-{uuid.uuid4().hex[:6]}",
        settings=InboundSettings(block_ms=100, **settings),
        deliver=deliver,
        requeue=requeue or no_requeue,
        live_consumers=live_consumers,
        claim_interval_s=60,
    )


async def test_writes_the_direct_reply_to_the_origin_relay_inbox_before_acknowledging(env):
    client, keyspace, _ = env

    async def deliver(message, reply_now):
        return Outcome(reply=pb.DirectReply(mid=message.mid, request_id=message.request_id, status=200, body=b"pong"))

    consumer = consumer_for(env, deliver)
    await put(client, keyspace, agent_message("m1"))
    await consumer.start()
    try:
        replies = await eventually(lambda: inbox(client, keyspace))
        assert [(r.mid, r.status, r.body) for r in replies] == [("m1", 200, b"pong")]
        await eventually(lambda: backlog_is(client, keyspace, 0))
    finally:
        await consumer.stop()


async def backlog_is(client, keyspace, n):
    return await backlog(client, keyspace) == n


async def test_answers_400_and_dead_letters_a_message_acapy_cannot_parse(env):
    client, keyspace, _ = env

    async def deliver(message, reply_now):
        return Outcome(
            reply=pb.DirectReply(mid=message.mid, request_id=message.request_id, status=400, error="bad json"),
            dead_letter=(pb.DEAD_LETTER_REASON_MALFORMED, "bad json"),
        )

    consumer = consumer_for(env, deliver)
    await put(client, keyspace, agent_message("m2"))
    await put(client, keyspace, b"\xff\xfe not an envelope")
    await consumer.start()
    try:
        letters = await eventually(lambda: dead_letters_n(client, keyspace, 2))
        reasons = sorted((d.reason, d.WhichOneof("original")) for d in letters)
        assert reasons == [
            (pb.DEAD_LETTER_REASON_MALFORMED, "agent_message"),
            (pb.DEAD_LETTER_REASON_MALFORMED, "undecodable"),
        ]
        assert [r.status for r in await inbox(client, keyspace)] == [400]
        assert await backlog(client, keyspace) == 0
    finally:
        await consumer.stop()


async def dead_letters_n(client, keyspace, n):
    letters = await dead_letters(client, keyspace)
    return letters if len(letters) >= n else None


async def test_takes_over_the_pending_messages_of_a_dead_consumer(env):
    client, keyspace, _ = env
    seen = []

    async def deliver(message, reply_now):
        seen.append(message.mid)
        return Outcome()

    for i in range(5):
        await put(client, keyspace, agent_message(f"d{i}", request_id=""))
    # A consumer reads them, then dies without acknowledging.
    for key in keyspace.all_partitions("inbound_queue"):
        await client.xreadgroup("acapy", "shim-dead", {key: ">"}, count=10)
    await hold_still(1.1, "claims from dead consumers skip entries handed out in the last second")
    consumer = consumer_for(env, deliver, live=[])
    # Only the claim path can see them: they are pending under another name.
    await consumer.start()
    try:
        assert await consumer.claim_once() == 5
        await eventually(lambda: backlog_is(client, keyspace, 0))
        assert sorted(seen) == [f"d{i}" for i in range(5)]
    finally:
        await consumer.stop()


async def _joined_every_partition(client, keyspace, consumer: str) -> bool:
    """True once the consumer's read loops made their first read of every partition (XREADGROUP adds it)."""
    for key in keyspace.all_partitions("inbound_queue"):
        names = {
            (row["name"].decode() if isinstance(row["name"], bytes) else row["name"])
            for row in await client.xinfo_consumers(key, "acapy")
        }
        if consumer not in names:
            return False
    return True


async def test_dead_letters_a_message_delivered_more_than_max_deliveries_times_as_poison(env):
    client, keyspace, _ = env

    async def deliver(message, reply_now):
        raise AssertionError("a poison message must not reach ACA-Py again")

    await put(client, keyspace, agent_message("p1", request_id=""))
    for name in ("a", "b", "c"):
        for key in keyspace.all_partitions("inbound_queue"):
            if name == "a":
                await client.xreadgroup("acapy", "shim-a", {key: ">"}, count=10)
            else:
                pending = await client.xpending_range(key, "acapy", "-", "+", 10)
                if pending:
                    await client.xclaim(key, "acapy", f"shim-{name}", 0, [p["message_id"] for p in pending])
    await hold_still(1.1, "claims from dead consumers skip entries handed out in the last second")
    consumer = consumer_for(env, deliver, live=[], max_deliveries=3)
    await consumer.start()
    try:
        # A read loop's first read takes its own pending entries (XREADGROUP from 0), which counts as a
        # delivery: claim only once every loop is past it, or p1 is counted a fifth time.
        await eventually(lambda: _joined_every_partition(client, keyspace, consumer.consumer))
        await consumer.claim_once()  # the fourth delivery
        letters = await eventually(lambda: dead_letters_n(client, keyspace, 1))
        assert letters[0].reason == pb.DEAD_LETTER_REASON_POISON
        assert letters[0].attempts == 4
        assert letters[0].agent_message.mid == "p1"
        assert await backlog(client, keyspace) == 0
    finally:
        await consumer.stop()


async def test_hands_a_returned_reply_to_acapy_and_acknowledges_it(env):
    client, keyspace, _ = env
    requeued = []

    async def deliver(message, reply_now):
        raise AssertionError("not an agent message")

    async def requeue(message):
        requeued.append(message.returned_reply)

    returned = agent_message(
        "r1",
        kind=pb.INBOUND_KIND_RETURNED_REPLY,
        request_id="",
        returned_reply=pb.DirectReply(mid="orig", status=200, body=b"late", reply_to_verkey="K", connection_id="c"),
    )
    await put(client, keyspace, returned)
    consumer = consumer_for(env, deliver, requeue=requeue)
    await consumer.start()
    try:
        await eventually(lambda: backlog_is(client, keyspace, 0))
        assert [(r.mid, r.body, r.connection_id) for r in requeued] == [("orig", b"late", "c")]
    finally:
        await consumer.stop()


async def test_hands_at_most_concurrency_messages_to_acapy_at_once(env):
    client, keyspace, _ = env
    active = 0
    peak = 0
    done = 0

    async def deliver(message, reply_now):
        nonlocal active, peak, done
        active += 1
        peak = max(peak, active)
        await hold_still(0.05, "a handler's work, so that deliveries overlap")
        active -= 1
        done += 1
        return Outcome()

    for i in range(12):
        await put(client, keyspace, agent_message(f"c{i}", request_id=""))
    consumer = consumer_for(env, deliver, concurrency=3)
    await consumer.start()
    try:
        await eventually(lambda: backlog_is(client, keyspace, 0))
        assert done == 12
        assert peak <= 3
    finally:
        await consumer.stop()


async def test_a_failure_leaves_the_entry_pending_for_a_later_delivery(env):
    client, keyspace, _ = env
    attempts = []

    async def deliver(message, reply_now):
        attempts.append(message.mid)
        if len(attempts) == 1:
            raise RuntimeError("Redis hiccup while replying")
        return Outcome()

    await put(client, keyspace, agent_message("f1", request_id=""))
    consumer = consumer_for(env, deliver, claim_idle_ms=100)
    await consumer.start()
    try:
        await eventually(lambda: _len(attempts, 1))
        await hold_still(0.2, "the failed entry idle beyond claim_idle_ms (100 ms)")
        await consumer.claim_once()
        await eventually(lambda: backlog_is(client, keyspace, 0))
        assert attempts == ["f1", "f1"]
    finally:
        await consumer.stop()


async def _len(items, n):
    return len(items) >= n


async def test_an_idle_claim_sweep_only_looks_at_pending_summaries(env):
    client, _, _ = env

    async def deliver(message, reply_now):
        return Outcome()

    consumer = consumer_for(env, deliver)
    await consumer.start()
    try:
        before = await client.info("commandstats")
        assert await consumer.claim_once() == 0
        after = await client.info("commandstats")

        def calls(stats, command):
            return int((stats.get(f"cmdstat_{command}") or {}).get("calls", 0))

        # One XPENDING summary per partition; nothing pending, so no XAUTOCLAIM at all.
        assert calls(after, "xautoclaim") == calls(before, "xautoclaim")
        assert calls(after, "xpending") - calls(before, "xpending") == 2
    finally:
        await consumer.stop()
