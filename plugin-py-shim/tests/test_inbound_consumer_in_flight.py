"""One entry is handed to ACA-Py at most once at a time in a process, whoever finds it (reader or claimer)."""

import asyncio
from collections import Counter

from acapy_bridge.partitioning import partition_of
from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge_shim import inbound_in_flight as inbound_consumer
from acapy_bridge_shim.inbound_outcome import Outcome, RetryLater
from tests.test_inbound_consumer import (  # noqa: F401 - env is a fixture
    agent_message,
    backlog_is,
    consumer_for,
    env,
    put,
)
from tests.waiting import eventually, hold_still

P0_KEY = "VerkeyB"
P1_KEY = "VerkeyA"


async def test_an_entry_waiting_for_a_slot_is_not_claimed_into_a_second_task(env):  # noqa: F811
    client, keyspace, _ = env
    assert (partition_of(P0_KEY, 2), partition_of(P1_KEY, 2)) == (0, 1)
    calls: Counter[str] = Counter()
    release = asyncio.Event()

    async def deliver(message: pb.AgentMessage, reply_now) -> Outcome:
        calls[message.mid] += 1
        await release.wait()
        return Outcome()

    # Entries on both partitions: with one slot, the read (one call over both partitions) starts a1
    # and waits with b1 in hand, an entry an idle claim (claim_idle_ms 1) finds as well, together with
    # b2, pending under a consumer that read it before (a dead one, say).
    await put(client, keyspace, agent_message("b2", request_id="", recipient_key=P1_KEY))
    consumer = consumer_for(env, deliver, concurrency=1, claim_idle_ms=1)
    await client.xreadgroup("acapy", "an-earlier-consumer", {keyspace.key("inbound_queue", partition=1): ">"}, count=10)
    await put(client, keyspace, agent_message("a1", request_id="", recipient_key=P0_KEY))
    await put(client, keyspace, agent_message("b1", request_id="", recipient_key=P1_KEY))
    await consumer.start()
    try:
        await eventually(lambda: _called(calls))
        # the read now waits for the slot with its entry of the other partition
        await eventually(lambda: _waiting_for_a_slot(consumer, 1), what="an entry waiting for the slot")
        claim = asyncio.create_task(consumer.claim_once())
        # ... and so does the claim, for the entries it found idle
        await eventually(lambda: _waiting_for_a_slot(consumer, 2), what="the claim waiting for the slot too")
        release.set()
        await asyncio.wait_for(claim, 5)
        await eventually(lambda: backlog_is(client, keyspace, 0))
        await hold_still(0.2, "time for a second delivery of any entry, which must not come")
        assert dict(calls) == {"a1": 1, "b1": 1, "b2": 1}
    finally:
        await consumer.stop()


async def _called(calls) -> bool:
    return sum(calls.values()) > 0


async def _waiting_for_a_slot(consumer, n: int) -> bool:
    return consumer._in_flight.waiting_for_a_slot >= n  # entries found and reserved, waiting for a slot


async def test_an_entry_finished_and_acknowledged_while_a_claim_waits_for_a_slot_is_not_delivered_again(env):  # noqa: F811
    client, keyspace, _ = env
    calls: Counter[str] = Counter()
    x_release = asyncio.Event()
    claim_paused = asyncio.Event()
    resume_claim = asyncio.Event()
    consumer = None

    async def x_acknowledged() -> bool:
        stream = keyspace.key("inbound_queue", partition=partition_of(P0_KEY, 2))
        rows = await client.xpending_range(stream, "acapy", "-", "+", 10)
        pending = {r["message_id"].decode() for r in rows}
        return ids["x"] not in pending and not consumer._acks.holds(stream, ids["x"])

    async def deliver(message: pb.AgentMessage, reply_now) -> Outcome:
        calls[message.mid] += 1
        if message.mid in ("y", "z") and calls[message.mid] == 1:
            raise RetryLater("fails the first time")  # a failed entry: it must be delivered again
        if message.mid == "x" and calls["x"] == 1:
            await x_release.wait()
        if message.mid == "y" and calls["y"] == 2:
            await eventually(x_acknowledged)  # the claim waits for the slot (for z) meanwhile
        return Outcome()

    # y, z, x pending under this consumer (read before a restart). The claim takes its snapshot
    # [y, z, x] before the read loop runs; the read loop then fails y and z, and handles x.
    ids = {}
    for mid in ("y", "z", "x"):
        ids[mid] = await put(client, keyspace, agent_message(mid, request_id="", recipient_key=P0_KEY))
    consumer = consumer_for(env, deliver, concurrency=1, claim_idle_ms=1, max_deliveries=10)
    for key in keyspace.all_partitions("inbound_queue"):
        await client.xreadgroup("acapy", consumer.consumer, {key: ">"}, count=10)
    await hold_still(0.01, "the entries idle beyond claim_idle_ms (1 ms)")

    counts = consumer._delivery_counts

    async def delivery_counts(stream, entry_ids):
        if asyncio.current_task() is claim and not claim_paused.is_set():
            claim_paused.set()  # the claim holds its snapshot: y, z, x
            await resume_claim.wait()
        return await counts(stream, entry_ids)

    consumer._delivery_counts = delivery_counts
    claim = asyncio.create_task(consumer.claim_once())
    await asyncio.wait_for(claim_paused.wait(), 5)
    await consumer.start()
    try:
        await eventually(lambda: _count_is(calls, "x", 1))  # y and z failed, x holds the only slot
        assert dict(calls) == {"y": 1, "z": 1, "x": 1}
        resume_claim.set()  # the claim reserves y and waits for the slot
        await eventually(lambda: _waiting_for_a_slot(consumer, 1), what="the claim waiting for the slot with y")
        x_release.set()  # x finishes; its acknowledgement completes while the claim waits (for z)
        await asyncio.wait_for(claim, 5)
        await eventually(lambda: backlog_is(client, keyspace, 0))
        await hold_still(0.2, "time for a second delivery of x, which must not come")
        assert dict(calls) == {"y": 2, "z": 2, "x": 1}
    finally:
        await consumer.stop()


async def _count_is(calls, mid, n) -> bool:
    return calls[mid] == n


def test_finished_entries_are_remembered_for_a_bounded_time_and_number(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(inbound_consumer.time, "monotonic", lambda: now[0])
    finished = inbound_consumer.RecentlyFinished(ttl_s=10, max_entries=3)
    for key in ("a", "b", "c", "d"):
        finished.add(key)
    assert "a" not in finished and all(k in finished for k in ("b", "c", "d"))  # the oldest forgotten
    now[0] += 5
    finished.add("e")
    now[0] += 6  # b, c, d expired; e is 6 s old
    assert [k for k in ("b", "c", "d", "e") if k in finished] == ["e"]
    assert len(finished) == 1
