"""An idle shim costs Redis next to nothing: one blocking read over all inbound partitions, not one per partition.

Counted from the server's own INFO commandstats (what the shim sends, with commands inside
scripts) while a shim with 16 inbound partitions waits for messages; real redis-server and
ACA-Py's own inbound machinery (tests/acapy_inbound_harness.py).
"""

import re

import redis.asyncio as redis

from tests.acapy_inbound_harness import Agent
from tests.waiting import eventually, hold_still

IDLE_S = 6.0
# Per second, idle: the blocking read (one per block_ms, 2 s: 0.5), the heartbeat (MULTI, ZADD, SET,
# EXEC every 2 s: 2) and the claim sweep (every 5 s, the live consumers and one XPENDING per
# partition: 3.4); measured 5.5. One blocking read per partition made it 13.4.
MAX_IDLE_CALLS_PER_S = 6.0


def _calls(info: dict) -> int:
    return sum(v["calls"] for k, v in info.items() if not re.match(r"^cmdstat_(info|config)", k))


async def _reader_blocked(stats) -> bool:
    return (await stats.info("clients"))["blocked_clients"] >= 1


async def test_an_idle_shim_makes_few_redis_calls_a_second(redis_server):
    agent = Agent(redis_server.url, plugin={"partitions": {"inbound": 16}})
    await agent.start()
    stats = redis.from_url(redis_server.url)
    try:
        # Past the start (groups, own pending entries): the reader blocks.
        await eventually(lambda: _reader_blocked(stats), what="the shim's read blocking")
        await stats.config_resetstat()
        await hold_still(IDLE_S, "an idle shim")
        info = await stats.info("commandstats")
        per_s = _calls(info) / IDLE_S
        print(f"idle shim: {per_s:.2f} Redis calls/s", {k: v["calls"] for k, v in info.items()})
        assert per_s <= MAX_IDLE_CALLS_PER_S, info
    finally:
        await stats.aclose()
        await agent.stop()
