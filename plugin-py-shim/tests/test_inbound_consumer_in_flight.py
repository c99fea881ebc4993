"""One entry is handed to ACA-Py at most once at a time in a process, whoever finds it (reader or claimer)."""

import asyncio
from collections import Counter

from acapy_bridge.partitioning import partition_of
from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge_shim.inbound_consumer import Outcome
from tests.test_inbound_consumer import (  # noqa: F401 - env is a fixture
    agent_message,
    backlog_is,
    consumer_for,
    env,
    put,
)
from tests.waiting import eventually

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

    # Three entries on both partitions, pending under this consumer already (read before a restart,
    # say): both read loops start with them, and with one slot the loop that does not get it waits
    # with its entry in hand, an entry an idle claim (claim_idle_ms 1) finds as well.
    await put(client, keyspace, agent_message("a1", request_id="", recipient_key=P0_KEY))
    await put(client, keyspace, agent_message("b1", request_id="", recipient_key=P1_KEY))
    await put(client, keyspace, agent_message("b2", request_id="", recipient_key=P1_KEY))
    consumer = consumer_for(env, deliver, concurrency=1, claim_idle_ms=1)
    for key in keyspace.all_partitions("inbound_queue"):
        await client.xreadgroup("acapy", consumer.consumer, {key: ">"}, count=10)
    await consumer.start()
    try:
        await eventually(lambda: _called(calls))
        await asyncio.sleep(0.1)  # the other read loop now waits for the slot with its first entry
        claim = asyncio.create_task(consumer.claim_once())
        await asyncio.sleep(0.1)  # ... and so does the claim, for the entries it found idle
        release.set()
        await asyncio.wait_for(claim, 5)
        await eventually(lambda: backlog_is(client, keyspace, 0))
        await asyncio.sleep(0.2)
        assert dict(calls) == {"a1": 1, "b1": 1, "b2": 1}
    finally:
        await consumer.stop()


async def _called(calls) -> bool:
    return sum(calls.values()) > 0
